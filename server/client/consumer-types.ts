/** The public types of the group consumer (`Consumer`): options, messages, handlers and events. */
import type { TopicPartition } from "../group-member/topic-partitions.ts";
import type { ClientTransport } from "./transport.ts";

export type AssignorName = "sticky" | "range" | "roundrobin" | "round-robin" | "uniform" | "cooperative-sticky";
export type AutoOffsetReset = "earliest" | "latest" | "none";

export interface ConsumerOptions {
  baseUrl: string;
  /** How requests reach the broker: the REST API at baseUrl unless given (see transport.ts). */
  transport?: ClientTransport;
  groupId: string;
  clientId?: string;
  assignor?: AssignorName;
  /** Where to start on partitions the group has no committed offset for (default latest). */
  autoOffsetReset?: AutoOffsetReset;
  /** Commit processed positions every autoCommitIntervalMs, on revocation and on stop (default true). */
  autoCommit?: boolean;
  autoCommitIntervalMs?: number;
  /** How long the broker lets this member take to give up revoked partitions. */
  rebalanceTimeoutMs?: number;
  /** Per poll (default 500). */
  maxRecords?: number;
  maxBytes?: number;
  /** Long-poll wait (default 1000; capped at half the heartbeat interval). */
  waitMs?: number;
  /** Fetching pauses while this many fetched records wait for their handlers (default 4 × maxRecords). */
  maxBufferedRecords?: number;
  /**
   * Fetching pauses while the fetched records waiting for their handlers hold this many bytes of
   * keys and values (default 64 MiB): with large records, what maxBufferedRecords alone would
   * let a consumer hold (50,000 records of 1 MiB) is bounded in memory too.
   */
  maxBufferedBytes?: number;
  /** Wait after a failed request or a handler error before trying again (default 500). */
  retryBackoffMs?: number;
  /**
   * `eachBatch` calls of one partition that may be running at once (default 1). With 2, the
   * next batch (the records fetched meanwhile) is handed over while the previous call has not
   * finished — a handler that processes synchronously and resolves once its transaction
   * committed overlaps its processing with the commit. Calls still start in offset order and
   * complete in order: a partition moves past a batch only once it and every batch before it
   * resolved; when one rejects, the calls after it are waited for and every record from the
   * failed batch on is handed over again (also those of later calls that resolved:
   * at-least-once).
   */
  batchesInFlight?: number;
  /**
   * Messages read their key and value from the stored batch they were fetched in, as they are
   * asked for (`StoredMessage`: a view on each read), instead of a view of each made as it is
   * fetched (default false). For handlers that read the bytes by range (`StoredMessage.batch`,
   * `keyStart`, …): no Buffer per record. `key` and `value` are then getters, which spreading a
   * message or `JSON.stringify` leaves out.
   */
  storedMessages?: boolean;
  /**
   * read_committed: polls deliver only records of committed transactions (and non-transactional
   * ones), up to the last stable offset; read_uncommitted (the broker's default) delivers
   * everything up to the high watermark, aborted transactional records included.
   */
  isolationLevel?: IsolationLevel;
}

export type IsolationLevel = "read_committed" | "read_uncommitted";

/**
 * What a transactional producer needs to commit this consumer's positions in its transaction
 * (Kafka's ConsumerGroupMetadata): pass it to `Producer.sendOffsetsToTransaction`.
 */
export interface GroupMetadata {
  groupId: string;
  memberId: string;
  memberEpoch: number;
}

export type Subscription = { topics: string[]; topicPattern?: undefined } | { topicPattern: string | RegExp; topics?: undefined };

export type { TopicPartition };

export interface MessageHeader {
  key: string;
  value: Buffer | null;
}

export interface Message {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  timestampType: string;
  key: Buffer | null;
  value: Buffer | null;
  /** read only: records without headers share one (frozen) empty array */
  headers: readonly MessageHeader[];
}

export interface EachMessagePayload {
  topic: string;
  partition: number;
  message: Message;
  /** The member epoch the partition is held at. */
  memberEpoch: number;
}

/** Fetched records of one partition, in offset order, handed to `eachBatch`. */
export interface Batch {
  topic: string;
  partition: number;
  messages: Message[];
  /** The offset of the first message. */
  firstOffset(): number;
  /** The offset of the last message. */
  lastOffset(): number;
  /**
   * The consumer's position once this batch is processed: the offset to commit for it (in
   * `sendOffsetsToTransaction` or `commitOffsets`). It is past the last message and past any
   * transaction markers or aborted records that follow it, so it may exceed `lastOffset() + 1`:
   * committing `lastOffset() + 1` instead leaves lag 1 after a transaction's commit marker.
   */
  position: number;
}

export interface EachBatchPayload {
  topic: string;
  partition: number;
  messages: Message[];
  /** The batch, with the position to commit once it is processed. */
  batch: Batch;
  /** The same as `batch.position`. */
  position: number;
  memberEpoch: number;
  /** False once the partition is being revoked or the consumer is stopping. */
  isActive(): boolean;
}

export interface RunOptions {
  eachMessage?: (payload: EachMessagePayload) => Promise<void> | void;
  eachBatch?: (payload: EachBatchPayload) => Promise<void> | void;
}

export type RevokeReason =
  /** The broker moved it elsewhere: processed, committed, then released. */
  | "revoked"
  /** The member was fenced or expired: dropped without a commit (it may have a new owner already). */
  | "lost"
  /** stop()/disconnect(): processed, committed, then the member left. */
  | "stopped";

export interface AssignedEvent {
  memberId: string;
  memberEpoch: number;
  partitions: TopicPartition[];
  /** Everything owned after the change. */
  assignment: TopicPartition[];
}

export interface RevokedEvent {
  memberId: string;
  memberEpoch: number;
  partitions: TopicPartition[];
  assignment: TopicPartition[];
  reason: RevokeReason;
}

export interface RebalanceEvent {
  memberId: string;
  memberEpoch: number;
  assignment: TopicPartition[];
}

export interface JoinedEvent {
  memberId: string;
  memberEpoch: number;
  /** Why this join happened: the first one, or after being fenced/expired. */
  reason: "start" | "rejoin";
}

export interface CommitEvent {
  memberId: string;
  memberEpoch: number;
  offsets: { topic: string; partition: number; offset: number }[];
}

export interface ConsumerEvents {
  joined: JoinedEvent;
  assigned: AssignedEvent;
  revoked: RevokedEvent;
  /** After every change of the owned partitions (an assignment or a revocation). */
  rebalance: RebalanceEvent;
  commit: CommitEvent;
  /** Failed requests, handler errors; the consumer keeps going (it retries). */
  error: Error;
  left: { memberId: string };
}

export type Listener<T> = (event: T) => void;
