/**
 * A pipeline spread over pipeline threads runs as several members of its group, one runner on
 * each thread, each with the tasks of the partitions the group gave it. What the API shows is
 * one pipeline: per node and in total the members' sums (a watermark: the lowest), every task
 * once with the thread it runs on, and the summary's counters summed with the threads listed.
 */
import type { TNodeMetrics, TTaskMetrics } from "../schemas/pipeline.ts";
import type { EngineMetrics } from "../stream/runtime/pipeline-metrics.ts";
import type { RunSummary } from "./pipeline-thread-protocol.ts";

/** A running pipeline's summary, with where it runs: its pipeline threads (1, 2, …; none on the main thread). */
export type PlacedSummary = RunSummary & { threads: number[] };

/** What one member measured, and its thread (null: the main thread). */
export interface MemberMetrics {
  thread: number | null;
  metrics: EngineMetrics;
}

/** The totals of a pipeline that did nothing (or does not run here). */
export const noTotals = (): EngineMetrics["totals"] => ({
  recordsIn: 0,
  recordsOut: 0,
  recordsInPerSec: 0,
  recordsOutPerSec: 0,
  errors: 0,
  late: 0,
  lag: 0,
  tasks: 0,
});

const rounded = (n: number) => Math.round(n * 100) / 100;

function sumPorts(a: TNodeMetrics["in"], b: TNodeMetrics["in"]): TNodeMetrics["in"] {
  const out = { ...a };
  for (const [port, c] of Object.entries(b)) {
    const had = out[port];
    out[port] = had ? { records: had.records + c.records, perSec: rounded(had.perSec + c.perSec) } : c;
  }
  return out;
}

function sumStores(a: TNodeMetrics["stores"], b: TNodeMetrics["stores"]): TNodeMetrics["stores"] {
  const out = a.map((s) => ({ ...s }));
  for (const s of b) {
    const same = out.find((x) => x.store === s.store);
    if (same) {
      same.keys += s.keys;
      same.bytes += s.bytes;
    } else out.push({ ...s });
  }
  return out;
}

const lowest = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));
const nullableSum = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : a + b);

function sumNode(a: TNodeMetrics, b: TNodeMetrics): TNodeMetrics {
  return {
    kind: a.kind,
    recordsIn: a.recordsIn + b.recordsIn,
    recordsOut: a.recordsOut + b.recordsOut,
    recordsInPerSec: rounded(a.recordsInPerSec + b.recordsInPerSec),
    recordsOutPerSec: rounded(a.recordsOutPerSec + b.recordsOutPerSec),
    errors: a.errors + b.errors,
    errorsPerSec: rounded(a.errorsPerSec + b.errorsPerSec),
    late: a.late + b.late,
    in: sumPorts(a.in, b.in),
    out: sumPorts(a.out, b.out),
    // a member without tasks (or before any record) has none: it holds nothing back
    watermark: lowest(a.watermark, b.watermark),
    lag: nullableSum(a.lag, b.lag),
    stores: sumStores(a.stores, b.stores),
  };
}

/**
 * The members' metrics as one pipeline's. A partition handed from one member to another can
 * show in both for a moment (the old owner closing its task, the new one opening it): it is
 * listed once, by the member that committed more of it.
 */
export function mergedMetrics(members: readonly MemberMetrics[]): EngineMetrics {
  const nodes: Record<string, TNodeMetrics> = {};
  const tasks = new Map<number, TTaskMetrics>();
  const totals = noTotals();
  for (const { thread, metrics } of members) {
    for (const [id, n] of Object.entries(metrics.nodes)) nodes[id] = nodes[id] ? sumNode(nodes[id], n) : n;
    for (const t of metrics.tasks) {
      const had = tasks.get(t.partition);
      if (!had || t.commits > had.commits) tasks.set(t.partition, { ...t, thread });
    }
    totals.recordsIn += metrics.totals.recordsIn;
    totals.recordsOut += metrics.totals.recordsOut;
    totals.recordsInPerSec = rounded(totals.recordsInPerSec + metrics.totals.recordsInPerSec);
    totals.recordsOutPerSec = rounded(totals.recordsOutPerSec + metrics.totals.recordsOutPerSec);
    totals.errors += metrics.totals.errors;
    totals.late += metrics.totals.late;
  }
  const listed = [...tasks.values()].sort((a, b) => a.partition - b.partition);
  totals.tasks = listed.length;
  totals.lag = listed.reduce((n, t) => n + t.lag, 0);
  return { totals, nodes, tasks: listed };
}

/** The members' summaries as one pipeline's: counters and rates summed, lag summed as last measured, the threads listed. */
export function mergedSummary(members: readonly { thread: number; summary: RunSummary }[]): PlacedSummary {
  const out: PlacedSummary = {
    recordsIn: 0,
    recordsOut: 0,
    deadLetters: 0,
    commits: 0,
    lastCommitMs: 0,
    tasks: 0,
    recordsInPerSec: 0,
    errors: 0,
    lag: null,
    threads: [],
  };
  for (const { thread, summary: s } of members) {
    out.recordsIn += s.recordsIn;
    out.recordsOut += s.recordsOut;
    out.deadLetters += s.deadLetters;
    out.commits += s.commits;
    out.lastCommitMs = Math.max(out.lastCommitMs, s.lastCommitMs);
    out.tasks += s.tasks;
    out.recordsInPerSec = rounded(out.recordsInPerSec + s.recordsInPerSec);
    out.errors += s.errors;
    out.lag = nullableSum(out.lag, s.lag);
    out.threads.push(thread);
  }
  out.threads.sort((a, b) => a - b);
  return out;
}
