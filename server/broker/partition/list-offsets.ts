/**
 * ListOffsets: per partition the log start offset (earliest), the high watermark or, under
 * read_committed, the last stable offset (latest), or the first offset at or after a timestamp.
 */
import { BrokerError } from "../errors.ts";
import type { PartitionLog } from "../log/partition-log.ts";
import { decodeRecords } from "../protocol/record-batch.ts";
import type { LogStore } from "../store/log-store.ts";
import type { IsolationLevel } from "./fetch.ts";
import type { TopicMetadataCache } from "./topic-metadata-cache.ts";

export interface ListedOffset {
  partition: number;
  offset: number | null;
  timestamp: number | null;
}

export type OffsetSpec = "earliest" | "latest" | { timestamp: number };

/**
 * Per partition: the log start offset (earliest), the high watermark (latest), or the first
 * offset whose timestamp is >= t (null when there is none).
 */
export async function listOffsets(
  cache: TopicMetadataCache,
  topic: string,
  spec: OffsetSpec,
  partitions?: number[],
  isolation?: IsolationLevel,
): Promise<ListedOffset[]> {
  const t = await cache.topic(topic);
  const logs = partitions ? await Promise.all(partitions.map((p) => cache.partitionLog(topic, p))) : t.logs;
  // other processes may have appended or cleaned: answer from the database's partition rows
  const rows = new Map((await cache.store.findPartitions(t.record.id)).map((r) => [r.partition, r]));
  for (const log of logs) {
    const row = rows.get(log.partition);
    if (row) log.refresh(row);
  }
  return Promise.all(
    logs.map(async (log): Promise<ListedOffset> => {
      if (spec === "earliest") return { partition: log.partition, offset: log.logStartOffset, timestamp: null };
      if (spec === "latest") {
        if (isolation !== "read_committed") return { partition: log.partition, offset: log.highWatermark, timestamp: null };
        await log.txnState();
        return { partition: log.partition, offset: log.lastStableOffset, timestamp: null };
      }
      if (!Number.isSafeInteger(spec.timestamp)) {
        throw new BrokerError("INVALID_TIMESTAMP", `timestamp must be epoch milliseconds, got ${spec.timestamp}`);
      }
      return { partition: log.partition, ...(await firstAtOrAfter(cache.store, log, spec.timestamp)) };
    }),
  );
}

/** The first record whose timestamp is >= ts (batches are found by their max timestamp). */
async function firstAtOrAfter(
  store: LogStore,
  log: PartitionLog,
  ts: number,
): Promise<{ offset: number | null; timestamp: number | null }> {
  let after = log.logStartOffset;
  for (;;) {
    const b = await store.findBatchForTimestamp(log.topicId, log.partition, ts, after);
    if (!b) return { offset: null, timestamp: null };
    for (const r of decodeRecords(b.payload)) {
      if (r.offset >= after && r.timestamp >= ts) return { offset: r.offset, timestamp: r.timestamp };
    }
    after = b.lastOffset + 1; // compaction removed the record that set max_timestamp
  }
}
