/**
 * `npm run bench [-- --quick] [-- --runs N] [-- --json FILE] [-- --only a,b] [-- --workloads a,b] [-- --embedded]`
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

const args = process.argv.slice(2);
const value = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
const quick = args.includes("--quick");
const runs = Number(value("--runs") ?? (quick ? 1 : 3));
const only = value("--only")?.split(",");
const workloads = value("--workloads")?.split(",");
const jsonFile = value("--json");
const embedded = args.includes("--embedded");

async function main(): Promise<void> {
  let db: ScratchDatabase;
  try {
    db = await createScratchDatabase(embedded ? "embedded" : "postgres");
  } catch {
    db = await createScratchDatabase("embedded");
  }
  const server: ServerProcess = await startServer(db, { TRIBUTARY_CLEANER_INTERVAL_MS: "0", TRIBUTARY_LAG_SAMPLE_MS: "0" });
  console.log(
    `bench: ${quick ? "quick" : "full"}, ${runs} run(s) per workload, ${os.cpus().length} cores, ` +
      `Tributary on ${db.kind === "postgres" ? "PostgreSQL at 127.0.0.1:5432" : "the embedded database"}`,
  );
  const systems: Peer[] = [new TributarySystem(server.url, db.url), new TributaryJsonSystem(server.url, db.url), ...allPeers()].filter(
    (p) => !only || only.includes(p.name),
  );
  const figures: PeerFigure[] = [];
  const described: PeerSystem[] = [];
  const t0 = performance.now();
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
        figures.push({ workload: "all", system: system.name, metric: "server-rss-peak", value: Math.round(Math.max(res.peakRssMb, ...peaks)), unit: "MB" });
        figures.push({ workload: "all", system: system.name, metric: "server-cpu", value: Math.round(res.cpuPercent), unit: "% of one core" });
      }
    }
  } finally {
    await server.stop();
    await db.drop();
  }
  const table = formatTable(figures, { baseline: "tributary" });
  const systemsText =
    formatSystems(described) +
    "\n- Server resources: peak RSS and mean CPU of the system's server processes (Tributary: its one Node process; PostgreSQL: all postgres processes) while that system's workloads ran (each workload: the kernel's peak, VmHWM, reset as it starts)." +
    "\n- Latency workloads begin after a CHECKPOINT of Tributary's PostgreSQL database, so they do not run while PostgreSQL writes out the gigabytes the throughput workloads left dirty.";
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
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
