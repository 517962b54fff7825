/**
 * The embedded PostgreSQL used when no DATABASE_URL is given: PGlite (Postgres compiled to
 * WASM) in a data folder, served over the Postgres wire protocol on a loopback port so the
 * broker talks to it through the same `pg` driver and SQL as to a real server.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

export interface EmbeddedPostgres {
  url: string;
  /** PGlite runs one query at a time in one session: the pool must not exceed this. */
  maxConnections: number;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  const dir = path.resolve(dataDir, "pgdata");
  await mkdir(path.dirname(dir), { recursive: true });
  const db = await PGlite.create(dir);
  // One connection: PGlite has a single backend session, so several client connections would
  // share (and collide on) prepared statements and session state.
  const maxConnections = 1;
  // port 0: the OS picks a free loopback port, so several instances can run side by side.
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections });
  await server.start();
  const conn = server.getServerConn();
  return {
    url: `postgres://postgres@${conn}/postgres?sslmode=disable`,
    maxConnections,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
