/** Durable transaction coordinator state (Kafka's __transaction_state) and producer id blocks. */
import type { TxnEntrySnapshot } from "../txn/transaction-coordinator.ts";

export interface TransactionStore {
  /** Every stored transactional id's entry. */
  findEntries(): Promise<TxnEntrySnapshot[]>;
  /** Upserts one id's entry (the latest snapshot wins; callers serialise writes per id). */
  saveEntry(entry: TxnEntrySnapshot): Promise<void>;
  deleteEntry(transactionalId: string): Promise<void>;
  /** `count` fresh producer ids, unique across every process on this database. */
  reserveProducerIds(count: number): Promise<number[]>;
}
