/**
 * Just the peers, without Tributary:
 *   node --import tsx server/bench/peers/main.ts [--quick] [--runs N] [--records N]
 *        [--seconds S] [--only redis-streams,nats-jetstream,...] [--json FILE]
 * Prints one table of medians per peer and workload, then each peer's durability and fast path.
 */
import { writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { formatSystems, formatTable, runPeers } from "./run-peers.ts";

const args = process.argv.slice(2);
const value = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
const quick = args.includes("--quick");
const runs = Number(value("--runs") ?? 3);
const records = value("--records") ? Number(value("--records")) : undefined;
const latencySeconds = value("--seconds") ? Number(value("--seconds")) : undefined;
const only = value("--only")?.split(",");
const jsonFile = value("--json");

async function main(): Promise<void> {
  console.log(`peers bench: ${quick ? "quick" : "full"}, ${runs} run(s) each, ${os.cpus().length} cores`);
  const t0 = performance.now();
  const { figures, systems } = await runPeers({ quick, runs, records, latencySeconds, only });
  console.log(`\n${formatTable(figures)}\n\n${formatSystems(systems)}`);
  console.log(`\n(${Math.round((performance.now() - t0) / 1000)} s)`);
  if (jsonFile) await writeFile(path.resolve(jsonFile), JSON.stringify({ figures, systems }, null, 2));
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
