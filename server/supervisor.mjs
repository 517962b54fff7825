/**
 * What `npm start` runs: a small parent process that runs the server (server/main.ts) as its
 * child and starts it again when it dies of a fault it could not survive (out of memory, a
 * fatal signal, a non-zero exit), on the same port, after a back-off that grows while the
 * restarts keep failing. The child's Node flags are this process's own (package.json's start
 * script), so the server runs with the heap settings `npm start` names. SIGINT/SIGTERM stop
 * the child cleanly, then this process. A child that fails before it ever served (bad
 * configuration, a port in use, a data folder locked by another server) is not retried: its
 * exit code is ours.
 *
 * The embedded database's lock (server/db/embedded-postgres.ts) names the dead child's pid,
 * which no live process has once it is reaped here, so the restarted child takes it over.
 *
 * Plain JavaScript, without the TypeScript loader the server needs: that loader alone costs
 * this always-running process ~35 MB of RSS (63 MB with it, ~41 MB without, measured).
 */
import { fork } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), "main.ts");
/** First restart delay; doubled for each restart whose process lived less than STABLE_MS. */
const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 30_000;
const STABLE_MS = 60_000;
/** How long a stopping child gets before it is killed (its own shutdown gives up at 10 s). */
const STOP_GRACE_MS = 15_000;

/** @typedef {{ type: "ready", pid: number, port: number, startedAt: number }} Ready */

/** @type {import("node:child_process").ChildProcess | null} */
let child = null;
let stopping = false;
let everReady = false;
/** @type {number | undefined} */
let port;
let delay = FIRST_DELAY_MS;
/** @type {NodeJS.Timeout | null} */
let restartTimer = null;

/** @param {string} message */
function log(message) {
  console.log(`tributary supervisor: ${message}`);
}

/** The server's Node flags: ours (package.json's start script) plus the TypeScript loader. */
const SERVER_FLAGS = process.execArgv.includes("tsx") ? process.execArgv : [...process.execArgv, "--import", "tsx"];

function start() {
  const startedAt = Date.now();
  // after the first start the port is fixed, so clients (and the console) find the server again
  const env = port === undefined ? process.env : { ...process.env, PORT: String(port) };
  const c = fork(MAIN, [], { execArgv: SERVER_FLAGS, env, stdio: ["inherit", "inherit", "inherit", "ipc"] });
  child = c;
  c.on("message", (/** @type {Ready} */ m) => {
    if (m?.type !== "ready") return;
    everReady = true;
    port = m.port;
  });
  c.once("exit", (code, signal) => {
    child = null;
    if (stopping) {
      process.exit(code ?? 0);
      return;
    }
    if (code === 0) {
      log(`server process ${c.pid} stopped; exiting`);
      process.exit(0);
      return;
    }
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    if (!everReady) {
      process.exit(code ?? 1);
      return;
    }
    const lived = Date.now() - startedAt;
    delay = lived >= STABLE_MS ? FIRST_DELAY_MS : delay;
    log(`server process ${c.pid} died (${how}) after ${Math.round(lived / 1000)} s; restarting in ${delay} ms`);
    restartTimer = setTimeout(() => {
      restartTimer = null;
      start();
    }, delay);
    delay = Math.min(MAX_DELAY_MS, delay * 2);
  });
}

/** @param {NodeJS.Signals} signal */
function stop(signal) {
  if (stopping) return;
  stopping = true;
  if (restartTimer) clearTimeout(restartTimer);
  if (!child) process.exit(0);
  child.kill(signal);
  const c = child;
  setTimeout(() => c.kill("SIGKILL"), STOP_GRACE_MS).unref();
}

process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
start();
