/**
 * The ceiling: PostgreSQL itself ingesting the same bytes with COPY, through `pg` and
 * pg-copy-streams, into tables (id bigint, payload bytea) of a fresh scratch database that is
 * dropped on close. Fast path: COPY ... FROM STDIN (FORMAT binary), 10,000 rows per COPY
 * statement (one autocommit transaction each), rows encoded in 1,000-row buffers written with
 * stream backpressure; one connection per producer; partition p is table records_p, and a
 * producer sends its COPY batches to the partitions round-robin. Consume is
 * COPY records_0 TO STDOUT (FORMAT binary) parsed row by row (heap order = insertion order for
 * one producer). There is no latency figure: COPY has no subscription path, and LISTEN/NOTIFY
 * or logical decoding would be a different system.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import pg from "pg";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";
import { ADMIN_URL } from "../../testing/databases.ts";
import type { ConsumeOptions, Peer, ProduceOptions } from "./types.ts";
import { leftBehind, split, uniqueId } from "./common.ts";

const COPY_ROWS = 10_000;
const CHUNK_ROWS = 1000;
const DB_PREFIX = "tributary_bench_copy_";
const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");

async function adminQuery<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 2000 });
  c.on("error", () => {});
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Binary COPY rows (id, payload) for ids [first, first + count), in CHUNK_ROWS-row buffers. */
function* copyRows(first: number, count: number, size: number): Generator<Buffer> {
  const tuple = 2 + 4 + 8 + 4 + size;
  const header = Buffer.alloc(19);
  SIGNATURE.copy(header, 0);
  yield header; // signature, flags 0, header extension length 0
  const template = Buffer.alloc(tuple * CHUNK_ROWS);
  for (let r = 0; r < CHUNK_ROWS; r++) {
    const o = r * tuple;
    template.writeInt16BE(2, o);
    template.writeInt32BE(8, o + 2);
    template.writeInt32BE(size, o + 14);
    template.fill(120, o + 18, o + tuple);
  }
  for (let done = 0; done < count;) {
    const rows = Math.min(CHUNK_ROWS, count - done);
    const chunk = Buffer.from(template.subarray(0, rows * tuple));
    for (let r = 0; r < rows; r++) chunk.writeBigInt64BE(BigInt(first + done + r), r * tuple + 6);
    done += rows;
    yield chunk;
  }
  yield Buffer.from([0xff, 0xff]); // trailer
}

/** Counts the rows of a binary COPY TO stream and checks that every payload has `size` bytes. */
async function countRows(stream: AsyncIterable<Buffer>, size: number): Promise<number> {
  let rows = 0;
  let pending: Buffer = Buffer.alloc(0);
  let headerDone = false;
  for await (const chunk of stream) {
    const buf: Buffer = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let o = 0;
    if (!headerDone) {
      if (buf.length < 19) {
        pending = buf;
        continue;
      }
      o = 19 + buf.readInt32BE(15);
      headerDone = true;
    }
    for (;;) {
      if (buf.length - o < 2) break;
      const fields = buf.readInt16BE(o);
      if (fields === -1) {
        o += 2;
        break;
      }
      // Two fields: id (8 bytes) and payload.
      if (buf.length - o < 2 + 4 + 8 + 4) break;
      const len = buf.readInt32BE(o + 14);
      if (buf.length - o < 18 + Math.max(len, 0)) break;
      if (fields !== 2 || len !== size) throw new Error(`postgres: unexpected row (fields ${fields}, payload ${len} bytes)`);
      o += 18 + len;
      rows++;
    }
    pending = buf.subarray(o);
  }
  return rows;
}

export class PostgresCopyPeer implements Peer {
  name = "postgres-copy";
  fastPath = `pg + pg-copy-streams: COPY FROM STDIN (FORMAT binary), ${COPY_ROWS.toLocaleString("en-US")} rows per COPY (one transaction each), one connection per producer, one table per partition; consume: COPY TO STDOUT (FORMAT binary); no latency path`;
  private dbName: string | null = null;
  private dbUrl: string | null = null;
  private tables: string[] = [];
  private lastTables: string[] = [];

  private async database(): Promise<string> {
    if (!this.dbUrl) {
      const name = `${DB_PREFIX}${uniqueId().replace(/-/g, "_")}`;
      await adminQuery(async (c) => {
        // Scratch databases left behind by a benchmark process that crashed.
        const { rows } = await c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1", [`${DB_PREFIX}%`]);
        for (const { datname } of rows)
          if (leftBehind(datname, DB_PREFIX)) await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
        await c.query(`CREATE DATABASE "${name}"`);
      });
      this.dbName = name;
      const url = new URL(ADMIN_URL);
      url.pathname = `/${name}`;
      this.dbUrl = url.toString();
    }
    return this.dbUrl;
  }

  private async client(): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: await this.database() });
    c.on("error", () => {});
    await c.connect();
    return c;
  }

  async available(): Promise<boolean> {
    try {
      await adminQuery((c) => c.query("SELECT 1"));
      await this.database();
      return true;
    } catch {
      return false;
    }
  }

  async durability(): Promise<string> {
    const settings = await adminQuery(async (c) => {
      const { rows } = await c.query<{ name: string; setting: string }>(
        "SELECT name, setting FROM pg_settings WHERE name IN ('server_version', 'fsync', 'synchronous_commit', 'wal_sync_method', 'full_page_writes')",
      );
      return Object.fromEntries(rows.map((r) => [r.name, r.setting]));
    });
    const flushed = settings.fsync === "on" && settings.synchronous_commit !== "off";
    return (
      `PostgreSQL ${settings.server_version}: each COPY of ${COPY_ROWS.toLocaleString("en-US")} rows is one transaction into a logged table; ` +
      `commit returns after the WAL is flushed (fsync=${settings.fsync}, synchronous_commit=${settings.synchronous_commit}, ` +
      `wal_sync_method=${settings.wal_sync_method}, full_page_writes=${settings.full_page_writes})` +
      (flushed ? "" : " — with these settings commits do NOT wait for the WAL flush") +
      " (read from pg_settings)"
    );
  }

  async produce(opts: ProduceOptions): Promise<{ ms: number }> {
    await this.cleanup();
    const setup = await this.client();
    const id = uniqueId().replace(/-/g, "_");
    const tables = Array.from({ length: opts.partitions }, (_, p) => `records_${id}_${p}`);
    this.tables = tables;
    this.lastTables = tables;
    try {
      for (const t of tables) await setup.query(`CREATE TABLE "${t}" (id bigint, payload bytea)`);
    } finally {
      await setup.end();
    }
    const conns = await Promise.all(Array.from({ length: opts.producers }, () => this.client()));
    try {
      const shares = split(opts.records, opts.producers);
      const t0 = performance.now();
      await Promise.all(
        shares.map(async (n, producer) => {
          const c = conns[producer];
          let next = shares.slice(0, producer).reduce((a, b) => a + b, 0);
          let batch = producer;
          for (let done = 0; done < n;) {
            const rows = Math.min(COPY_ROWS, n - done);
            const table = tables[batch++ % opts.partitions];
            await pipeline(
              Readable.from(copyRows(next, rows, opts.size)),
              c.query(copyFrom(`COPY "${table}" (id, payload) FROM STDIN (FORMAT binary)`)),
            );
            next += rows;
            done += rows;
          }
        }),
      );
      return { ms: performance.now() - t0 };
    } finally {
      await Promise.all(conns.map((c) => c.end()));
    }
  }

  async consume(opts: ConsumeOptions): Promise<{ ms: number }> {
    const tables = this.lastTables.slice(0, opts.partitions);
    const c = await this.client();
    try {
      const t0 = performance.now();
      let rows = 0;
      for (const t of tables) rows += await countRows(c.query(copyTo(`COPY "${t}" (id, payload) TO STDOUT (FORMAT binary)`)), opts.size);
      const ms = performance.now() - t0;
      if (rows !== opts.records) throw new Error(`postgres: read ${rows} rows, expected ${opts.records}`);
      return { ms };
    } finally {
      await c.end();
    }
  }

  async latency(): Promise<null> {
    return null;
  }

  async cleanup(): Promise<void> {
    if (this.tables.length === 0) return;
    const c = await this.client();
    try {
      for (const t of this.tables) await c.query(`DROP TABLE IF EXISTS "${t}"`);
    } finally {
      await c.end();
    }
    this.tables = [];
  }

  async close(): Promise<void> {
    const name = this.dbName;
    this.dbName = this.dbUrl = null;
    this.tables = [];
    if (name) await adminQuery((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  }
}
