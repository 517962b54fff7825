/**
 * A batching producer, as Kafka's clients batch: records accumulate per partition until
 * `batchBytes` or `lingerMs`, written straight into a Kafka RecordBatch v2 buffer on the client
 * (no per-record objects kept), and are sent on the binary path (no JSON per record). Keys are
 * partitioned with Kafka's murmur2. `send` acknowledges one record, `sendMany` a list (as
 * kafkajs's `send({messages})`), each once the broker committed it.
 */
import { RecordBatchWriter } from "../broker/log/batch-writer.ts";
import type { RecordHeader } from "../broker/log/record-batch.ts";
import { partitionForKey } from "../broker/log/murmur2.ts";
import { StickyPartitioner } from "../broker/log/partitioner.ts";
import { callJson, raiseFor } from "./http-client.ts";

export interface ProducerOptions {
  baseUrl: string;
  /** Send a partition's batch once it holds this many bytes (Kafka's batch.size is 16 KiB). */
  batchBytes?: number;
  /** Or once its first record waited this long (Kafka's linger.ms). */
  lingerMs?: number;
  /** Requests in flight per partition. */
  maxInFlight?: number;
  /**
   * KIP-98 idempotence: the producer gets a producer id, numbers its batches per partition and
   * retries failed or reordered requests with the same bytes; the broker stores each batch once.
   */
  idempotent?: boolean;
  /** Retries of one batch (idempotent producers only). Default 5. */
  retries?: number;
}

export interface ProducerRecord {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: RecordHeader[];
  timestamp?: number;
  partition?: number;
}

export interface RecordMetadata {
  partition: number;
  offset: number;
}

/** Records [firstIndex, firstIndex + count) of a batch, acknowledged together. */
interface Waiter {
  firstIndex: number;
  count: number;
  done(baseOffset: number): void;
  fail(e: unknown): void;
}

interface Pending {
  writer: RecordBatchWriter;
  waiters: Waiter[];
  timer: NodeJS.Timeout | null;
  /** Lingered long enough: send as soon as a request slot is free (it keeps filling until then). */
  ready: boolean;
}

const toBuf = (v: Buffer | string | null | undefined) => (v == null ? null : typeof v === "string" ? Buffer.from(v) : v);

export class Producer {
  private readonly batchBytes: number;
  private readonly lingerMs: number;
  private readonly maxInFlight: number;
  private partitionsOf = new Map<string, number>();
  /** The open batch per partition: records are appended to it until it is sent. */
  private pending = new Map<string, Pending>();
  /** Full batches per partition waiting for a request slot, oldest first. */
  private closed = new Map<string, Pending[]>();
  private inFlight = new Map<string, number>();
  private sticky = new Map<string, StickyPartitioner>();
  private sends = new Set<Promise<void>>();

  /** Idempotence: the producer id and epoch (from POST /api/v1/producers) and the next sequence per partition. */
  private identity: Promise<{ producerId: number; producerEpoch: number }> | null = null;
  private resolvedIdentity: { producerId: number; producerEpoch: number } | null = null;
  private sequences = new Map<string, number>();

  constructor(private readonly opts: ProducerOptions) {
    this.batchBytes = opts.batchBytes ?? 16_384;
    this.lingerMs = opts.lingerMs ?? 5;
    this.maxInFlight = opts.maxInFlight ?? 5;
  }

  private metadata = new Map<string, Promise<number>>();

  /** Partition count of a topic, looked up once (concurrent sends share the lookup). */
  private partitions(topic: string): Promise<number> {
    let p = this.metadata.get(topic);
    if (!p) {
      p = callJson<{ partitions: unknown[] }>(this.opts.baseUrl, "GET", `/api/v1/topics/${encodeURIComponent(topic)}`).then(
        (t) => {
          this.partitionsOf.set(topic, t.partitions.length);
          return t.partitions.length;
        },
      );
      p.catch(() => this.metadata.delete(topic));
      this.metadata.set(topic, p);
    }
    return p;
  }

  private partitionOf(topic: string, n: number, key: Buffer | null, record: ProducerRecord, size: number): number {
    if (record.partition !== undefined) return record.partition;
    if (key) return partitionForKey(key, n);
    let s = this.sticky.get(topic);
    if (!s) this.sticky.set(topic, (s = new StickyPartitioner()));
    return s.next(n, size);
  }

  /** Writes one record into its partition's open batch; returns the batch and the record's index in it. */
  private append(topic: string, partition: number, key: Buffer | null, value: Buffer | null, record: ProducerRecord): { batch: Pending; index: number; id: string } {
    const id = `${topic}\u0000${partition}`;
    let batch = this.pending.get(id);
    const timestamp = record.timestamp ?? Date.now();
    if (batch && !batch.writer.tryAppend(key, value, record.headers, timestamp)) {
      this.close(id, batch);
      this.drain(topic, partition, id);
      batch = undefined;
    } else if (batch) {
      return { batch, index: batch.writer.count - 1, id };
    }
    batch = { writer: new RecordBatchWriter(this.batchBytes), waiters: [], timer: null, ready: false };
    this.pending.set(id, batch);
    batch.writer.tryAppend(key, value, record.headers, timestamp);
    return { batch, index: 0, id };
  }

  /** Sends the batch when full, or arms its linger timer. */
  private schedule(topic: string, partition: number, id: string, batch: Pending): void {
    if (this.pending.get(id) !== batch) return;
    if (!batch.writer.hasRoomFor(64)) {
      this.close(id, batch);
      this.drain(topic, partition, id);
    } else if (!batch.timer && !batch.ready) {
      batch.timer = setTimeout(() => {
        batch.timer = null;
        batch.ready = true;
        this.drain(topic, partition, id);
      }, this.lingerMs);
    }
  }

  /** Queues a record; resolves with its partition and offset once the broker committed it. */
  send(topic: string, record: ProducerRecord): Promise<RecordMetadata> {
    if (this.opts.idempotent && !this.resolvedIdentity) return this.initIdentity().then(() => this.send(topic, record));
    const n = this.partitionsOf.get(topic);
    if (n === undefined) return this.partitions(topic).then(() => this.send(topic, record));
    const key = toBuf(record.key);
    const value = toBuf(record.value);
    const partition = this.partitionOf(topic, n, key, record, (key?.length ?? 0) + (value?.length ?? 0));
    const { batch, index, id } = this.append(topic, partition, key, value, record);
    const result = new Promise<RecordMetadata>((resolve, reject) =>
      batch.waiters.push({ firstIndex: index, count: 1, done: (base) => resolve({ partition, offset: base + index }), fail: reject }),
    );
    this.schedule(topic, partition, id, batch);
    return result;
  }

  /** Queues many records (one acknowledgement for all of them, in order). */
  async sendMany(topic: string, records: readonly ProducerRecord[]): Promise<RecordMetadata[]> {
    if (this.opts.idempotent && !this.resolvedIdentity) await this.initIdentity();
    const n = this.partitionsOf.get(topic) ?? (await this.partitions(topic));
    const out = new Array<RecordMetadata>(records.length);
    const acks: Promise<void>[] = [];
    // Consecutive records in the same open batch share one waiter. It is registered with the
    // run's first record (before that batch can be dispatched); `count` grows with the run and
    // is only read when the broker acknowledges the batch.
    type Run = { batch: Pending; partition: number; firstIndex: number; count: number; outStart: number };
    let run: Run | null = null;
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      const key = toBuf(record.key);
      const value = toBuf(record.value);
      const partition = this.partitionOf(topic, n, key, record, (key?.length ?? 0) + (value?.length ?? 0));
      const { batch, index, id } = this.append(topic, partition, key, value, record);
      if (run && run.batch === batch && run.partition === partition) run.count++;
      else {
        const r: Run = { batch, partition, firstIndex: index, count: 1, outStart: i };
        run = r;
        acks.push(
          new Promise<void>((resolve, reject) =>
            r.batch.waiters.push({
              firstIndex: index,
              count: 1,
              done: (base) => {
                for (let j = 0; j < r.count; j++) out[r.outStart + j] = { partition: r.partition, offset: base + r.firstIndex + j };
                resolve();
              },
              fail: reject,
            }),
          ),
        );
      }
      this.schedule(topic, partition, id, batch);
    }
    await Promise.all(acks);
    return out;
  }

  /** Moves the open batch to the partition's queue of batches to send. */
  private close(id: string, batch: Pending): void {
    if (this.pending.get(id) === batch) this.pending.delete(id);
    if (batch.timer) clearTimeout(batch.timer);
    batch.timer = null;
    let q = this.closed.get(id);
    if (!q) this.closed.set(id, (q = []));
    q.push(batch);
  }

  /**
   * Sends what is due while request slots are free: queued full batches first, then the open
   * batch once it lingered. As in Kafka's accumulator, a lingered batch that finds no free slot
   * stays open and keeps filling, so a busy broker gets fewer, larger requests.
   */
  private drain(topic: string, partition: number, id: string): void {
    for (;;) {
      if ((this.inFlight.get(id) ?? 0) >= this.maxInFlight) return;
      let batch = this.closed.get(id)?.shift();
      if (!batch) {
        const open = this.pending.get(id);
        if (!open?.ready) return;
        this.pending.delete(id);
        batch = open;
      }
      this.inFlight.set(id, (this.inFlight.get(id) ?? 0) + 1);
      const b = batch;
      const run = this.sendBatch(topic, partition, b).finally(() => {
        this.inFlight.set(id, (this.inFlight.get(id) ?? 1) - 1);
        this.sends.delete(run);
        this.drain(topic, partition, id);
      });
      this.sends.add(run);
    }
  }

  private initIdentity(): Promise<{ producerId: number; producerEpoch: number }> {
    if (!this.identity) {
      this.identity = callJson<{ producerId: number; producerEpoch: number }>(this.opts.baseUrl, "POST", "/api/v1/producers", {}).then((id) => {
        this.resolvedIdentity = id;
        return id;
      });
      this.identity.catch(() => (this.identity = null));
    }
    return this.identity;
  }

  private async sendBatch(topic: string, partition: number, p: Pending): Promise<void> {
    try {
      // Sequences are assigned here, synchronously, in the order drain() sends a partition's batches.
      let opts = {};
      const id = this.resolvedIdentity;
      if (this.opts.idempotent && id) {
        const key = `${topic}\u0000${partition}`;
        const baseSequence = this.sequences.get(key) ?? 0;
        this.sequences.set(key, (baseSequence + p.writer.count) % 2 ** 31);
        opts = { producerId: id.producerId, producerEpoch: id.producerEpoch, baseSequence };
      }
      const body = p.writer.finish(opts);
      const retries = this.opts.idempotent ? (this.opts.retries ?? 5) : 0;
      for (let attempt = 0; ; attempt++) {
        try {
          const res = await fetch(`${this.opts.baseUrl}/api/v1/topics/${encodeURIComponent(topic)}/records?partition=${partition}`, {
            method: "POST",
            headers: { "content-type": "application/vnd.kafka.record-batch" },
            body: body as unknown as BodyInit,
          });
          if (!res.ok) await raiseFor(res);
          const r = (await res.json()) as { baseOffset: number };
          for (const w of p.waiters) w.done(r.baseOffset);
          return;
        } catch (e) {
          // Idempotent batches are safe to resend as they are: a network failure, or a batch that
          // overtook its predecessor on another connection (OUT_OF_ORDER), is retried.
          const code = (e as { code?: string }).code;
          const retriable = e instanceof TypeError || code === "OUT_OF_ORDER_SEQUENCE_NUMBER" || code === "BROKER_NOT_AVAILABLE";
          if (attempt >= retries || !retriable) throw e;
          await new Promise((r) => setTimeout(r, 10 * 2 ** attempt));
        }
      }
    } catch (e) {
      for (const w of p.waiters) w.fail(e);
    }
  }

  /** Sends everything queued and waits for it. */
  async flush(): Promise<void> {
    for (const [id, batch] of [...this.pending]) {
      const [topic, partition] = id.split("\u0000");
      if (batch.timer) clearTimeout(batch.timer);
      batch.timer = null;
      batch.ready = true;
      this.drain(topic, Number(partition), id);
    }
    while (this.sends.size > 0 || [...this.closed.values()].some((q) => q.length > 0) || [...this.pending.values()].some((b) => b.ready)) {
      if (this.sends.size === 0) break; // nothing in flight can free a slot: cannot happen, but never spin
      await Promise.allSettled([...this.sends]);
    }
  }
}
