/**
 * Applies the SQL migrations in prisma/migrations at start-up, recording them in Prisma's own
 * `_prisma_migrations` table with Prisma's checksum (SHA-256 of migration.sql), so that
 * `prisma migrate deploy` on a machine that can run the Prisma CLI sees the same history.
 * An advisory lock keeps two processes starting on one database from racing.
 */
import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type pg from "pg";

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../prisma/migrations");
const LOCK_KEY = 7_270_736_901;

export class MigrationError extends Error {
  readonly code = "MIGRATION_FAILED";
}

export async function applyMigrations(pool: pg.Pool, dir = MIGRATIONS_DIR): Promise<string[]> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query("SELECT pg_advisory_lock($1)", [LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum" VARCHAR(64) NOT NULL,
      "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL,
      "logs" TEXT,
      "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`);
    const done = await client.query<{ migration_name: string; checksum: string }>(
      `SELECT migration_name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    );
    const doneByName = new Map(done.rows.map((r) => [r.migration_name, r.checksum]));
    for (const name of names) {
      const sql = await readFile(path.join(dir, name, "migration.sql"), "utf8");
      const checksum = createHash("sha256").update(sql).digest("hex");
      const previous = doneByName.get(name);
      if (previous !== undefined) {
        if (previous !== checksum) {
          throw new MigrationError(`migration ${name} was changed after it was applied (checksum differs)`);
        }
        continue;
      }
      await client.query("BEGIN");
      try {
        await client.query(sql);
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count)
           VALUES ($1, $2, now(), $3, 1)`,
          [randomUUID(), checksum, name],
        );
        await client.query("COMMIT");
        applied.push(name);
      } catch (e) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw new MigrationError(`migration ${name} failed: ${(e as Error).message}`);
      }
    }
  } finally {
    // a connection that cannot unlock is dropped: its session (and the lock) ends with it
    const broken = await client.query("SELECT pg_advisory_unlock($1)", [LOCK_KEY]).then(
      () => undefined,
      (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
    );
    client.release(broken);
  }
  return applied;
}
