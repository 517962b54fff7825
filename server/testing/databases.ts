/**
 * Fresh databases for tests: every call makes a new database on the PostgreSQL server at
 * TRIBUTARY_TEST_POSTGRES_URL (default 127.0.0.1:5432), or a new embedded data folder, so test
 * runs never see each other's data.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { openDatabase, type Database } from "../db/database.ts";

export type DatabaseKind = "embedded" | "postgres";
export const DATABASE_KINDS: DatabaseKind[] = ["embedded", "postgres"];

export const ADMIN_URL = process.env.TRIBUTARY_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface ScratchDatabase {
  kind: DatabaseKind;
  /** Set for "postgres": the URL of the fresh database. */
  url?: string;
  /** Set for "embedded": the data folder. */
  dataDir: string;
  drop(): Promise<void>;
}

export async function createScratchDatabase(kind: DatabaseKind): Promise<ScratchDatabase> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "tributary-test-"));
  if (kind === "embedded") {
    return { kind, dataDir, drop: () => rm(dataDir, { recursive: true, force: true }) };
  }
  const name = `tributary_test_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    kind,
    url: url.toString(),
    dataDir,
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function openScratch(s: ScratchDatabase): Promise<Database> {
  return openDatabase({ databaseUrl: s.url, dataDir: s.dataDir });
}
