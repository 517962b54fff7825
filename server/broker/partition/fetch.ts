/**
 * Fetch from a partition at an offset, under either isolation level: stored batches as they are
 * (binary fetch, group polls) or decoded records (JSON fetch, the console). read_committed stops
 * at the last stable offset and skips control batches and aborted transactions' batches. An
 * empty fetch may long-poll: it waits for an append (this process's) or its deadline, and checks
 * the database before answering empty (another process may have appended).
 */
import { BrokerError, unknownTopic } from "../errors.ts";
import type { BrokerEvents } from "../events.ts";
import type { PartitionLog } from "../log/partition-log.ts";
import type { PartitionTxnState } from "../log/partition-txn-state.ts";
import { decodeRecords, readBatchHeader, type FetchedRecord } from "../protocol/record-batch.ts";
import type { StoredBatch } from "../store/log-store.ts";
import { MAX_FETCH_BYTES, MAX_FETCH_RECORDS, MAX_WAIT_MS } from "../../schemas/limits.ts";
import type { TopicMetadataCache } from "./topic-metadata-cache.ts";

export type IsolationLevel = "read_uncommitted" | "read_committed";

export interface FetchOptions {
  offset: number;
  maxRecords?: number;
  maxBytes?: number;
  /** Long-poll: wait up to this long for data when there is none at `offset`. */
  waitMs?: number;
  signal?: AbortSignal;
  /** read_committed: up to the last stable offset, without aborted records (default read_uncommitted). */
  isolation?: IsolationLevel;
  /** Decoded fetches: flag records of aborted transactions (`aborted: true`), e.g. for the console. */
  markAborted?: boolean;
  /**
   * With nothing at `offset` (after the wait), read the partition's row again before answering
   * empty: another process's appends wake no waiter here (default true). A group poll, which
   * fetches again each time an append here wakes it, checks on its last pass only.
   */
  checkStore?: boolean;
}

export interface PartitionWatermarks {
  topic: string;
  partition: number;
  logStartOffset: number;
  highWatermark: number;
  lastStableOffset: number;
}

export interface FetchResult extends PartitionWatermarks {
  records: FetchedRecord[];
  /** The offset to fetch next. */
  nextOffset: number;
}

export interface BatchFetchResult extends PartitionWatermarks {
  batches: StoredBatch[];
  nextOffset: number;
}

export const DEFAULT_FETCH_MAX_BYTES = 1024 * 1024;

export function watermarksOf(log: PartitionLog): PartitionWatermarks {
  return {
    topic: log.topic,
    partition: log.partition,
    logStartOffset: log.logStartOffset,
    highWatermark: log.highWatermark,
    lastStableOffset: log.lastStableOffset,
  };
}

/** The partition's log, `offset` checked against its range, after waiting up to `waitMs` for data there. */
async function positioned(
  cache: TopicMetadataCache,
  topic: string,
  partition: number,
  offset: number,
  waitMs: number,
  signal?: AbortSignal,
  isolation?: IsolationLevel,
  checkStore = true,
): Promise<PartitionLog> {
  const log = await cache.partitionLog(topic, partition);
  const committed = isolation === "read_committed";
  if (isolation !== undefined && isolation !== "read_committed" && isolation !== "read_uncommitted") {
    throw new BrokerError("INVALID_REQUEST", `isolation must be read_committed or read_uncommitted, got ${JSON.stringify(isolation)}`);
  }
  if (!Number.isSafeInteger(offset)) {
    throw new BrokerError("OFFSET_OUT_OF_RANGE", `offset must be an integer, got ${offset}`);
  }
  if (offset < log.logStartOffset || offset > log.highWatermark) {
    // another process may have appended or cleaned: check the database before refusing
    await log.reload();
    if (offset < log.logStartOffset || offset > log.highWatermark) {
      throw new BrokerError(
        "OFFSET_OUT_OF_RANGE",
        `offset ${offset} is out of range for ${topic}-${partition}: valid offsets are ${log.logStartOffset} (log start) to ${log.highWatermark} (high watermark)`,
        { topic, partition, offset, logStartOffset: log.logStartOffset, highWatermark: log.highWatermark },
      );
    }
  }
  if (committed) await log.txnState();
  if (offset >= log.visibleEnd(committed)) {
    if (waitMs > 0) {
      await log.waitFor(offset, Math.min(waitMs, MAX_WAIT_MS), signal, committed);
      if (log.closed) throw unknownTopic(topic);
    }
    // appends of other processes wake no local waiter: check the database before answering empty
    if (checkStore && offset === log.highWatermark && !signal?.aborted) await log.reload();
    if (committed) await log.txnState();
  }
  return log;
}

/**
 * Stored batches from `offset` a read_committed reader may see: below the last stable offset,
 * without control batches and aborted transactions' batches. `next`: where the reader goes on
 * (past what was skipped). Reads on while everything read was skipped (bounded).
 */
async function readCommitted(
  log: PartitionLog,
  state: PartitionTxnState,
  offset: number,
  maxBytes: number,
): Promise<{ batches: StoredBatch[]; next: number }> {
  const lso = log.lastStableOffset;
  let next = offset;
  for (let round = 0; round < 16 && next < lso; round++) {
    const read = await log.read(next, maxBytes);
    if (read.length === 0) break;
    const kept: StoredBatch[] = [];
    for (const b of read) {
      if (b.baseOffset >= lso) break;
      next = Math.max(next, b.lastOffset + 1);
      if (b.isControl || (b.isTransactional && state.isAborted(b.producerId, b.baseOffset))) continue;
      kept.push(b);
    }
    if (kept.length > 0) return { batches: kept, next };
  }
  return { batches: [], next };
}

/** Raw stored batches from `offset` (the first may start before it), for zero-copy readers. */
export async function fetchBatches(
  cache: TopicMetadataCache,
  events: BrokerEvents,
  topic: string,
  partition: number,
  opts: FetchOptions,
): Promise<BatchFetchResult> {
  const maxBytes = clampBytes(opts.maxBytes);
  const log = await positioned(cache, topic, partition, opts.offset, opts.waitMs ?? 0, opts.signal, opts.isolation, opts.checkStore);
  let batches: StoredBatch[];
  let nextOffset: number;
  if (opts.isolation === "read_committed") {
    const r = await readCommitted(log, await log.txnState(), opts.offset, maxBytes);
    batches = r.batches;
    nextOffset = r.next;
  } else {
    batches = await log.read(opts.offset, maxBytes);
    nextOffset = batches.length ? batches[batches.length - 1].lastOffset + 1 : opts.offset;
  }
  // the store held batches another process appended: report a high watermark that covers them
  if (nextOffset > log.highWatermark) await log.reload();
  if (batches.length > 0 && events.listenerCount("fetch") > 0) {
    let recordCount = 0;
    let sizeBytes = 0;
    for (const b of batches) {
      recordCount += b.recordCount;
      sizeBytes += b.sizeBytes;
    }
    events.emit("fetch", { topic, partition, recordCount, sizeBytes });
  }
  return { ...watermarksOf(log), batches, nextOffset };
}

/** Decoded records from `offset`, at most maxRecords / about maxBytes (at least one record). */
export async function fetchRecords(
  cache: TopicMetadataCache,
  events: BrokerEvents,
  topic: string,
  partition: number,
  opts: FetchOptions,
): Promise<FetchResult> {
  const maxRecords = Math.min(Math.max(1, Math.floor(opts.maxRecords ?? 500)), MAX_FETCH_RECORDS);
  const maxBytes = clampBytes(opts.maxBytes);
  const log = await positioned(cache, topic, partition, opts.offset, opts.waitMs ?? 0, opts.signal, opts.isolation, opts.checkStore);
  const committed = opts.isolation === "read_committed" ? await log.txnState() : null;
  const marking = !committed && opts.markAborted ? await log.txnState() : null;
  const records: FetchedRecord[] = [];
  let offset = opts.offset;
  let bytes = 0;
  outer: while (records.length < maxRecords && offset < (committed ? log.lastStableOffset : log.highWatermark)) {
    let batches: StoredBatch[];
    if (committed) {
      const r = await readCommitted(log, committed, offset, maxBytes - bytes);
      batches = r.batches;
      if (batches.length === 0) offset = Math.max(offset, r.next); // all skipped: move past them
    } else {
      batches = await log.read(offset, maxBytes - bytes);
    }
    if (batches.length === 0) break;
    for (const b of batches) {
      if (b.isControl) {
        offset = b.lastOffset + 1;
        continue;
      }
      const h = readBatchHeader(b.payload);
      const aborted = marking !== null && b.isTransactional && marking.isAborted(b.producerId, b.baseOffset);
      for (const r of decodeRecords(b.payload, h)) {
        if (r.offset < offset) continue;
        const size = (r.key?.length ?? 0) + (r.value?.length ?? 0);
        if (records.length > 0 && (records.length >= maxRecords || bytes + size > maxBytes)) break outer;
        records.push(aborted ? { ...r, timestampType: h.timestampType, aborted: true } : { ...r, timestampType: h.timestampType });
        bytes += size;
        offset = r.offset + 1;
      }
      // compaction leaves gaps: continue after the batch even if its last records were removed
      if (records.length < maxRecords) offset = Math.max(offset, b.lastOffset + 1);
    }
    if (bytes >= maxBytes) break;
  }
  // the store held batches another process appended: report a high watermark that covers them
  if (offset > log.highWatermark) await log.reload();
  if (records.length > 0) events.emit("fetch", { topic, partition, recordCount: records.length, sizeBytes: bytes });
  return { ...watermarksOf(log), records, nextOffset: offset };
}

function clampBytes(maxBytes: number | undefined): number {
  const n = maxBytes ?? DEFAULT_FETCH_MAX_BYTES;
  if (!Number.isFinite(n) || n < 1) throw new BrokerError("INVALID_REQUEST", `maxBytes must be a positive integer, got ${maxBytes}`);
  return Math.min(Math.floor(n), MAX_FETCH_BYTES);
}
