/**
 * The group consumer's fetch runner: polls the member's partitions on the binary path and runs
 * the handlers. Per partition, handlers run one at a time in offset order (so per-key order
 * holds); different partitions run concurrently, and fetching goes on while they do, until
 * maxBufferedRecords fetched records (or maxBufferedBytes of their keys and values) wait for
 * their handlers; a poll asks for about the stored bytes of maxBufferedRecords records. A handler
 * that throws is retried on the same record after retryBackoffMs (its partition does not move
 * past it). eachBatch calls may overlap (batchesInFlight): the next batch is handed over while
 * the previous call runs. Positions are those of processed records (not fetched ones): a crash
 * re-delivers, never skips (at-least-once).
 */
import { splitGroupPoll, type ClientTransport, type PolledPart } from "./transport.ts";
import type { Batch, Message, RunOptions } from "./consumer-types.ts";
import type { OffsetManager } from "./offset-manager.ts";
import { bytesOfMessage, StoredMessage } from "./stored-message.ts";
import type { GroupMember } from "../group-member/group-member.ts";
import { keyOf, type TopicPartition } from "../group-member/topic-partitions.ts";
import { forEachRecord, readBatchHeader, type RecordHeader } from "../broker/protocol/record-batch.ts";

export interface FetchOptions {
  transport: ClientTransport;
  groupId: string;
  maxRecords: number;
  maxBytes: number;
  waitMs: number;
  maxBufferedRecords: number;
  maxBufferedBytes: number;
  retryBackoffMs: number;
  /** eachBatch calls of one partition running at once (see ConsumerOptions.batchesInFlight) */
  batchesInFlight: number;
  /** messages read their key and value from the stored batch (see ConsumerOptions.storedMessages) */
  storedMessages: boolean;
}

/** One partition's fetched records and its handler chain. */
interface PartitionQueue {
  topic: string;
  partition: number;
  status: "active" | "revoking";
  /** Fetched, not yet processed; in offset order. */
  buffer: Message[];
  /** the bytes of the keys and values in `buffer` */
  bytes: number;
  /** The handler chain, while it runs (settled otherwise). */
  processing: Promise<void> | null;
  draining: boolean;
  /** set while the chain waits with room for another batch: more records were buffered */
  wake: (() => void) | null;
}

/** An eachBatch call not yet taken off its partition's buffer. */
interface BatchInFlight {
  count: number;
  position: number;
  settled: Promise<void>;
  /** set once the call settled: null when it resolved */
  outcome: { error: Error | null } | null;
}

/** One poll's records and the positions it moved, under the membership it was made in. */
interface Polled {
  incarnation: number;
  records: Message[];
  positions: { topic: string; partition: number; offset: number }[];
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });

/** A poll asks for at least this many bytes (a stored batch comes whole however large it is). */
const MIN_POLL_BYTES = 64 * 1024;
/** Stored bytes per record assumed until a poll brought records (a small record's, so the first poll is not the largest). */
const FIRST_BYTES_PER_RECORD = 32;

/** The power of two nearest to n on a log scale (n >= 1): within √2 of it. */
const pow2 = (n: number) => 2 ** Math.round(Math.log2(n));

export class FetchRunner {
  private readonly queues = new Map<string, PartitionQueue>();
  private progressWaiters: (() => void)[] = [];
  /** stored bytes per record in the last poll that brought records, to size a poll in bytes to maxBufferedRecords */
  private bytesPerRecord = FIRST_BYTES_PER_RECORD;

  constructor(
    private readonly member: GroupMember,
    private readonly offsets: OffsetManager,
    private readonly opts: FetchOptions,
    private readonly handlers: RunOptions,
    private readonly running: () => boolean,
    private readonly stopSignal: AbortSignal,
    private readonly onError: (e: Error) => void,
  ) {}

  /** New partitions: consumed from now on. */
  assign(partitions: readonly TopicPartition[]): void {
    for (const { topic, partition } of partitions) {
      this.queues.set(keyOf(topic, partition), {
        topic,
        partition,
        status: "active",
        buffer: [],
        bytes: 0,
        processing: null,
        draining: false,
        wake: null,
      });
      this.offsets.assign({ topic, partition });
    }
  }

  /** Stops consuming the partitions; resolves once the records in hand are processed. */
  async drain(partitions: readonly TopicPartition[]): Promise<void> {
    const queues = partitions.map((tp) => this.queues.get(keyOf(tp.topic, tp.partition))).filter((q) => q !== undefined);
    for (const q of queues) q.status = "revoking";
    await Promise.allSettled(queues.map((q) => q.processing));
  }

  remove(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) {
      this.queues.delete(keyOf(tp.topic, tp.partition));
      this.offsets.remove(tp);
    }
  }

  /**
   * Fetches while fewer than maxBufferedRecords wait to be processed; each partition's records
   * are processed by its own chain, so one busy partition does not hold up the others' fetches.
   */
  async run(): Promise<void> {
    while (this.running()) {
      if (this.bufferedRecords() >= this.opts.maxBufferedRecords || this.bufferedBytes() >= this.opts.maxBufferedBytes) {
        await this.processed();
        continue;
      }
      if ((await this.pollOnce()) === "ended") break;
    }
  }

  /**
   * One poll, its records added to their partitions' buffers. A call of its own, so that run()
   * holds no poll while it waits for room: a variable of run()'s kept the last poll's records
   * alive (its saved registers, seen in a heap snapshot) after they were processed, ~70,000 of
   * them in a pipeline building a store (`npm run bench`, stream-restore).
   */
  private async pollOnce(): Promise<"polled" | "ended"> {
    let polled: Polled | null;
    try {
      polled = await this.member.poll(() => this.poll());
    } catch (e) {
      if (!this.running()) return "ended";
      this.onError(e as Error);
      await sleep(this.opts.retryBackoffMs, this.stopSignal);
      return "polled";
    }
    if (!polled || polled.incarnation !== this.member.incarnation) {
      if (this.member.ended) return "ended";
      // skipped (another operation waits, or the member is rejoining or leaving): let that run first
      await new Promise<void>((r) => setImmediate(r));
      return "polled";
    }
    const touched = new Set<PartitionQueue>();
    // a poll's records come partition by partition: the queue is looked up as the partition changes, not per record
    let q: PartitionQueue | undefined;
    let qTopic = "";
    let qPartition = -1;
    for (const r of polled.records) {
      if (r.partition !== qPartition || r.topic !== qTopic) {
        q = this.queues.get(keyOf(r.topic, r.partition));
        qTopic = r.topic;
        qPartition = r.partition;
        if (q?.status === "active") touched.add(q);
      }
      // polls run in step with the member's replies, so records come only for partitions it owns;
      // one being revoked is left to its next owner, from the last processed position
      if (q?.status !== "active") continue;
      q.buffer.push(r);
      q.bytes += bytesOfMessage(r);
    }
    for (const p of polled.positions) {
      const q = this.queues.get(keyOf(p.topic, p.partition));
      if (q?.status !== "active") continue;
      // nothing left to process (only markers or aborted records moved it): the position moves now
      this.offsets.fetched(p.topic, p.partition, p.offset, q.buffer.length === 0);
    }
    for (const q of touched) this.startChain(q);
    return "polled";
  }

  private bufferedBytes(): number {
    let n = 0;
    for (const q of this.queues.values()) if (q.status === "active") n += q.bytes;
    return n;
  }

  private bufferedRecords(): number {
    let n = 0;
    for (const q of this.queues.values()) if (q.status === "active") n += q.buffer.length;
    return n;
  }

  /** Resolves when a handler finished something (or soon anyway, or on stop). */
  private processed(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.progressWaiters.push(resolve);
      void sleep(100, this.stopSignal).then(resolve);
    });
  }

  private progress(): void {
    for (const w of this.progressWaiters.splice(0)) w();
  }

  /** Polls on the binary path (in the member's queue): the stored batches of its partitions, decoded here. */
  private async poll(): Promise<Polled> {
    const incarnation = this.member.incarnation;
    // long polls end well before the next heartbeat is due: it waits behind them in the queue
    const waitMs = Math.max(0, Math.min(this.opts.waitMs, Math.floor(this.member.heartbeatIntervalMs / 2)));
    const parts = await this.opts.transport.pollGroup(
      this.opts.groupId,
      this.member.memberId ?? "",
      { maxRecords: this.opts.maxRecords, maxBytes: this.pollBytes(), waitMs },
      this.stopSignal,
    );
    const polled = decodePolledParts(parts, this.opts.storedMessages);
    if (polled.records.length > 0) {
      let stored = 0;
      for (const p of parts) for (const b of p.batches) stored += b.length;
      this.bytesPerRecord = stored / polled.records.length;
    }
    return { incarnation, ...polled };
  }

  /**
   * The bytes a poll asks for: about the stored size of maxBufferedRecords records, within
   * [MIN_POLL_BYTES, maxBytes], so the records buffered stay under about 2.5 times the bound
   * (fetching stops at it; one more poll of up to √2 times as many, and a stored batch, may come).
   * A poll of maxBytes alone brings maxBytes / (record size) records: 4 MiB of 40-byte records is
   * 100,000 of them, held decoded (~300 B of heap each) far past the bound.
   * Rounded to a power of two and not sized to the room left: the size stays the same from poll
   * to poll, so a partition read from the store finds the read made ahead for it (sized to the
   * room, a client-driven pipeline went from 570–650k to 440–530k records/s).
   */
  private pollBytes(): number {
    return Math.min(this.opts.maxBytes, Math.max(MIN_POLL_BYTES, pow2(this.opts.maxBufferedRecords * this.bytesPerRecord)));
  }

  /**
   * Starts (unless running) the partition's chain: the handler over its buffer, in order, until
   * the buffer is empty, the partition is revoked or the consumer stops. A failed record stays
   * at the head of the buffer and is retried after retryBackoffMs.
   */
  private startChain(q: PartitionQueue): void {
    if (q.draining) {
      q.wake?.();
      return;
    }
    q.draining = true;
    const run = async () => {
      const h = this.handlers;
      if (h.eachBatch) return this.runBatches(q, h.eachBatch);
      while (q.buffer.length > 0 && q.status === "active" && this.running()) {
        try {
          const message = q.buffer[0];
          await h.eachMessage!({ topic: q.topic, partition: q.partition, message, memberEpoch: this.member.memberEpoch });
          q.buffer.shift();
          q.bytes -= bytesOfMessage(message);
          this.offsets.processed(
            q.topic,
            q.partition,
            this.offsets.positionAfter(q.topic, q.partition, message.offset, q.buffer.length > 0),
          );
          this.progress();
        } catch (e) {
          this.onError(e as Error);
          setTimeout(() => this.startChain(q), this.opts.retryBackoffMs).unref();
          return;
        }
      }
    };
    q.processing = run().finally(() => {
      q.draining = false;
      this.progress();
    });
  }

  /**
   * The eachBatch chain of a partition: hands over what is buffered (past the batches in flight)
   * while fewer than batchesInFlight calls run, and takes the oldest off the buffer as it
   * resolves. A rejected call stops the chain once the later ones settled; it starts again after
   * retryBackoffMs from the failed batch's first record.
   */
  private async runBatches(q: PartitionQueue, eachBatch: NonNullable<RunOptions["eachBatch"]>): Promise<void> {
    const inFlight: BatchInFlight[] = [];
    let handedOver = 0;
    for (;;) {
      const active = q.status === "active" && this.running();
      if (active && inFlight.length < this.opts.batchesInFlight && q.buffer.length > handedOver) {
        const batch = this.batchOf(q, handedOver);
        handedOver += batch.messages.length;
        const f: BatchInFlight = { count: batch.messages.length, position: batch.position, settled: Promise.resolve(), outcome: null };
        f.settled = (async () => {
          try {
            await eachBatch({
              topic: q.topic,
              partition: q.partition,
              messages: batch.messages,
              batch,
              position: batch.position,
              memberEpoch: this.member.memberEpoch,
              isActive: () => q.status === "active" && this.running(),
            });
            f.outcome = { error: null };
          } catch (e) {
            f.outcome = { error: e as Error };
          }
        })();
        inFlight.push(f);
        continue;
      }
      while (inFlight[0]?.outcome) {
        const f = inFlight.shift()!;
        if (f.outcome!.error) {
          // the records from this batch on stay buffered: handed over again, in order
          await Promise.all(inFlight.map((later) => later.settled));
          this.onError(f.outcome!.error);
          setTimeout(() => this.startChain(q), this.opts.retryBackoffMs).unref();
          return;
        }
        for (const m of q.buffer.splice(0, f.count)) q.bytes -= bytesOfMessage(m);
        handedOver -= f.count;
        this.offsets.processed(q.topic, q.partition, f.position);
        this.progress();
      }
      if (inFlight.length === 0) {
        if (active && q.buffer.length > 0) continue;
        return;
      }
      const room = active && inFlight.length < this.opts.batchesInFlight;
      await Promise.race(room ? [inFlight[0].settled, new Promise<void>((r) => (q.wake = r))] : [inFlight[0].settled]);
      q.wake = null;
    }
  }

  /** What the partition has buffered from `from` on, with the position after it (past markers that follow). */
  private batchOf(q: PartitionQueue, from = 0): Batch {
    const messages = q.buffer.slice(from);
    const first = messages[0].offset;
    const last = messages[messages.length - 1].offset;
    const position = this.offsets.positionAfter(q.topic, q.partition, last, false);
    return { topic: q.topic, partition: q.partition, messages, firstOffset: () => first, lastOffset: () => last, position };
  }
}

/** The records of a binary group poll (see decodeGroupPollParts). */
export function decodeGroupPoll(body: Buffer): Message[] {
  return decodeGroupPollParts(body).records;
}

/** A binary group poll's body (see server/api/poll-group-record-batches.ts), decoded (see decodePolledParts). */
export function decodeGroupPollParts(body: Buffer): ReturnType<typeof decodePolledParts> {
  return decodePolledParts(splitGroupPoll(body));
}

/** The headers of every record without any: one shared, frozen array, not one per record. */
const NO_HEADERS: readonly RecordHeader[] = Object.freeze([]);

/**
 * A group poll's records: records of a part's first batch before its `fromOffset` and control
 * batches (transaction markers) are skipped. `positions`: each part's next offset, past markers.
 * `stored`: as `StoredMessage`s (key and value read from the batch when asked for), not plain
 * messages with a view of each made now.
 */
export function decodePolledParts(
  parts: readonly PolledPart[],
  stored = false,
): {
  records: Message[];
  positions: { topic: string; partition: number; offset: number }[];
} {
  const out: Message[] = [];
  for (const part of parts) {
    for (const bytes of part.batches) {
      let at = 0;
      while (at < bytes.length) {
        const h = readBatchHeader(bytes, at);
        const batch = bytes.subarray(at, at + h.sizeBytes);
        at += h.sizeBytes;
        if (h.isControl) continue;
        forEachRecord(batch, h, part.fromOffset, (v) => {
          const headers = v.headerCount === 0 ? NO_HEADERS : v.headers();
          if (stored) {
            out.push(
              new StoredMessage(
                part.topic,
                part.partition,
                v.offset,
                v.timestamp,
                h.timestampType,
                headers,
                batch,
                v.keyStart,
                v.keyLength,
                v.valueStart,
                v.valueLength,
              ),
            );
            return;
          }
          out.push({
            topic: part.topic,
            partition: part.partition,
            offset: v.offset,
            timestamp: v.timestamp,
            timestampType: h.timestampType,
            key: v.key,
            value: v.value,
            headers,
          });
        });
      }
    }
  }
  return { records: out, positions: parts.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.nextOffset })) };
}
