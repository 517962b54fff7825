/**
 * `node --import tsx server/bench/stream-topology.ts [--runs N] [--records N]`
 *
 * The stream engine's own speed, with no broker, network or transaction in the way: a Topology
 * source → filter (`value.amount > 10.0`) → map (`{"user": value.user, "big": value.amount * 2.0}`)
 * → sink, in this process, over pre-decoded 100-byte JSON records (half of them pass the filter).
 * What it measures is the cost of pushing a record through the graph: CEL evaluation, the
 * records the operators make, the topology's walk. Prints records/s of each run and the median.
 * (`value.amount * 2` would fail on every record: JSON numbers are CEL doubles, and CEL has no
 * double * int.)
 */
import { ZPipelineDefinition } from "../schemas/pipeline.ts";
import type { StreamRecord } from "../stream/record.ts";
import { Topology } from "../stream/topology.ts";

const RECORD_BYTES = 100;
/** Records pushed between two drains (a task drains once per polled batch). */
const DRAIN_EVERY = 10_000;

function argument(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i < 0 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
  return v;
}

export const FILTER_MAP_DEFINITION = ZPipelineDefinition.parse({
  name: "bench-filter-map",
  nodes: [
    { id: "in", config: { kind: "source", topics: ["bench-in"] } },
    { id: "keep", config: { kind: "filter", condition: "value.amount > 10.0" } },
    { id: "shape", config: { kind: "map", value: '{"user": value.user, "big": value.amount * 2.0}' } },
    { id: "out", config: { kind: "sink", topic: "bench-out" } },
  ],
  edges: [
    { from: { node: "in", port: "out" }, to: { node: "keep", port: "in" } },
    { from: { node: "keep", port: "out" }, to: { node: "shape", port: "in" } },
    { from: { node: "shape", port: "out" }, to: { node: "out", port: "in" } },
  ],
});

/** `count` records whose value is a 100-byte JSON document, decoded as a json source does. */
export function filterMapInput(count: number): StreamRecord[] {
  const out: StreamRecord[] = [];
  for (let i = 0; i < count; i++) {
    const head = `{"user":"user-${i % 10_000}","amount":${i % 2 === 0 ? 5 + (i % 5) : 20 + (i % 500)},"note":"`;
    const text = `${head}${"x".repeat(Math.max(0, RECORD_BYTES - head.length - 2))}"}`;
    out.push({
      key: `user-${i % 10_000}`,
      value: JSON.parse(text) as unknown,
      headers: {},
      timestamp: 1_700_000_000_000 + i,
      origin: { topic: "bench-in", partition: 0, offset: i },
    });
  }
  return out;
}

/**
 * One run: records per second of wall time and per second of this process's CPU time (on a
 * machine shared with other work the CPU figure is the steadier one); checks what came out.
 */
export function runFilterMap(input: readonly StreamRecord[]): { perSecond: number; perCpuSecond: number } {
  const { topology, problems } = Topology.build(FILTER_MAP_DEFINITION);
  if (!topology) throw new Error(`the bench pipeline does not build: ${JSON.stringify(problems)}`);
  const now = 1_700_000_000_000;
  let outputs = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < input.length; i++) {
    topology.process("in", input[i], now);
    if ((i + 1) % DRAIN_EVERY === 0 || i === input.length - 1) {
      const drained = topology.drain();
      if (drained.deadLetters.length > 0) throw new Error(`dead letter: ${drained.deadLetters[0].error}`);
      outputs += drained.outputs.length;
    }
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const expected = input.filter((r) => (r.value as { amount: number }).amount > 10).length;
  if (outputs !== expected) throw new Error(`wrote ${outputs} records, expected ${expected}`);
  return { perSecond: (input.length / ms) * 1000, perCpuSecond: (input.length / cpuMs) * 1000 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const format = (x: number) => Math.round(x).toLocaleString("en-US");

function main(): void {
  const runs = argument("--runs", 3);
  const records = argument("--records", 200_000);
  const input = filterMapInput(records);
  runFilterMap(input.slice(0, 20_000)); // warm-up: compile the hot paths first
  const rates: ReturnType<typeof runFilterMap>[] = [];
  for (let r = 0; r < runs; r++) {
    const rate = runFilterMap(input);
    rates.push(rate);
    console.log(`run ${r + 1}: ${format(rate.perSecond)} records/s, ${format(rate.perCpuSecond)} records per CPU-second`);
  }
  console.log(
    `stream-topology-filter-map: median ${format(median(rates.map((r) => r.perSecond)))} records/s, ` +
      `${format(median(rates.map((r) => r.perCpuSecond)))} records per CPU-second ` +
      `(${format(records)} records of ${RECORD_BYTES} B, ${runs} runs)`,
  );
}

if (process.argv[1]?.endsWith("stream-topology.ts")) main();
