/**
 * DeleteRecords (Kafka's admin `deleteRecords`, KIP-107): moves a partition's log start offset
 * forward to a given offset, so nothing before it can be read again, and deletes the stored
 * batches that lie wholly before it (a batch the new start cuts through stays stored; its
 * records below the start are never returned). The offset may be at most the high watermark;
 * -1 means the high watermark. What consumers then see is retention's outcome: a committed
 * offset below the new start is out of range and resets by `auto.offset.reset`.
 */
import { BrokerError } from "../errors.ts";
import type { TopicMetadataCache } from "./topic-metadata-cache.ts";

/** One partition to cut: every record before `offset` goes (-1: the high watermark). */
export interface DeleteRecordsTarget {
  partition: number;
  offset: number;
}

export interface DeletedRecords {
  partition: number;
  /** the partition's log start offset afterwards */
  lowWatermark: number;
}

export async function deleteRecords(cache: TopicMetadataCache, topic: string, targets: DeleteRecordsTarget[]): Promise<DeletedRecords[]> {
  const t = await cache.topic(topic);
  const seen = new Set<number>();
  for (const { partition } of targets) {
    if (seen.has(partition)) throw new BrokerError("INVALID_REQUEST", `partition ${partition} is named twice`, { partition });
    seen.add(partition);
  }
  const logs = await Promise.all(targets.map((x) => cache.partitionLog(topic, x.partition)));
  // other processes may have appended or cleaned: judge against the database's partition rows
  const rows = new Map((await cache.store.findPartitions(t.record.id)).map((r) => [r.partition, r]));
  for (const log of logs) {
    const row = rows.get(log.partition);
    if (row) log.refresh(row);
  }
  // every target is checked before anything is deleted: a bad one deletes nothing
  const cuts = targets.map(({ partition, offset }, i) => {
    const log = logs[i];
    const to = offset === -1 ? log.highWatermark : offset;
    if (!Number.isSafeInteger(to) || to < 0 || to > log.highWatermark)
      throw new BrokerError(
        "OFFSET_OUT_OF_RANGE",
        `cannot delete records of partition ${partition} before offset ${offset}: it must be within [0, ${log.highWatermark}] (the high watermark), or -1 for the high watermark`,
        { topic, partition, logStartOffset: log.logStartOffset, highWatermark: log.highWatermark },
      );
    return { log, to };
  });
  const out: DeletedRecords[] = [];
  for (const { log, to } of cuts) {
    if (to > log.logStartOffset) {
      const state = await cache.store.truncateBefore(log.topicId, log.partition, to);
      if (state) log.refresh(state);
    }
    out.push({ partition: log.partition, lowWatermark: log.logStartOffset });
  }
  return out;
}
