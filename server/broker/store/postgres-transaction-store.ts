/** TransactionStore on PostgreSQL: one row per transactional id, ids from `producer_id_seq`; text the database cannot store is refused first. */
import type pg from "pg";
import type { StoredTransaction, TransactionStore } from "./transaction-store.ts";
import { checkStorableJson, checkStorableText } from "./storable-text.ts";

export class PostgresTransactionStore implements TransactionStore {
  constructor(private readonly pool: pg.Pool) {}

  async findEntries(): Promise<StoredTransaction[]> {
    const r = await this.pool.query<{ entry: StoredTransaction }>("SELECT entry FROM transactions ORDER BY transactional_id");
    return r.rows.map((x) => x.entry);
  }

  async saveEntry(entry: StoredTransaction): Promise<void> {
    checkStorableText("transactionalId", entry.transactionalId);
    checkStorableJson("transaction", entry);
    await this.pool.query(
      `INSERT INTO transactions (transactional_id, producer_id, producer_epoch, state, entry, updated_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, now())
       ON CONFLICT (transactional_id) DO UPDATE
         SET producer_id = EXCLUDED.producer_id, producer_epoch = EXCLUDED.producer_epoch,
             state = EXCLUDED.state, entry = EXCLUDED.entry, updated_at = now()`,
      [entry.transactionalId, entry.producerId, entry.producerEpoch, entry.state, JSON.stringify(entry)],
    );
  }

  async deleteEntry(transactionalId: string): Promise<void> {
    checkStorableText("transactionalId", transactionalId);
    await this.pool.query("DELETE FROM transactions WHERE transactional_id = $1", [transactionalId]);
  }

  async reserveProducerIds(count: number): Promise<number[]> {
    const r = await this.pool.query<{ id: string }>("SELECT nextval('producer_id_seq')::text AS id FROM generate_series(1, $1::int)", [
      count,
    ]);
    return r.rows.map((x) => Number(x.id));
  }
}
