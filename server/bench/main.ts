/**
 * `npm run bench [-- --quick] [-- --runs N] [-- --json FILE] [-- --only a,b] [-- --workloads a,b] [-- --embedded] [-- --help]`
 *
 * Runs every workload against Tributary (a real server process, through its TypeScript client
 * and, as separate rows, its JSON API) and, in the same run on the same machine, against the
 * peers (Redis Streams, NATS JetStream, RabbitMQ streams, PostgreSQL COPY); prints one table of
 * medians with Tributary/peer ratios, each system's durability and client fast path, and the
 * server processes' peak RSS and CPU during each workload (and over each system's workloads).
 * Results are written as JSON ({workload, system, metric, value, unit}[]) and Markdown under bench-results/.
 */
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { allPeers, formatSystems, formatTable, runPeers, type PeerSystem } from "./peers/run-peers.ts";
import type { Peer, PeerFigure } from "./peers/types.ts";
import { TributaryJsonSystem, TributarySystem } from "./tributary-system.ts";
import { pidsOf, ResourceSampler, SERVER_PROCESSES } from "./resource-sampler.ts";
import { createScratchDatabase, type ScratchDatabase } from "../testing/databases.ts";
import { ROOT, startServer, type ServerProcess } from "../testing/server-process.ts";
import { runStreamWorkloads } from "./stream-workloads.ts";

const USAGE = `usage: npm run bench [-- options]

Runs every workload against Tributary (TypeScript client and JSON API) and the peers reachable on
this machine (Redis Streams, NATS JetStream, RabbitMQ streams, PostgreSQL COPY); prints medians.

options:
  --quick             a short version (1 run per workload unless --runs says otherwise)
  --runs N            runs per workload (default 3)
  --only a,b          systems to run, e.g. tributary,redis-streams
  --workloads a,b     workloads by name prefix, e.g. produce-1KB,latency-10000
  --json FILE         also write every figure as [{workload, system, metric, value, unit}]
  --embedded          Tributary on the embedded database (default: PostgreSQL at 127.0.0.1:5432 if reachable)
  -h, --help          print this and exit

Ctrl-C (SIGINT) or SIGTERM stops the run and drops its scratch database and data folder.`;

const FLAGS = new Set(["--quick", "--embedded", "--help", "-h"]);
const OPTIONS = new Set(["--runs", "--only", "--workloads", "--json"]);

/** The command line, checked: unknown flags and missing values print the usage instead of starting a run. */
function parseArgs(argv: string[]): Map<string, string | true> {
  const out = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (FLAGS.has(a)) out.set(a, true);
    else if (OPTIONS.has(a) && i + 1 < argv.length && !argv[i + 1].startsWith("--")) out.set(a, argv[++i]);
    else usageError(OPTIONS.has(a) ? `${a} needs a value` : `unknown argument: ${a}`);
  }
  return out;
}

function usageError(message: string): never {
  console.error(`bench: ${message}\n\n${USAGE}`);
  process.exit(2);
}

const args = parseArgs(process.argv.slice(2));
if (args.has("--help") || args.has("-h")) {
  console.log(USAGE);
  process.exit(0);
}
const value = (flag: string) => {
  const v = args.get(flag);
  return typeof v === "string" ? v : undefined;
};
const quick = args.has("--quick");
const runs = Number(value("--runs") ?? (quick ? 1 : 3));
if (!Number.isInteger(runs) || runs < 1) usageError(`--runs must be a positive integer, got ${value("--runs")}`);
const only = value("--only")?.split(",");
const workloads = value("--workloads")?.split(",");
const jsonFile = value("--json");
const embedded = args.has("--embedded");

/**
 * What a stop must undo, in reverse order: the server, then its scratch database (a
 * `tributary_test_*` database and a temp folder). Each step waits for what it undoes to exist,
 * so a signal during start-up still cleans up what start-up made.
 */
const undo: (() => Promise<unknown>)[] = [];
let cleaning: Promise<void> | null = null;
let signalled: NodeJS.Signals | null = null;

function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (let step = undo.pop(); step; step = undo.pop()) {
      try {
        await step();
      } catch {
        // a start-up step that failed left nothing to undo
      }
    }
  })();
  return cleaning;
}

function onSignal(signal: NodeJS.Signals): void {
  if (signalled) {
    console.error(`bench: ${signal} again: exiting without cleaning up`);
    process.exit(1);
  }
  signalled = signal;
  console.error(`\nbench: ${signal}: stopping the server and dropping its scratch database…`);
  void cleanUp().finally(() => {
    console.error("bench: cleaned up");
    process.exit(signal === "SIGINT" ? 130 : 143);
  });
}
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

async function scratchDatabase(): Promise<ScratchDatabase> {
  try {
    return await createScratchDatabase(embedded ? "embedded" : "postgres");
  } catch {
    return await createScratchDatabase("embedded");
  }
}

async function main(): Promise<void> {
  const dbReady = scratchDatabase();
  undo.push(async () => (await dbReady).drop());
  const db = await dbReady;
  const serverReady = startServer(db, { TRIBUTARY_CLEANER_INTERVAL_MS: "0", TRIBUTARY_LAG_SAMPLE_MS: "0" });
  undo.push(async () => (await serverReady).stop());
  const server: ServerProcess = await serverReady;
  console.log(
    `bench: ${quick ? "quick" : "full"}, ${runs} run(s) per workload, ${os.cpus().length} cores, ` +
      `Tributary on ${db.kind === "postgres" ? "PostgreSQL at 127.0.0.1:5432" : "the embedded database"}`,
  );
  const tributary = new TributarySystem(server.url, db.url);
  const systems: Peer[] = [tributary, new TributaryJsonSystem(server.url, db.url), ...allPeers()].filter(
    (p) => !only || only.includes(p.name),
  );
  const figures: PeerFigure[] = [];
  const described: PeerSystem[] = [];
  const t0 = performance.now();
  let streamSummary: string;
  try {
    for (const system of systems) {
      const pids = system.name.startsWith("tributary") ? [server.pid] : pidsOf(SERVER_PROCESSES[system.name] ?? []);
      // over all the system's workloads: CPU, and RSS sampled (each workload's own sampler resets
      // the kernel's peak marks); the peak reported is the larger of that and every workload's peak
      const sampler = new ResourceSampler(pids, false);
      const r = await runPeers({ quick, runs, peers: [system], workloads, sample: () => new ResourceSampler(pids) });
      const res = await sampler.stop();
      figures.push(...r.figures);
      described.push(...r.systems);
      if (r.systems[0]?.status === "ok" && pids.length > 0) {
        const peaks = r.figures.filter((f) => f.metric === "server-rss-peak" && Number.isFinite(f.value)).map((f) => f.value);
        figures.push({
          workload: "all",
          system: system.name,
          metric: "server-rss-peak",
          value: Math.round(Math.max(res.peakRssMb, ...peaks)),
          unit: "MB",
        });
        figures.push({
          workload: "all",
          system: system.name,
          metric: "server-cpu",
          value: Math.round(res.cpuPercent),
          unit: "% of one core",
        });
      }
    }
    // pipelines run by the server (issue #15), and the peers running the same logic in their clients
    const stream = await runStreamWorkloads({ quick, runs, only, workloads, server, settle: () => tributary.settle() });
    figures.push(...stream.figures);
    streamSummary = stream.summary;
  } finally {
    await cleanUp();
  }
  const table = formatTable(figures, { baseline: "tributary" });
  const systemsText =
    formatSystems(described) +
    "\n- Server resources: peak RSS and mean CPU of the system's server processes (Tributary: its one Node process; PostgreSQL: all postgres processes) while that system's workloads ran (each workload: the kernel's peak, VmHWM, reset as it starts)." +
    "\n- Latency workloads (the stream pipeline's too) begin after a CHECKPOINT of Tributary's PostgreSQL database and a `sync` of the machine's dirty pages, so they do not run while PostgreSQL or the kernel write out the gigabytes the throughput workloads left dirty." +
    (streamSummary ? `\n\n${streamSummary}` : "");
  console.log(`\n${table}\n\n${systemsText}\n\n(${Math.round((performance.now() - t0) / 1000)} s)`);
  const plain = figures
    .filter((f) => Number.isFinite(f.value))
    .map(({ workload, system, metric, value, unit }) => ({ workload, system, metric, value, unit }));
  const dir = path.join(ROOT, "bench-results");
  await mkdir(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  await writeFile(path.join(dir, `${stamp}.json`), JSON.stringify(plain, null, 2));
  await writeFile(path.join(dir, `${stamp}.md`), `${table}\n\n${systemsText}\n`);
  if (jsonFile) await writeFile(path.resolve(jsonFile), JSON.stringify(plain, null, 2));
}

main().then(
  () => process.exit(0),
  async (e) => {
    // a signal's clean-up is under way and exits when done; failures it caused are expected
    if (signalled) return;
    console.error(e);
    await cleanUp();
    process.exit(1);
  },
);
