/**
 * The log cleaner: retention by time and size (whole batches from the start, advancing the
 * log start offset) and compaction (newest record per key; tombstones dropped after
 * delete.retention.ms; offsets never changed or reordered).
 */
import { decodeRecords, encodeRecordBatch, readBatchHeader, type RecordInput } from "../protocol/record-batch.ts";
import type { PartitionLog } from "./partition-log.ts";
import type { BatchRewrite, LogStore, StoredBatch } from "../store/log-store.ts";
import { deletesByRetention, isCompacted, type TopicConfigs } from "../topic-config.ts";

export interface CleanResult {
  deletedBatches: number;
  compactedRecords: number;
}

/** New log start offset for retention.ms / retention.bytes, or null when nothing expires. */
export function retentionCut(
  batches: Pick<StoredBatch, "baseOffset" | "lastOffset" | "maxTimestamp" | "sizeBytes">[],
  totalBytes: number,
  highWatermark: number,
  configs: TopicConfigs,
  now: number,
): number | null {
  let cut = 0; // number of leading batches to delete
  const ms = configs["retention.ms"];
  if (ms >= 0) {
    const deadline = now - ms;
    while (cut < batches.length && batches[cut].maxTimestamp < deadline) cut++;
  }
  const limit = configs["retention.bytes"];
  if (limit >= 0) {
    let bytes = totalBytes;
    for (let i = 0; i < cut; i++) bytes -= batches[i].sizeBytes;
    while (cut < batches.length && bytes > limit) bytes -= batches[cut++].sizeBytes;
  }
  if (cut === 0) return null;
  return cut < batches.length ? batches[cut].baseOffset : highWatermark;
}

export async function applyRetention(log: PartitionLog, store: LogStore, configs: TopicConfigs, now: number): Promise<number> {
  if (!deletesByRetention(configs)) return 0;
  if (configs["retention.ms"] < 0 && configs["retention.bytes"] < 0) return 0;
  const batches = await store.batchSummaries(log.topicId, log.partition);
  const total = batches.reduce((s, b) => s + b.sizeBytes, 0);
  const cut = retentionCut(batches, total, log.highWatermark, configs, now);
  if (cut === null || cut <= log.logStartOffset) return 0;
  const state = await store.truncateBefore(log.topicId, log.partition, cut);
  if (state) log.refresh(state);
  return batches.filter((b) => b.lastOffset < cut).length;
}

const PAGE = 500;

async function* allBatches(store: LogStore, log: PartitionLog, upTo: number): AsyncGenerator<StoredBatch> {
  let offset = log.logStartOffset;
  while (offset < upTo) {
    const page = await store.readBatches(log.topicId, log.partition, offset, PAGE);
    if (page.length === 0) return;
    for (const b of page) {
      if (b.baseOffset >= upTo) return;
      yield b;
    }
    offset = page[page.length - 1].lastOffset + 1;
  }
}

/**
 * Compacts everything below the last stable offset seen at the start (as Kafka's cleaner stops
 * at the first unstable offset: open transactions are not touched). Keys are compared as raw
 * bytes. Control batches are left alone; batches of aborted transactions are removed and never
 * count as a key's latest value, so an aborted write cannot take a committed value's place.
 */
export async function compact(log: PartitionLog, store: LogStore, configs: TopicConfigs, now: number): Promise<number> {
  if (!isCompacted(configs)) return 0;
  const txn = await log.txnState();
  const upTo = log.lastStableOffset;
  const aborted = (b: { isTransactional: boolean; producerId: number; baseOffset: number }) =>
    b.isTransactional && txn.isAborted(b.producerId, b.baseOffset);
  const latest = new Map<string, number>();
  for await (const b of allBatches(store, log, upTo)) {
    if (b.isControl || aborted(b)) continue;
    for (const r of decodeRecords(b.payload)) {
      if (r.key !== null) latest.set(r.key.toString("latin1"), r.offset);
    }
  }
  const lagDeadline = now - configs["min.compaction.lag.ms"];
  const tombstoneDeadline = now - configs["delete.retention.ms"];
  const rewrites: BatchRewrite[] = [];
  let removed = 0;
  for await (const b of allBatches(store, log, upTo)) {
    if (b.isControl) continue;
    if (aborted(b)) {
      rewrites.push({ baseOffset: b.baseOffset, replacement: null });
      removed += b.recordCount;
      continue;
    }
    const h = readBatchHeader(b.payload);
    const records = decodeRecords(b.payload, h);
    const keep: RecordInput[] = [];
    for (const r of records) {
      const newest = r.key === null || latest.get(r.key.toString("latin1")) === r.offset;
      const young = r.timestamp > lagDeadline;
      const expiredTombstone = newest && r.value === null && r.timestamp < tombstoneDeadline;
      if ((newest && !expiredTombstone) || (young && !newest)) {
        keep.push({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp, offsetDelta: r.offset - b.baseOffset });
      }
    }
    if (keep.length === records.length) continue;
    removed += records.length - keep.length;
    if (keep.length === 0) {
      rewrites.push({ baseOffset: b.baseOffset, replacement: null });
      continue;
    }
    const payload = encodeRecordBatch({
      baseOffset: b.baseOffset,
      records: keep,
      timestampType: h.timestampType,
      logAppendTime: h.maxTimestamp,
      lastOffsetDelta: h.lastOffsetDelta,
      producerId: h.producerId,
      producerEpoch: h.producerEpoch,
      baseSequence: h.baseSequence,
      isTransactional: h.isTransactional,
      partitionLeaderEpoch: h.partitionLeaderEpoch,
    });
    const nh = readBatchHeader(payload);
    rewrites.push({
      baseOffset: b.baseOffset,
      replacement: {
        payload,
        recordCount: keep.length,
        lastOffsetDelta: h.lastOffsetDelta,
        firstTimestamp: nh.firstTimestamp,
        maxTimestamp: nh.maxTimestamp,
        producerId: h.producerId,
        producerEpoch: h.producerEpoch,
        baseSequence: h.baseSequence,
        isTransactional: h.isTransactional,
        isControl: false,
      },
    });
  }
  if (rewrites.length === 0) return 0;
  const state = await store.rewriteBatches(log.topicId, log.partition, rewrites);
  log.cache.clear();
  log.dropReadahead();
  if (state) log.refresh(state);
  return removed;
}
