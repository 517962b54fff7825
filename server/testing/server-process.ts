/**
 * Starts a real Tributary server for tests exactly as `npm start` does (the supervisor,
 * server/supervisor.mjs, which runs server/main.ts as its child), on a free port, against a
 * scratch database, and stops or kills it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ScratchDatabase } from "./databases.ts";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface ServerProcess {
  url: string;
  port: number;
  /** The server process (the supervisor's child) now serving: it changes after a restart. */
  readonly pid: number;
  /** The supervisor's pid. */
  supervisorPid: number;
  /** The supervisor process. Killing it (SIGKILL) ends its server child too. */
  child: ChildProcess;
  output(): string;
  /** SIGTERM to the supervisor (which stops the server cleanly) and wait for both to exit. */
  stop(): Promise<void>;
  /** SIGKILL the supervisor and the server and wait for both to be gone: a crash. */
  kill(): Promise<void>;
  /** Waits until a server process other than `pid` serves (after the supervisor restarted it). */
  restarted(pid: number, timeoutMs?: number): Promise<number>;
  /** The supervisor's exit code, once it and its server child are gone. */
  exited: Promise<number | null>;
}

/**
 * The environment (malloc's arenas) and the Node and V8 flags (the heap limit and how the heap
 * grows) of package.json's start script, so tests and benchmarks run the server `npm start` runs.
 */
const START = (() => {
  const start = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: { start: string } }).scripts.start;
  const m = /^((?:[A-Z_]+=\S+ )*)node((?: --[\w-]+(?:=\S+)?)*) server\/supervisor\.mjs$/.exec(start);
  if (!m || !m[2].includes("--max-old-space-size="))
    throw new Error(`package.json's start script is not "[VAR=value …] node --max-old-space-size=N … server/supervisor.mjs": ${start}`);
  const env = Object.fromEntries(
    m[1]
      .trim()
      .split(" ")
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
  );
  return { env: env as Record<string, string>, flags: m[2].trim().split(" ") };
})();

export async function startServer(db: ScratchDatabase, env: Record<string, string> = {}): Promise<ServerProcess> {
  // e.g. TRIBUTARY_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the server
  const extra = (env.TRIBUTARY_SERVER_NODE_ARGS ?? process.env.TRIBUTARY_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child = spawn(process.execPath, [...START.flags, ...extra, path.join(ROOT, "server/supervisor.mjs")], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...START.env,
      NODE_ENV: "production",
      PORT: "0",
      HOST: "127.0.0.1",
      TRIBUTARY_DATA_DIR: db.dataDir,
      ...(db.url ? { DATABASE_URL: db.url } : { DATABASE_URL: "" }),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (out += d));
  const servers = () => [...out.matchAll(/listening on http:\/\/\S+ .*pid (\d+)\)/g)].map((m) => Number(m[1]));
  // "close": the supervisor exited and its output (and its server child's, on the same pipes) is all read
  const supervisorExit = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  // the server child ends with its supervisor (it exits when the IPC channel closes); wait for it
  const exited = supervisorExit.then(async (code) => {
    for (const pid of servers()) await gone(pid);
    return code;
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 120 s:\n${out}`)), 120_000);
    const onData = () => {
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on("data", onData);
    void supervisorExit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${out}`));
    });
  });
  const current = () => servers().at(-1) as number;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get pid() {
      return current();
    },
    supervisorPid: child.pid as number,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      try {
        process.kill(current(), "SIGKILL");
      } catch {
        // already gone
      }
      await exited;
    },
    async restarted(pid, timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      while (current() === pid) {
        if (Date.now() > until) throw new Error(`no server process replaced ${pid} within ${timeoutMs} ms:\n${out}`);
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the supervisor exited:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return current();
    },
    exited,
  };
}

/** Resolves once process `pid` no longer runs (a zombie counts as gone: it holds nothing). */
async function gone(pid: number): Promise<void> {
  const { readFile } = await import("node:fs/promises");
  for (;;) {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => null);
    if (stat === null || /^\d+ \(.*\) Z/.test(stat)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resident set size of a process in bytes, from /proc. */
export async function rssBytes(pid: number): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}
