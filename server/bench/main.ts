/**
 * `npm run bench [-- --quick] [-- --json FILE] [-- --embedded]`: produce and fetch throughput
 * of a real Tributary server process, through the TypeScript client's binary path and the
 * JSON API, for 100-byte and 1 KiB records. Medians of several runs; results are printed as a
 * table and written under bench-results/ (JSON and Markdown).
 */
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Producer } from "../client/producer.ts";
import { PartitionReader } from "../client/partition-reader.ts";
import { createScratchDatabase, type ScratchDatabase } from "../testing/databases.ts";
import { ROOT, rssBytes, startServer, type ServerProcess } from "../testing/server-process.ts";

interface Figure {
  workload: string;
  system: string;
  metric: string;
  value: number;
  unit: string;
}

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const embedded = args.includes("--embedded");
const jsonIdx = args.indexOf("--json");
const jsonFile = jsonIdx >= 0 ? args[jsonIdx + 1] : undefined;
const RUNS = quick ? 1 : 3;
const N = quick ? 100_000 : 1_000_000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function createTopic(url: string, name: string, partitions: number): Promise<void> {
  const res = await fetch(`${url}/api/v1/topics`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, partitions, configs: { "retention.ms": -1, "max.message.bytes": 4 * 1024 * 1024 } }),
  });
  if (!res.ok) throw new Error(`create topic: ${res.status} ${await res.text()}`);
}

class RssSampler {
  max = 0;
  private timer: NodeJS.Timeout;
  constructor(pid: number) {
    this.timer = setInterval(() => void rssBytes(pid).then((r) => (this.max = Math.max(this.max, r))), 100);
  }
  stop(): number {
    clearInterval(this.timer);
    return this.max;
  }
}

/** Client-side batching as a Kafka producer would: 64 KiB batches, 5 ms linger, 5 in flight. */
async function produceBinary(url: string, topic: string, n: number, size: number): Promise<number> {
  const producer = new Producer({ baseUrl: url, batchBytes: 256 * 1024, lingerMs: 5, maxInFlight: 8 });
  const value = Buffer.alloc(size, 120);
  const t0 = performance.now();
  const window: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    window.push(producer.send(topic, { value, partition: 0 }));
    if (window.length >= 50_000) await Promise.all(window.splice(0));
  }
  await producer.flush();
  await Promise.all(window);
  return performance.now() - t0;
}

async function produceJson(url: string, topic: string, n: number, size: number): Promise<number> {
  const value = "x".repeat(size);
  const perRequest = 1000;
  const body = JSON.stringify({ records: Array.from({ length: perRequest }, () => ({ value, partition: 0 })) });
  const t0 = performance.now();
  let sent = 0;
  const inFlight = 4;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (sent < n) {
        sent += perRequest;
        const res = await fetch(`${url}/api/v1/topics/${topic}/records`, { method: "POST", headers: { "content-type": "application/json" }, body });
        if (!res.ok) throw new Error(`produce: ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
      }
    }),
  );
  return performance.now() - t0;
}

async function consumeBinary(url: string, topic: string, n: number): Promise<number> {
  const reader = new PartitionReader(url, topic, 0, 0);
  const t0 = performance.now();
  let got = 0;
  while (got < n) {
    const r = await reader.fetch(8 * 1024 * 1024);
    got += r.records.length;
    if (r.records.length === 0) throw new Error(`consume stalled at ${reader.offset}`);
  }
  return performance.now() - t0;
}

async function main(): Promise<void> {
  let db: ScratchDatabase;
  try {
    db = await createScratchDatabase(embedded ? "embedded" : "postgres");
  } catch {
    db = await createScratchDatabase("embedded");
  }
  const server: ServerProcess = await startServer(db, { TRIBUTARY_CLEANER_INTERVAL_MS: "0" });
  const figures: Figure[] = [];
  const add = (workload: string, metric: string, value: number, unit: string) =>
    figures.push({ workload, system: "tributary", metric, value: Math.round(value * 100) / 100, unit });
  console.log(`bench: ${N.toLocaleString()} records per run, ${RUNS} run(s) each, database: ${db.kind}, ${os.cpus().length} cores`);
  try {
    for (const [label, size] of [["100B", 100], ["1KB", 1024]] as const) {
      for (const [mode, produce] of [["", produceBinary], ["-json", produceJson]] as const) {
        const rates: number[] = [];
        const readRates: number[] = [];
        let rss = 0;
        for (let run = 0; run < RUNS; run++) {
          const topic = `bench-${label}${mode}-${run}-${Date.now()}`;
          await createTopic(server.url, topic, 1);
          const sampler = new RssSampler(server.pid);
          const ms = await produce(server.url, topic, N, size);
          rates.push(N / (ms / 1000));
          if (mode === "") readRates.push(N / ((await consumeBinary(server.url, topic, N)) / 1000));
          rss = Math.max(rss, sampler.stop());
        }
        const w = `produce-${label}-1p${mode}`;
        add(w, "throughput", median(rates), "records/s");
        add(w, "throughput", (median(rates) * size) / 1e6, "MB/s");
        add(w, "server-rss-max", rss / 1e6, "MB");
        if (readRates.length) {
          add(`consume-${label}-1p`, "throughput", median(readRates), "records/s");
          add(`consume-${label}-1p`, "throughput", (median(readRates) * size) / 1e6, "MB/s");
        }
        console.log(`  ${w}: ${Math.round(median(rates)).toLocaleString()} records/s`);
      }
    }
  } finally {
    await server.stop();
    await db.drop();
  }
  const lines = [
    "| workload | system | metric | value | unit |",
    "|---|---|---|---:|---|",
    ...figures.map((f) => `| ${f.workload} | ${f.system} | ${f.metric} | ${f.value.toLocaleString("en-US")} | ${f.unit} |`),
  ];
  console.log("\n" + lines.join("\n"));
  const dir = path.join(ROOT, "bench-results");
  await mkdir(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  await writeFile(path.join(dir, `${stamp}.json`), JSON.stringify(figures, null, 2));
  await writeFile(path.join(dir, `${stamp}.md`), lines.join("\n") + "\n");
  if (jsonFile) await writeFile(path.resolve(jsonFile), JSON.stringify(figures, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
