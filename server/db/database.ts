/**
 * Database bootstrap: the PostgreSQL named by DATABASE_URL, or the embedded one in the data
 * folder. Either way the rest of the server gets one `pg` pool (hot paths) and one Prisma
 * client on top of the same pool (metadata), with migrations applied.
 */
import type { Duplex } from "node:stream";
import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/prisma/client.ts";
import { startEmbeddedPostgres } from "./embedded-postgres.ts";
import { applyMigrations } from "./migrate.ts";

// BIGINT columns come back as JS numbers: offsets and timestamps stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));

export interface DatabaseOptions {
  /** A postgres:// URL; when absent the embedded database in `dataDir` is used. */
  databaseUrl?: string;
  dataDir: string;
  poolSize?: number;
}

export interface Database {
  kind: "postgres" | "embedded";
  pool: pg.Pool;
  prisma: PrismaClient;
  close(): Promise<void>;
}

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  let url = opts.databaseUrl;
  let stopEmbedded: (() => Promise<void>) | undefined;
  let max = opts.poolSize ?? 10;
  let stream: (() => Duplex) | undefined;
  if (!url) {
    const embedded = await startEmbeddedPostgres(opts.dataDir);
    url = embedded.url;
    stream = embedded.connect;
    stopEmbedded = embedded.stop;
    max = Math.min(max, embedded.maxConnections);
  }
  const pool = new pg.Pool({ connectionString: url, stream, max, idleTimeoutMillis: 0 });
  // A dropped connection must not crash the process; the next query reconnects.
  pool.on("error", () => undefined);
  try {
    await applyMigrations(pool);
  } catch (e) {
    await pool.end().catch(() => undefined);
    await stopEmbedded?.();
    throw e;
  }
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    kind: stopEmbedded ? "embedded" : "postgres",
    pool,
    prisma,
    async close() {
      await prisma.$disconnect().catch(() => undefined);
      await pool.end().catch(() => undefined);
      await stopEmbedded?.();
    },
  };
}
