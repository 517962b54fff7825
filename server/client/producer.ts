/**
 * A batching producer, as Kafka's clients batch: records accumulate per partition until
 * `batchBytes` or `lingerMs`, are encoded as Kafka RecordBatch v2 on the client, and are sent
 * on the binary path (no JSON per record). Keys are partitioned with Kafka's murmur2.
 */
import { encodeRecordBatch, estimateRecordSize, type RecordHeader, type RecordInput } from "../broker/log/record-batch.ts";
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

interface Pending {
  records: RecordInput[];
  bytes: number;
  waiters: { resolve(m: RecordMetadata): void; reject(e: unknown): void; index: number }[];
  timer: NodeJS.Timeout | null;
}

const toBuf = (v: Buffer | string | null | undefined) => (v == null ? null : typeof v === "string" ? Buffer.from(v) : v);

export class Producer {
  private readonly batchBytes: number;
  private readonly lingerMs: number;
  private readonly maxInFlight: number;
  private partitionsOf = new Map<string, number>();
  private pending = new Map<string, Pending>();
  private inFlight = new Map<string, number>();
  private queued = new Map<string, (() => void)[]>();
  private sticky = new Map<string, StickyPartitioner>();
  private sends = new Set<Promise<void>>();

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

  /** Queues a record; resolves with its partition and offset once the broker committed it. */
  async send(topic: string, record: ProducerRecord): Promise<RecordMetadata> {
    const n = this.partitionsOf.get(topic) ?? (await this.partitions(topic));
    const key = toBuf(record.key);
    const value = toBuf(record.value);
    const input: RecordInput = { key, value, headers: record.headers ?? [], timestamp: record.timestamp ?? Date.now() };
    const size = estimateRecordSize(input);
    let partition = record.partition;
    if (partition === undefined) {
      if (key) partition = partitionForKey(key, n);
      else {
        let s = this.sticky.get(topic);
        if (!s) this.sticky.set(topic, (s = new StickyPartitioner()));
        partition = s.next(n, size);
      }
    }
    const id = `${topic}\u0000${partition}`;
    let p = this.pending.get(id);
    if (!p) {
      p = { records: [], bytes: 0, waiters: [], timer: null };
      this.pending.set(id, p);
    }
    const batch = p;
    const result = new Promise<RecordMetadata>((resolve, reject) => batch.waiters.push({ resolve, reject, index: batch.records.length }));
    batch.records.push(input);
    batch.bytes += size;
    if (batch.bytes >= this.batchBytes) this.dispatch(topic, partition, id);
    else if (!batch.timer) batch.timer = setTimeout(() => this.dispatch(topic, partition, id), this.lingerMs);
    return result;
  }

  private dispatch(topic: string, partition: number, id: string): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (p.timer) clearTimeout(p.timer);
    const run = this.withSlot(id, () => this.sendBatch(topic, partition, p));
    this.sends.add(run);
    void run.finally(() => this.sends.delete(run));
  }

  private async withSlot(id: string, fn: () => Promise<void>): Promise<void> {
    while ((this.inFlight.get(id) ?? 0) >= this.maxInFlight) {
      await new Promise<void>((r) => {
        const q = this.queued.get(id) ?? [];
        q.push(r);
        this.queued.set(id, q);
      });
    }
    this.inFlight.set(id, (this.inFlight.get(id) ?? 0) + 1);
    try {
      await fn();
    } finally {
      this.inFlight.set(id, (this.inFlight.get(id) ?? 1) - 1);
      this.queued.get(id)?.shift()?.();
    }
  }

  private async sendBatch(topic: string, partition: number, p: Pending): Promise<void> {
    try {
      const body = encodeRecordBatch({ baseOffset: 0, records: p.records });
      const res = await fetch(`${this.opts.baseUrl}/api/v1/topics/${encodeURIComponent(topic)}/records?partition=${partition}`, {
        method: "POST",
        headers: { "content-type": "application/vnd.kafka.record-batch" },
        body: body as unknown as BodyInit,
      });
      if (!res.ok) await raiseFor(res);
      const r = (await res.json()) as { baseOffset: number };
      for (const w of p.waiters) w.resolve({ partition, offset: r.baseOffset + w.index });
    } catch (e) {
      for (const w of p.waiters) w.reject(e);
    }
  }

  /** Sends everything queued and waits for it. */
  async flush(): Promise<void> {
    for (const id of [...this.pending.keys()]) {
      const [topic, partition] = id.split("\u0000");
      this.dispatch(topic, Number(partition), id);
    }
    while (this.sends.size > 0) await Promise.allSettled([...this.sends]);
  }
}
