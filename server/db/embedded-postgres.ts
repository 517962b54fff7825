/**
 * The embedded PostgreSQL used when no DATABASE_URL is given: PGlite (Postgres compiled to
 * WASM) in a data folder, served over the Postgres wire protocol on a loopback port so the
 * broker talks to it through the same `pg` driver and SQL as to a real server.
 */
import { readFileSync } from "node:fs";
import { mkdir, open, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

export interface EmbeddedPostgres {
  url: string;
  /** PGlite runs one query at a time in one session: the pool must not exceed this. */
  maxConnections: number;
  stop(): Promise<void>;
}

/** Data folders this process has open. */
const openHere = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  // A killed server whose parent (the supervisor) died too stays a zombie where nothing reaps
  // orphans (a container's init): it holds no files, so its lock is stale.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true; // no /proc: trust kill(pid, 0)
  }
}

/**
 * PGlite takes no lock on its folder: two processes on one folder each run their own copy of
 * the database and silently lose the other's writes. A pid file (like postmaster.pid) refuses a
 * second process; one left behind by a process that is gone (a crash) is taken over.
 */
async function lockDataFolder(folder: string): Promise<() => Promise<void>> {
  const file = path.join(folder, "tributary.pid");
  if (openHere.has(folder)) throw new Error(`the embedded database in ${folder} is already open in this process`);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, "wx");
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      openHere.add(folder);
      return async () => {
        openHere.delete(folder);
        await rm(file, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = Number((await readFile(file, "utf8").catch(() => "")).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new Error(
          `the embedded database in ${folder} is in use by process ${pid}; stop that process first ` +
            `(if no Tributary runs on this folder, delete ${file})`,
        );
      }
      await rm(file, { force: true }); // left by a process that is gone
    }
  }
  throw new Error(`could not lock the embedded database folder ${folder} (${file})`);
}

export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  const dir = path.resolve(dataDir, "pgdata");
  await mkdir(path.dirname(dir), { recursive: true });
  const unlock = await lockDataFolder(path.dirname(dir));
  let db: PGlite;
  try {
    db = await PGlite.create(dir);
  } catch (e) {
    await unlock();
    throw e;
  }
  // One connection: PGlite has a single backend session, so several client connections would
  // share (and collide on) prepared statements and session state.
  const maxConnections = 1;
  // port 0: the OS picks a free loopback port, so several instances can run side by side.
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections });
  try {
    await server.start();
  } catch (e) {
    await db.close().catch(() => undefined);
    await unlock();
    throw e;
  }
  const conn = server.getServerConn();
  return {
    url: `postgres://postgres@${conn}/postgres?sslmode=disable`,
    maxConnections,
    async stop() {
      try {
        await server.stop();
        await db.close();
      } finally {
        await unlock();
      }
    },
  };
}
