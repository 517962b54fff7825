/**
 * What the broker needs from durable storage. The Postgres implementation is the only place
 * that speaks SQL for the broker; another backend (or a Kafka-protocol proxy) implements this.
 */
import type { BatchColumns, BatchToAppend } from "../protocol/record-batch.ts";

// The batch is the protocol's type (the client, the log and the store share it); re-exported so
// the storage interface reads whole from this file.
export type { BatchToAppend };

export interface TopicRecord {
  id: string;
  name: string;
  partitions: number;
  /** Overrides only; defaults are applied by the broker. */
  configs: Record<string, unknown>;
  createdAt: Date;
}

export interface PartitionRecord {
  partition: number;
  /** The high watermark: the offset the next appended record gets. */
  nextOffset: number;
  logStartOffset: number;
  recordCount: number;
  sizeBytes: number;
}

export interface StoredBatch extends BatchColumns {
  baseOffset: number;
  lastOffset: number;
  sizeBytes: number;
  /** RecordBatch v2 bytes with the real base offset written in. */
  payload: Buffer;
  /**
   * The payload as the pieces it was read in (joined, they are `payload`), when it was read that
   * way: binary fetches write them out as they are, and `payload` joins them only when used.
   */
  payloadParts?: readonly Buffer[];
}

/** A batch's bytes as pieces to write in order (its payload's parts, or the payload itself). */
export function payloadPartsOf(b: StoredBatch): readonly Buffer[] {
  return b.payloadParts ?? [b.payload];
}

export interface ProducerBatchRow extends Pick<
  BatchColumns,
  "maxTimestamp" | "producerId" | "producerEpoch" | "baseSequence" | "isTransactional" | "isControl"
> {
  baseOffset: number;
  lastOffset: number;
  payload?: Buffer;
}

export interface AppendOutcome {
  /** Base offset of the first batch; batches follow contiguously. */
  baseOffset: number;
  /** The partition row after the append (it may include other processes' appends). */
  state: PartitionRecord;
}

/** Kept for a rewrite of one batch during compaction. */
export interface BatchRewrite {
  baseOffset: number;
  /** null: delete the batch (no records left). */
  replacement: BatchToAppend | null;
}

export interface LogStore {
  createTopic(topic: TopicRecord): Promise<void>;
  findTopics(): Promise<TopicRecord[]>;
  findTopic(name: string): Promise<TopicRecord | null>;
  deleteTopic(id: string): Promise<void>;
  addPartitions(id: string, from: number, to: number): Promise<void>;
  updateConfigs(id: string, configs: Record<string, unknown>): Promise<void>;
  findPartitions(topicId: string): Promise<PartitionRecord[]>;
  findPartition(topicId: string, partition: number): Promise<PartitionRecord | null>;

  /**
   * Appends batches to a partition in one transaction, assigning contiguous offsets under the
   * partition row's lock. Returns null when the partition no longer exists.
   */
  append(topicId: string, partition: number, batches: BatchToAppend[]): Promise<AppendOutcome | null>;
  /**
   * Batches holding offsets >= fromOffset, in offset order: at most maxBatches, and no more than
   * maxBytes in total except that the first batch is always included.
   */
  readBatches(topicId: string, partition: number, fromOffset: number, maxBatches: number, maxBytes?: number): Promise<StoredBatch[]>;
  /** The first batch (in offset order) whose max timestamp is >= timestamp. */
  findBatchForTimestamp(topicId: string, partition: number, timestamp: number, afterOffset: number): Promise<StoredBatch | null>;

  /** A new producer id, unique across every process on this database. */
  nextProducerId(): Promise<number>;
  /**
   * Batches written by idempotent or transactional producers from `fromOffset`, oldest first,
   * to rebuild producer state (payloads only for control batches).
   */
  producerBatches(topicId: string, partition: number, fromOffset: number): Promise<ProducerBatchRow[]>;

  /** Retention: deletes whole batches before `newLogStartOffset` and advances the log start. */
  truncateBefore(topicId: string, partition: number, newLogStartOffset: number): Promise<PartitionRecord | null>;
  /** Batch metadata (no payloads) for retention decisions, oldest first. */
  batchSummaries(topicId: string, partition: number): Promise<Omit<StoredBatch, "payload">[]>;
  /** Compaction: replaces or deletes batches in place, keeping offsets; one transaction. */
  rewriteBatches(topicId: string, partition: number, rewrites: BatchRewrite[]): Promise<PartitionRecord | null>;
}
