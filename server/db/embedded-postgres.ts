/**
 * The embedded PostgreSQL used when no DATABASE_URL is given: PGlite (Postgres compiled to
 * WASM) in a data folder, served over the Postgres wire protocol so the broker talks to it
 * through the same `pg` driver and SQL as to a real server. The server's own pool connects
 * through in-process streams (see ProtocolPipe); a loopback port serves other clients (a test,
 * psql). The wire endpoint is ours, not pglite-socket's: see SessionServer and WireConnection.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, open, readFile, rm } from "node:fs/promises";
import net from "node:net";
import { Duplex } from "node:stream";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";

export interface EmbeddedPostgres {
  /** The loopback address, for clients outside the server's pool. */
  url: string;
  /** For node-pg's `stream` option: a new connection to the database, in this process. */
  connect(): Duplex;
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
          { cause: e },
        );
      }
      await rm(file, { force: true }); // left by a process that is gone
    }
  }
  throw new Error(`could not lock the embedded database folder ${folder} (${file})`);
}

/** A simple-protocol Query message. */
function queryMessage(sql: string): Uint8Array {
  const text = Buffer.from(sql + "\0", "utf8");
  const m = Buffer.alloc(5 + text.length);
  m[0] = 0x51; // 'Q'
  m.writeInt32BE(4 + text.length, 1);
  text.copy(m, 5);
  return m;
}

const SYNC = Uint8Array.from([0x53, 0, 0, 0, 4]); // 'S'

/** The first ErrorResponse's message in backend output, if any. */
function firstError(out: Buffer): string | undefined {
  for (let at = 0; at + 5 <= out.length; at += 1 + out.readInt32BE(at + 1)) {
    if (out[at] !== 0x45) continue; // 'E'
    const fields = out
      .subarray(at + 5, at + 1 + out.readInt32BE(at + 1))
      .toString("utf8")
      .split("\0");
    return fields.find((f) => f.startsWith("M"))?.slice(1) ?? "error";
  }
  return undefined;
}

/**
 * Brings PGlite's one backend session back to the state of a new connection: whatever the last
 * client left there (named prepared statements, an open or failed transaction, an extended-query
 * exchange cut off before its Sync, advisory locks, session settings) would break the next one:
 * node-pg drops a connection after an error and its next connection parses the same statement
 * names again ("prepared statement already exists" on every request until a restart).
 */
export async function resetSession(db: PGlite): Promise<void> {
  await db.runExclusive(async () => {
    // Its own output callback for every message: PGlite keeps the last stream's callback, so
    // exec() here could send its answers to the previous client's socket.
    const run = async (message: Uint8Array): Promise<Buffer> => {
      const chunks: Uint8Array[] = [];
      await db.execProtocolRawStream(message, { onRawData: (d) => chunks.push(d.slice()) });
      return Buffer.concat(chunks);
    };
    await run(SYNC); // leaves "skip until Sync" after a failed extended query
    if (db.isInTransaction()) await run(queryMessage("ROLLBACK"));
    const error = firstError(await run(queryMessage("DISCARD ALL")));
    if (error) throw new Error(`could not reset the embedded database session: ${error}`);
  });
}

const SSL_REQUEST = 80877103;
const CANCEL_REQUEST = 80877102;
/** PGlite's own limit on one message (PGlite.MAX_BUFFER_SIZE). */
const MAX_MESSAGE_BYTES = 2 ** 30;
/** The largest assembly buffer a connection keeps between messages (appends are at most 4 MiB plus one batch). */
const ASSEMBLY_KEEP_BYTES = 16 * 1024 * 1024;

/**
 * One end of an in-process byte stream standing in for a TCP connection between node-pg and the
 * wire endpoint. Through a loopback socket every statement was copied into the kernel and read
 * back in 64 KiB chunks allocated on Node's malloc heap (~100 MB of it at the benchmark's peak,
 * with the request bodies in flight); here the buffers written at one end are the chunks the
 * other end reads. No backpressure: node-pg sends one query at a time and the endpoint answers
 * one message at a time, so neither side can queue much. Ending one end ends the other;
 * destroying one destroys the other (a reset connection).
 */
class ProtocolPipe extends Duplex {
  private peer!: ProtocolPipe;

  /** The two ends of a new connection. */
  static pair(): [ProtocolPipe, ProtocolPipe] {
    const a = new ProtocolPipe({ allowHalfOpen: false });
    const b = new ProtocolPipe({ allowHalfOpen: false });
    a.peer = b;
    b.peer = a;
    return [a, b];
  }

  override _read(): void {
    // data is pushed by the peer's writes
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (e?: Error | null) => void): void {
    if (this.peer.destroyed) return done(Object.assign(new Error("the connection was closed"), { code: "EPIPE" }));
    this.peer.push(chunk);
    done();
  }

  override _writev(chunks: { chunk: Buffer }[], done: (e?: Error | null) => void): void {
    if (this.peer.destroyed) return done(Object.assign(new Error("the connection was closed"), { code: "EPIPE" }));
    for (const c of chunks) this.peer.push(c.chunk);
    done();
  }

  override _final(done: (e?: Error | null) => void): void {
    if (!this.peer.destroyed) this.peer.push(null);
    done();
  }

  override _destroy(error: Error | null, done: (e?: Error | null) => void): void {
    if (!this.peer.destroyed) this.peer.destroy();
    done(error);
  }

  // the parts of net.Socket that node-pg calls
  /** Connected from the start: announces it as a socket would once its handshake is done. */
  connect(): this {
    process.nextTick(() => this.emit("connect"));
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}

/**
 * One client connection's Postgres wire protocol, fed to PGlite a message at a time. A message
 * that arrived in one chunk is passed on as a view of it, one that spans chunks (an append's
 * Bind: its header, then each batch's payload as written) is joined once into a reused buffer:
 * pglite-socket's handler joined its whole buffer with every chunk that arrived (a 1 MiB append
 * arriving in 64 KiB chunks allocated ~8 MiB on the way) and copied each message once more.
 */
class WireConnection {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Before the StartupMessage, messages have no type byte. */
  private started = false;
  private draining = false;
  /**
   * Where a message that spans chunks is joined. One buffer reused: a fresh one per message
   * (4 MiB appends, one after another) left dozens of dead ones resident until V8 collected
   * their wrappers, ~100 MB at the benchmark's peak.
   */
  private assembly = Buffer.alloc(0);

  constructor(
    private readonly socket: Duplex,
    private readonly db: PGlite,
  ) {
    socket.on("data", (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let m = this.next(); m && !this.socket.destroyed; m = this.next()) {
        if (!this.started) {
          const code = m.length >= 8 ? m.readInt32BE(4) : 0;
          if (code === SSL_REQUEST) {
            this.socket.write("N"); // no TLS on loopback
            continue;
          }
          if (code === CANCEL_REQUEST) continue; // PGlite runs nothing it could cancel
          this.started = true; // the StartupMessage, which PGlite answers itself
        } else if (m[0] === 0x58) {
          this.socket.end(); // 'X' Terminate
          return;
        }
        const socket = this.socket;
        await this.db.runExclusive(() =>
          this.db.execProtocolRawStream(m, {
            // a view of PGlite's memory, valid only during the call: copied for the client
            onRawData: (d) => {
              if (!socket.destroyed) socket.write(Buffer.from(d));
            },
          }),
        );
        this.trimAssembly();
      }
    } catch {
      this.socket.destroy();
    } finally {
      this.draining = false;
    }
  }

  /** The next complete message, or null while it has not all arrived. */
  private next(): Buffer | null {
    const headerLength = this.started ? 5 : 8;
    if (this.buffered < headerLength) return null;
    if (this.chunks[0].length < headerLength) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    const head = this.chunks[0];
    const length = this.started ? 1 + head.readInt32BE(1) : head.readInt32BE(0);
    if (length < headerLength || length > MAX_MESSAGE_BYTES) {
      this.socket.destroy(); // not the Postgres protocol
      return null;
    }
    if (this.buffered < length) return null;
    this.buffered -= length;
    if (head.length >= length) {
      const m = head.subarray(0, length);
      if (head.length === length) this.chunks.shift();
      else this.chunks[0] = head.subarray(length);
      return m;
    }
    // joined into the connection's one assembly buffer: PGlite copies a message into its own
    // memory before execProtocolRawStream returns, so the next message may reuse it
    if (this.assembly.length < length) this.assembly = Buffer.allocUnsafe(Math.max(length, 2 * this.assembly.length));
    let at = 0;
    while (at < length) {
      const c = this.chunks[0];
      const n = Math.min(c.length, length - at);
      c.copy(this.assembly, at, 0, n);
      at += n;
      if (n === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(n);
    }
    return this.assembly.subarray(0, length);
  }

  /** After a message: an assembly buffer grown past ASSEMBLY_KEEP_BYTES by a huge one is let go. */
  private trimAssembly(): void {
    if (this.assembly.length > ASSEMBLY_KEEP_BYTES) this.assembly = Buffer.alloc(0);
  }
}

/**
 * The embedded database's wire endpoint: one client connection at a time, each on a clean
 * session. A connection that arrives while another is open waits its turn instead of being
 * refused: node-pg opens the next connection as soon as it drops one, usually before this side
 * has seen the close. At most `maxWaiting` connections wait, each at most `maxWaitMs` (the
 * server's own pool keeps its connection open for good, so another client would wait forever).
 */
class SessionServer {
  private readonly server: net.Server;
  private readonly waiting: Duplex[] = [];
  private readonly deadlines = new Map<Duplex, NodeJS.Timeout>();
  private current: Duplex | null = null;
  private stopped = false;

  constructor(
    private readonly db: PGlite,
    private readonly maxWaiting = 16,
    private readonly maxWaitMs = 30_000,
  ) {
    this.server = net.createServer((socket) => {
      socket.setNoDelay(true);
      this.admit(socket);
    });
  }

  /** Serves connections on a free loopback port of `host`; resolves with host:port. */
  listen(host: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, host, () => {
        this.server.off("error", reject);
        const a = this.server.address() as net.AddressInfo;
        resolve(`${host}:${a.port}`);
      });
    });
  }

  /** A new in-process connection: the client's end of it (this side admits the other end). */
  connect(): Duplex {
    const [client, server] = ProtocolPipe.pair();
    this.admit(server);
    return client;
  }

  private admit(socket: Duplex): void {
    if (this.stopped || this.waiting.length >= this.maxWaiting) {
      socket.destroy();
      return;
    }
    socket.on("error", () => undefined); // a client gone while waiting
    const deadline = setTimeout(() => socket.destroy(), this.maxWaitMs);
    deadline.unref();
    this.deadlines.set(socket, deadline);
    socket.once("close", () => {
      clearTimeout(deadline);
      this.deadlines.delete(socket);
      const i = this.waiting.indexOf(socket);
      if (i >= 0) this.waiting.splice(i, 1);
    });
    this.waiting.push(socket);
    void this.next();
  }

  private async next(): Promise<void> {
    if (this.current || this.stopped) return;
    const socket = this.waiting.shift();
    if (!socket) return;
    clearTimeout(this.deadlines.get(socket));
    this.deadlines.delete(socket);
    this.current = socket;
    const done = () => {
      if (this.current !== socket) return;
      this.current = null;
      void this.next();
    };
    try {
      await resetSession(this.db);
      if (socket.destroyed || this.stopped) throw new Error("gone");
      socket.once("close", done);
      new WireConnection(socket, this.db);
    } catch {
      socket.destroy();
      done();
    }
  }

  /** Closes every connection, open or waiting, and the port. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.waiting.splice(0)) s.destroy();
    this.current?.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Postgres settings of the embedded database. PGlite runs inside the server process, and its
 * WASM memory only grows: every page Postgres touches stays resident. With the defaults (sized
 * for a dedicated server: shared_buffers 128MB) it held ~150 MB before the first query; the
 * broker keeps its own tail cache and the operating system caches the data files, so a small
 * buffer pool costs little. max_connections sizes shared memory per backend slot (PGlite has
 * one backend); maintenance_work_mem bounds what an index build may add for good.
 */
export const EMBEDDED_SETTINGS: readonly string[] = ["shared_buffers=16MB", "max_connections=8", "maintenance_work_mem=16MB"];

const INITDB_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), "embedded-initdb.mjs");

/** Runs initdb for `dir` in a child process (see embedded-initdb.mjs for why). */
function initdbInChild(dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [INITDB_SCRIPT, dir, ...EMBEDDED_SETTINGS], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.once("error", reject);
    child.once("exit", (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`initdb of the embedded database in ${dir} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`)),
    );
  });
}

export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  const dir = path.resolve(dataDir, "pgdata");
  await mkdir(path.dirname(dir), { recursive: true });
  const unlock = await lockDataFolder(path.dirname(dir));
  let db: PGlite;
  try {
    if (!existsSync(path.join(dir, "PG_VERSION"))) await initdbInChild(dir);
    db = await PGlite.create(dir, { startParams: [...PGlite.defaultStartParams, ...EMBEDDED_SETTINGS.flatMap((s) => ["-c", s])] });
  } catch (e) {
    await unlock();
    throw e;
  }
  // One connection: PGlite has a single backend session, so several client connections would
  // share (and collide on) prepared statements and session state.
  const maxConnections = 1;
  const server = new SessionServer(db);
  // port 0: the OS picks a free loopback port, so several instances can run side by side.
  let conn: string;
  try {
    conn = await server.listen("127.0.0.1");
  } catch (e) {
    await db.close().catch(() => undefined);
    await unlock();
    throw e;
  }
  return {
    url: `postgres://postgres@${conn}/postgres?sslmode=disable`,
    connect: () => server.connect(),
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
