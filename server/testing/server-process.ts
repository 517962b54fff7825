/**
 * Starts a real Tributary server process for tests (`node --import tsx server/main.ts`), on a
 * free port, against a scratch database, and stops or kills it.
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
  pid: number;
  child: ChildProcess;
  output(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit: a crash. */
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

/**
 * The environment (malloc's arenas) and the Node and V8 flags (the heap limit and how the heap
 * grows) of package.json's start script, so tests and benchmarks run the server `npm start` runs.
 */
const START = (() => {
  const start = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: { start: string } }).scripts.start;
  const m = /^((?:[A-Z_]+=\S+ )*)node((?: --[\w-]+(?:=\S+)?)*) --import tsx server\/main\.ts$/.exec(start);
  if (!m || !m[2].includes("--max-old-space-size=")) throw new Error(`package.json's start script is not "[VAR=value …] node --max-old-space-size=N … --import tsx server/main.ts": ${start}`);
  const env = Object.fromEntries(m[1].trim().split(" ").filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
  return { env: env as Record<string, string>, flags: m[2].trim().split(" ") };
})();

export async function startServer(db: ScratchDatabase, env: Record<string, string> = {}): Promise<ServerProcess> {
  // e.g. TRIBUTARY_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the server
  const extra = (env.TRIBUTARY_SERVER_NODE_ARGS ?? process.env.TRIBUTARY_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child = spawn(process.execPath, [...START.flags, ...extra, "--import", "tsx", path.join(ROOT, "server/main.ts")], {
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
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 60 s:\n${out}`)), 60_000);
    const onData = () => {
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${out}`));
    });
  });
  const wait = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await exited;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid as number,
    child,
    output: () => out,
    stop: () => wait("SIGTERM"),
    kill: () => wait("SIGKILL"),
    exited,
  };
}

/** Resident set size of a process in bytes, from /proc. */
export async function rssBytes(pid: number): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}
