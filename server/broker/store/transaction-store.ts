/**
 * Durable transaction coordinator state (Kafka's __transaction_state) and producer id blocks. The
 * stored record is declared here, by the store that keeps it; the coordinator (txn/) builds it.
 */

export interface TxnTopicPartition {
  topic: string;
  partition: number;
}

/** A group offset sent to a transaction (KIP-447), committed with it. */
export interface TxnOffset {
  topic: string;
  partition: number;
  /** The next offset to consume, as in a normal offset commit. */
  offset: number;
  metadata: string | null;
}

export interface GroupOffsetsToCommit {
  groupId: string;
  offsets: TxnOffset[];
}

export type EndReason = "client" | "timeout" | "fenced" | "recovery" | "operator";

/** What the broker must do to finish a transaction (kept in the record until done: redone after a crash). */
export interface EndTxnPlan {
  transactionalId: string;
  /** Markers carry this producer id and epoch. */
  producerId: number;
  producerEpoch: number;
  coordinatorEpoch: number;
  commit: boolean;
  reason: EndReason;
  /** Write one marker into each (sorted). */
  partitions: TxnTopicPartition[];
  /** Commit only: upsert these into the groups' committed offsets. */
  groupOffsets: GroupOffsetsToCommit[];
  /** A retried EndTxn of a transaction already completed this way: nothing to write, just reply. */
  alreadyComplete: boolean;
}

/** One transactional id's stored entry (plain JSON, one row per id). */
export interface StoredTransaction {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  timeoutMs: number;
  /** A state of the coordinator's transition table (txn/txn-states.ts), checked when loaded. */
  state: string;
  partitions: TxnTopicPartition[];
  pendingOffsets: GroupOffsetsToCommit[];
  startedAt: number | null;
  lastUpdatedAt: number;
  pendingEnd: EndTxnPlan | null;
  /** The producer id/epoch whose transaction the coordinator aborted on timeout. */
  fencedByTimeout: { producerId: number; producerEpoch: number } | null;
  lastResult: { commit: boolean; reason: EndReason; completedAt: number } | null;
}

export interface TransactionStore {
  /** Every stored transactional id's entry. */
  findEntries(): Promise<StoredTransaction[]>;
  /** Upserts one id's entry (the latest snapshot wins; callers serialise writes per id). */
  saveEntry(entry: StoredTransaction): Promise<void>;
  deleteEntry(transactionalId: string): Promise<void>;
  /** `count` fresh producer ids, unique across every process on this database. */
  reserveProducerIds(count: number): Promise<number[]>;
}
