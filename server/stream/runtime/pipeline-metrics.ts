/**
 * The metrics of one running pipeline (#15), as the API and the WebSocket show them:
 *
 * - per node: records in and out per port, errors (records it failed on: dead-lettered, or
 *   dropped when the pipeline has no dead-letter sink), late records, its watermark and the size
 *   of its stores (keys, bytes approximately);
 * - per task: records in, commits, commit latency (last, p50 and p99 over the last minute), lag
 *   per input partition (its position against the partition's last stable offset), failures
 *   in a row and the last error.
 *
 * Counting stays off the per-record path: the topology counts into typed arrays
 * (node-counters.ts); a task takes those counts when a transaction begins and hands them over
 * here once it committed, so aborted work that is done again is counted once. Rates per second are computed from
 * samples of the counters taken once a second, over the last RATE_WINDOW_MS. Watermarks and
 * store sizes are read from the tasks' topologies only when a snapshot is taken.
 */
import type { TNodeMetrics, TPipelineDefinition, TPipelineMetrics, TTaskMetrics } from "../../schemas/pipeline.ts";
import { CounterLayout, NodeCounters } from "../node-counters.ts";
import { encodeState } from "../state/state-codec.ts";
import type { StateStore } from "../state/state-store.ts";
import type { Topology } from "../topology.ts";

/** Rates are the counters' change over this much time (less just after a start). */
export const RATE_WINDOW_MS = 5000;
export const SAMPLE_EVERY_MS = 1000;
/** Commit latency percentiles are over the commits of this much time. */
export const LATENCY_WINDOW_MS = 60_000;
/** Commit latencies kept per task (the percentiles of a busier task are over its latest commits). */
const LATENCY_SAMPLES = 1024;
/** Entries per store encoded to estimate its size in bytes. */
const STORE_SAMPLE = 16;

/** Why a unit of work failed: the message and the node to blame, when one is. */
export interface TaskFailure {
  message: string;
  node?: string;
}

/** What a committed transaction counted, taken when it began. */
export interface CommittedUnit {
  /** input records the task processed since it opened */
  recordsIn: number;
  /** the topology's counts since the task's previous transaction */
  nodes: NodeCounters;
  /** the task's positions it committed: the next offset it processes, per input topic */
  offsets: readonly { topic: string; offset: number }[];
  commitMs: number;
}

/** A node reading an input topic (a repartition topic's reader is the entry of its re-keyed part). */
interface Reader {
  node: string;
  repartition?: true;
}

/** What the runner measured for lag. */
export interface LagReading {
  /** topic → partition → last stable offset */
  ends: ReadonlyMap<string, ReadonlyMap<number, number>>;
  /** "topic:partition" → the group's lag from its committed offset (partitions no task has a position for yet) */
  committedLag: ReadonlyMap<string, number>;
}

export const NO_LAG_READING: LagReading = { ends: new Map(), committedLag: new Map() };

export type EngineMetrics = Pick<TPipelineMetrics, "totals" | "nodes" | "tasks">;

type StoreSize = { store: string; keys: number; bytes: number };

const finiteOrNull = (n: number): number | null => (Number.isFinite(n) ? n : null);

/** Nearest-rank percentile of sorted values. */
const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];

function sizeOf(name: string, store: StateStore<unknown>): StoreSize {
  const keys = store.size;
  if (keys === 0) return { store: name, keys, bytes: 0 };
  let sampled = 0;
  let bytes = 0;
  for (const [k, v] of store.entries()) {
    bytes += k.length + name.length + 1 + encodeState(v).length;
    if (++sampled === STORE_SAMPLE) break;
  }
  return { store: name, keys, bytes: Math.round((bytes / sampled) * keys) };
}

/** One task's meter: kept across the task's reopenings (after a failure), dropped when its partition moves away. */
class TaskMeter {
  recordsIn = 0;
  commits = 0;
  /** the task instance's input records when last seen (a reopened task counts from 0 again) */
  private seenIn = 0;
  private lastLatency: number | null = null;
  private readonly latency = new Float64Array(LATENCY_SAMPLES);
  private readonly latencyAt = new Float64Array(LATENCY_SAMPLES);
  private latencies = 0;
  readonly positions = new Map<string, number>();
  topology: Topology | null = null;
  failures = 0;
  lastError: (TaskFailure & { at: number }) | null = null;

  attach(topology: Topology): void {
    this.topology = topology;
    this.seenIn = 0;
  }

  committed(unit: CommittedUnit, now: number): number {
    const added = unit.recordsIn - this.seenIn;
    this.seenIn = unit.recordsIn;
    this.recordsIn += added;
    this.commits++;
    const i = this.latencies++ % LATENCY_SAMPLES;
    this.latency[i] = unit.commitMs;
    this.latencyAt[i] = now;
    this.lastLatency = unit.commitMs;
    for (const { topic, offset } of unit.offsets) this.positions.set(topic, offset);
    this.failures = 0;
    return added;
  }

  commitLatency(now: number): TTaskMetrics["commitLatencyMs"] {
    if (this.lastLatency === null) return null;
    const recent: number[] = [];
    for (let i = 0; i < Math.min(this.latencies, LATENCY_SAMPLES); i++)
      if (now - this.latencyAt[i] <= LATENCY_WINDOW_MS) recent.push(this.latency[i]);
    recent.sort((a, b) => a - b);
    const round = (n: number) => Math.round(n * 100) / 100;
    return {
      last: round(this.lastLatency),
      p50: recent.length > 0 ? round(percentile(recent, 0.5)) : round(this.lastLatency),
      p99: recent.length > 0 ? round(percentile(recent, 0.99)) : round(this.lastLatency),
      samples: recent.length,
    };
  }
}

interface Sample {
  at: number;
  nodes: NodeCounters;
  tasks: Map<number, number>;
}

export class PipelineMetrics {
  readonly layout: CounterLayout;
  /** committed counts of every task of this runner */
  private readonly nodes: NodeCounters;
  /** the input slots of the sources and tables: what the pipeline reads from its input topics */
  private readonly reads: number[];
  private readonly tasks = new Map<number, TaskMeter>();
  /** the topics the sources list and the tables read */
  private readonly listedTopics: readonly string[];
  /** the source and table nodes reading each listed topic */
  private readonly listedReaders = new Map<string, string[]>();
  /** the runner's inputs (topic → readers): repartition topics and a pattern's topics too, growing as a pattern matches more */
  private inputs: ReadonlyMap<string, readonly Reader[]> | null = null;
  private readonly sinks: number[];
  private samples: Sample[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    def: Pick<TPipelineDefinition, "nodes" | "edges">,
    private readonly clock: () => number = Date.now,
  ) {
    this.layout = new CounterLayout(def);
    this.nodes = new NodeCounters(this.layout);
    for (const n of def.nodes) {
      const read = n.config.kind === "source" ? (n.config.topics ?? []) : n.config.kind === "table" ? [n.config.topic] : [];
      for (const t of read) this.listedReaders.set(t, [...(this.listedReaders.get(t) ?? []), n.id]);
    }
    this.listedTopics = [...this.listedReaders.keys()];
    this.sinks = this.layout.kinds.flatMap((k, i) => (k === "sink" ? [i] : []));
    this.reads = def.nodes.flatMap((n) =>
      n.config.kind === "source" || n.config.kind === "table" ? [this.layout.inSlot(n.id, "in")] : [],
    );
  }

  /** The topics the tasks read (their lag is measured). */
  get inputTopics(): readonly string[] {
    return this.inputs ? [...this.inputs.keys()] : this.listedTopics;
  }

  /** The runner's inputs by topic, read live (a pattern source's grow). */
  readFrom(inputs: ReadonlyMap<string, readonly Reader[]>): void {
    this.inputs = inputs;
  }

  /** Samples the counters once a second (for rates) until `stop`. */
  start(): void {
    if (this.timer) return;
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private meter(partition: number): TaskMeter {
    let m = this.tasks.get(partition);
    if (!m) this.tasks.set(partition, (m = new TaskMeter()));
    return m;
  }

  /** Partition `partition`'s task opened (again) with `topology`. */
  opened(partition: number, topology: Topology): void {
    this.meter(partition).attach(topology);
  }

  /** The partition moved away: its task's meter goes (what it counted stays in the node totals). */
  closed(partition: number): void {
    this.tasks.delete(partition);
  }

  /** A transaction of partition `partition`'s task committed: its counts are added. */
  committed(partition: number, unit: CommittedUnit): void {
    this.meter(partition).committed(unit, this.clock());
    this.nodes.add(unit.nodes);
  }

  /** A unit failed: returns how many units of this task failed in a row. */
  failed(partition: number, failure: TaskFailure): number {
    const m = this.meter(partition);
    m.lastError = { ...failure, at: this.clock() };
    return ++m.failures;
  }

  /** Units of the partition's task that failed in a row (0 after a success). */
  failuresOf(partition: number): number {
    return this.tasks.get(partition)?.failures ?? 0;
  }

  /** Where partition `partition`'s task stands on `topic` (the next offset it processes), if it committed any. */
  position(partition: number, topic: string): number | undefined {
    return this.tasks.get(partition)?.positions.get(topic);
  }

  sample(): void {
    const at = this.clock();
    this.samples.push({
      at,
      nodes: this.nodes.copy(),
      tasks: new Map([...this.tasks].map(([p, m]) => [p, m.recordsIn])),
    });
    // keep the newest sample at least RATE_WINDOW_MS old, and every newer one
    while (this.samples.length > 1 && at - this.samples[1].at >= RATE_WINDOW_MS) this.samples.shift();
  }

  /** The rate of a counter now worth `value`, read from each sample by `at`. */
  private rate(value: number, at: (s: Sample) => number | undefined): number {
    const base = this.samples[0];
    if (!base) return 0;
    const dt = this.clock() - base.at;
    const was = at(base);
    if (dt < 100 || was === undefined) return 0;
    return Math.round((Math.max(0, value - was) / dt) * 1000 * 100) / 100;
  }

  /** Input records per second and errors, without reading the tasks' state (for lists). */
  /** Records the sources and tables read from the input topics (repartition topics are not counted again). */
  private read(c: NodeCounters): number {
    let n = 0;
    for (const slot of this.reads) n += c.received[slot];
    return n;
  }

  summary(): { recordsInPerSec: number; errors: number } {
    let errors = 0;
    for (const e of this.nodes.errors) errors += e;
    return { recordsInPerSec: this.rate(this.read(this.nodes), (s) => this.read(s.nodes)), errors };
  }

  /** Everything, with lag from `lag` for the tasks of `owned` partition numbers (and those with a meter). */
  snapshot(lag: LagReading, owned: readonly number[] = []): EngineMetrics {
    const now = this.clock();
    const partitions = [...new Set([...this.tasks.keys(), ...owned])].sort((a, b) => a - b);
    const tasks = partitions.map((p) => this.taskMetrics(p, this.tasks.get(p), lag, now));
    const nodes = this.nodeMetrics();
    for (const [id, behind] of this.lagByReader(tasks)) if (nodes[id]) nodes[id].lag = behind;
    let recordsOut = 0;
    let recordsOutPerSec = 0;
    for (const i of this.sinks) {
      recordsOut += nodes[this.layout.nodes[i]].recordsIn;
      recordsOutPerSec += nodes[this.layout.nodes[i]].recordsInPerSec;
    }
    let errors = 0;
    let late = 0;
    for (const n of Object.values(nodes)) {
      errors += n.errors;
      late += n.late;
    }
    return {
      totals: {
        recordsIn: this.read(this.nodes),
        recordsOut,
        recordsInPerSec: this.rate(this.read(this.nodes), (s) => this.read(s.nodes)),
        recordsOutPerSec: Math.round(recordsOutPerSec * 100) / 100,
        errors,
        late,
        lag: tasks.reduce((n, t) => n + t.lag, 0),
        tasks: tasks.length,
      },
      nodes,
      tasks,
    };
  }

  /** Total lag of the tasks of `owned` partition numbers (and those with a meter), by `lag`. */
  lag(lag: LagReading, owned: readonly number[]): number {
    let total = 0;
    for (const p of new Set([...this.tasks.keys(), ...owned])) for (const i of this.inputsOf(p, lag)) total += i.lag ?? 0;
    return total;
  }

  /**
   * Each source's and table's lag: what its tasks have not processed of the topics it reads (a
   * pattern source: the topics it matched), from the known lags of the tasks' inputs; a
   * repartition topic counts for no node. A reader no known lag reached is left out (null).
   */
  private lagByReader(tasks: readonly TTaskMetrics[]): Map<string, number> {
    const out = new Map<string, number>();
    for (const t of tasks) {
      for (const i of t.inputs) {
        if (i.lag === null) continue;
        const readers = this.inputs
          ? (this.inputs.get(i.topic) ?? []).flatMap((r) => (r.repartition ? [] : [r.node]))
          : (this.listedReaders.get(i.topic) ?? []);
        for (const node of readers) out.set(node, (out.get(node) ?? 0) + i.lag);
      }
    }
    return out;
  }

  private inputsOf(partition: number, lag: LagReading): TTaskMetrics["inputs"] {
    const m = this.tasks.get(partition);
    return this.inputTopics.map((topic) => {
      const position = m?.positions.get(topic) ?? null;
      const end = lag.ends.get(topic)?.get(partition) ?? null;
      const behind =
        position !== null && end !== null ? Math.max(0, end - position) : (lag.committedLag.get(`${topic}:${partition}`) ?? null);
      return { topic, partition, position, end, lag: behind };
    });
  }

  private taskMetrics(partition: number, m: TaskMeter | undefined, lag: LagReading, now: number): TTaskMetrics {
    const inputs = this.inputsOf(partition, lag);
    const stores = m?.topology ? [...m.topology.stores()].map(([name, s]) => sizeOf(name, s)) : [];
    return {
      partition,
      recordsIn: m?.recordsIn ?? 0,
      recordsInPerSec: m ? this.rate(m.recordsIn, (s) => s.tasks.get(partition) ?? 0) : 0,
      commits: m?.commits ?? 0,
      commitLatencyMs: m?.commitLatency(now) ?? null,
      lag: inputs.reduce((n, i) => n + (i.lag ?? 0), 0),
      inputs,
      watermark: m?.topology ? finiteOrNull(m.topology.watermark) : null,
      stores,
      thread: null, // where the runner runs is known to the one who placed it (server/pipelines)
      failures: m?.failures ?? 0,
      lastError: m?.lastError ?? null,
    };
  }

  private nodeMetrics(): Record<string, TNodeMetrics> {
    const { layout } = this;
    const topologies = [...this.tasks.values()].flatMap((m) => (m.topology ? [m.topology] : []));
    const stores = new Map<string, StoreSize[]>();
    for (const t of topologies) {
      for (const [name, s] of t.stores()) {
        const node = name.slice(0, name.indexOf("/"));
        const size = sizeOf(name, s);
        const list = stores.get(node) ?? [];
        const same = list.find((x) => x.store === name);
        if (same) {
          same.keys += size.keys;
          same.bytes += size.bytes;
        } else list.push(size);
        stores.set(node, list);
      }
    }
    const out: Record<string, TNodeMetrics> = {};
    layout.nodes.forEach((id, i) => {
      const kind = layout.kinds[i];
      const ports = (slots: typeof layout.inputs, count: (c: NodeCounters, slot: number) => number) => {
        const byPort: Record<string, { records: number; perSec: number }> = {};
        slots.forEach((s, slot) => {
          if (s.node !== i) return;
          const records = count(this.nodes, slot);
          byPort[s.port] = { records, perSec: this.rate(records, (x) => count(x.nodes, slot)) };
        });
        return byPort;
      };
      const inPorts = ports(layout.inputs, (c, slot) => c.receivedAt(slot));
      const outPorts = ports(layout.outputs, (c, slot) => c.emitted[slot]);
      const sum = (p: Record<string, { records: number; perSec: number }>, k: "records" | "perSec") =>
        Object.values(p).reduce((n, x) => n + x[k], 0);
      // a sink writes what it receives (in the same transaction)
      const writes = kind === "sink" || kind === "deadLetter";
      const watermarks = topologies.map((t) => (kind === "source" ? t.watermarkOf(id) : t.watermark)).filter(Number.isFinite);
      out[id] = {
        kind,
        recordsIn: sum(inPorts, "records"),
        recordsOut: writes ? sum(inPorts, "records") : sum(outPorts, "records"),
        recordsInPerSec: Math.round(sum(inPorts, "perSec") * 100) / 100,
        recordsOutPerSec: Math.round(sum(writes ? inPorts : outPorts, "perSec") * 100) / 100,
        errors: this.nodes.errors[i],
        errorsPerSec: this.rate(this.nodes.errors[i], (s) => s.nodes.errors[i]),
        late: this.nodes.late[i],
        in: inPorts,
        out: outPorts,
        watermark: watermarks.length > 0 ? Math.min(...watermarks) : null,
        lag: null,
        stores: stores.get(id) ?? [],
      };
    });
    return out;
  }
}
