/**
 * A pipeline definition made runnable: every node's processor built (expressions compiled and
 * type-checked, each failure a problem pinned to its node and field) and the edges resolved to
 * the downstream list of each output port. `process` pushes one input record from a source
 * through the graph, depth first, as Kafka Streams' processor topology does; sinks collect
 * what they receive, and a node that fails on a record (an expression error, a value of the
 * wrong type) hands that record to the dead letters, with the error and the node, and the
 * record's other paths go on.
 */
import {
  joinInputProblems,
  upstreamOf,
  type PipelineProblem,
  type TNodeConfig,
  type TPipelineDefinition,
  type TPipelineEdge,
  type TPipelineNode,
} from "../schemas/pipeline.ts";
import { Expression, ExpressionCompileError, ExpressionError, RESULT_TYPES } from "./expression.ts";
import { AggregateConfigError, AggregateProcessor, type TaskTime } from "./process/aggregate.ts";
import { DedupeProcessor } from "./process/dedupe.ts";
import { JoinConfigError, JoinProcessor } from "./process/join.ts";
import { WatermarkTracker, type UpstreamReports } from "./time/watermark.ts";
import {
  BranchProcessor,
  FilterProcessor,
  FlatMapProcessor,
  MapProcessor,
  MergeProcessor,
  SelectKeyProcessor,
} from "./process/stateless.ts";
import type { Emit, Processor } from "./process/processor.ts";
import { DecodeError, type StreamRecord } from "./record.ts";
import { inferRecordTypes } from "./record-types.ts";
import type { RepartitionInput } from "./repartition.ts";
import { CounterLayout, NodeCounters } from "./node-counters.ts";
import { StateBudget, type StateStore, type Stateful } from "./state/state-store.ts";
import { PIPELINE_STATE_LIMITS } from "../schemas/limits.ts";

/** What a sink node received: the record and the sink's settings. */
export interface SinkOutput {
  node: string;
  topic: string;
  partitionByKey: boolean;
  record: StreamRecord;
  /** a record on its way to a stateful node through a repartition topic (`node` is that node) */
  repartition?: true;
}

/** A record a node failed on. */
export interface DeadLetter {
  node: string;
  error: string;
  record: StreamRecord;
}

/** What a preview watches: each node's inputs, outputs and failures. */
export interface TopologyObserver {
  received(node: string, port: string, r: StreamRecord): void;
  emitted(node: string, port: string, r: StreamRecord): void;
  failed(d: DeadLetter): void;
}

interface Target {
  node: string;
  port: string;
  /** the repartition topic the record crosses to reach the node (runtime with several partitions) */
  via?: string;
}

/** An output port: its counter slot and where its records go. */
interface Outlet {
  slot: number;
  targets: Target[];
}

/**
 * One node as records reach it (made on its first use): a sink's settings or its processor, its
 * emit within a record's delivery, and its emit and fail outside one (windows closing, caches
 * flushing: each record a run of its own).
 */
interface NodeRun {
  sink: { topic: string; partitionByKey: boolean } | undefined;
  processor: Processor | undefined;
  emit: Emit;
  emitOutside: Emit;
  failOutside: (rec: StreamRecord, error: Error) => void;
}

const NO_OUTLETS: ReadonlyMap<string, Outlet> = new Map();

/** Where the records of one input (a source node, or a repartition topic) enter the graph. */
interface Entry {
  node: string;
  port: string;
  /** the input port's counter slot */
  slot: number;
  /** the event-time expression of a source, if it has one */
  eventTime: Expression | null;
  /**
   * A source's: the event times of its partitions. A repartition input's: the watermarks the
   * upstream tasks announced (one "partition" per task), not its records' times — those
   * interleave the tasks' outputs, so one task far ahead would make the others' records late.
   */
  tracker: WatermarkTracker;
  repartition: boolean;
}

/** Node kinds this build of the engine runs; the others are refused at validation, by name. */
const RUNNABLE: ReadonlySet<TNodeConfig["kind"]> = new Set([
  "source",
  "filter",
  "map",
  "flatMap",
  "selectKey",
  "branch",
  "merge",
  "aggregate",
  "dedupe",
  "table",
  "join",
  "sink",
  "deadLetter",
]);

function processorFor(config: TNodeConfig, time: TaskTime, rightIsTable: boolean, recordCache: boolean): Processor | null {
  switch (config.kind) {
    case "aggregate":
      return new AggregateProcessor(config, time, recordCache);
    case "dedupe":
      return new DedupeProcessor(config, time);
    case "join":
      return new JoinProcessor(config, rightIsTable, time);
    case "filter":
      return new FilterProcessor(config.condition);
    case "map":
      return new MapProcessor(config);
    case "flatMap":
      return new FlatMapProcessor(config.values);
    case "selectKey":
      return new SelectKeyProcessor(config.key);
    case "branch":
      return new BranchProcessor(config.branches);
    case "merge":
    case "source":
    case "table":
      return new MergeProcessor();
    default:
      return null; // sinks collect; the dead-letter sink receives failures
  }
}

/** How much longer than its sources' idle timeout an upstream task may stay silent (opening, restoring) before it stops holding time back. */
export const UPSTREAM_SILENCE_MS = 10_000;

/** Guards one record's walk through the graph (a flatMap chain can multiply it). */
export const MAX_STEPS_PER_RECORD = 100_000;

/** An event-time expression's result as ms since the epoch. */
function eventTimeOf(v: unknown): number {
  const ms = v instanceof Date ? v.getTime() : typeof v === "bigint" ? Number(v) : typeof v === "number" ? Math.trunc(v) : NaN;
  if (!Number.isSafeInteger(ms))
    throw new ExpressionError("eventTime: must return a timestamp or milliseconds since the epoch", "eventTime");
  return ms;
}

/** The kinds of the nodes where the records reaching `port` of `node` start (sources, tables). */
function rootsOf(
  def: { nodes: readonly TPipelineNode[]; edges: readonly TPipelineEdge[] },
  node: string,
  port: string,
): TNodeConfig["kind"][] {
  return upstreamOf(def, node, port)
    .map((n) => n.config.kind)
    .filter((k) => k === "source" || k === "table");
}

/** Node ids in an order where every edge goes forward (the graph is acyclic by schema). */
function upstreamFirst(def: TPipelineDefinition): string[] {
  const indegree = new Map(def.nodes.map((n) => [n.id, 0]));
  for (const e of def.edges) indegree.set(e.to.node, (indegree.get(e.to.node) ?? 0) + 1);
  const ready = def.nodes.filter((n) => indegree.get(n.id) === 0).map((n) => n.id);
  const order: string[] = [];
  while (ready.length > 0) {
    const id = ready.shift()!;
    order.push(id);
    for (const e of def.edges) {
      if (e.from.node !== id) continue;
      const d = indegree.get(e.to.node)! - 1;
      indegree.set(e.to.node, d);
      if (d === 0) ready.push(e.to.node);
    }
  }
  return order;
}

/**
 * Builds every node's processor (and each source's event-time expression), handing each to
 * `built`; every failure is a problem at its node and field. Works on an unfinished graph too
 * (see `expressionProblems`), and checks the join inputs (the shared rule of the schema).
 */
function compileNodes(
  graph: { nodes: readonly TPipelineNode[]; edges: readonly TPipelineEdge[] },
  time: TaskTime,
  built: (n: TPipelineNode, p: Processor | null, eventTime: Expression | null) => void,
  recordCache = false,
): PipelineProblem[] {
  const problems: PipelineProblem[] = [];
  for (const n of graph.nodes) {
    if (!RUNNABLE.has(n.config.kind)) {
      problems.push({ node: n.id, field: "config.kind", message: `node kind '${n.config.kind}' cannot run yet` });
      continue;
    }
    try {
      const rightIsTable = n.config.kind === "join" && rootsOf(graph, n.id, "right").every((k) => k === "table");
      const p = processorFor(n.config, time, rightIsTable, recordCache);
      const eventTime =
        n.config.kind === "source" && n.config.eventTime ? Expression.compile(n.config.eventTime, "eventTime", RESULT_TYPES.time) : null;
      built(n, p, eventTime);
    } catch (e) {
      if (!(e instanceof ExpressionCompileError || e instanceof AggregateConfigError || e instanceof JoinConfigError)) throw e;
      problems.push({ node: n.id, field: `config.${e.field}`, message: e.message });
    }
  }
  // each expression against the record type of its node's input (record-types.ts), once per field
  for (const p of inferRecordTypes(graph).problems) if (!problems.some((q) => q.node === p.node && q.field === p.field)) problems.push(p);
  return [...problems, ...joinInputProblems(graph)];
}

/**
 * What is wrong in the nodes themselves — expressions that do not compile or type-check, configs
 * a processor refuses, join inputs — of a graph that may be unfinished (ports left unconnected):
 * validation reports these as the editor draws, not only once the graph is whole.
 */
export function expressionProblems(graph: { nodes: readonly TPipelineNode[]; edges: readonly TPipelineEdge[] }): PipelineProblem[] {
  return compileNodes(graph, { watermark: Number.NEGATIVE_INFINITY }, () => undefined);
}

class StepLimitError extends Error {
  constructor() {
    super(`one input record made more than ${MAX_STEPS_PER_RECORD} records inside the pipeline`);
  }
}

export class Topology {
  private readonly processors = new Map<string, Processor>();
  /** node → its output ports' slots and targets (no string is made per record to find them) */
  private readonly downstream = new Map<string, Map<string, Outlet>>();
  private readonly runs = new Map<string, NodeRun>();
  /** table node → where its records enter (sources and repartition inputs enter by their clock) */
  private readonly tableEntries = new Map<string, { node: string; port: string; slot: number }>();
  private readonly sinks = new Map<string, { topic: string; partitionByKey: boolean }>();
  private steps = 0;
  /** Sees every record each node receives and emits (preview); absent when running. */
  observer: TopologyObserver | null = null;
  /** the task's event time, read by the windowed nodes */
  private readonly time: TaskTime = { watermark: Number.NEGATIVE_INFINITY };
  /** per input (a source node's id, or a repartition topic): where it enters and its watermark */
  private readonly clocks = new Map<string, Entry>();
  /** an upstream task reported since the reports were last taken (`takeUpstreamReports`) */
  private upstreamReported = false;
  /** nodes with state that reacts to time, upstream first */
  private timed: string[] = [];
  /** nodes with a record cache, upstream first */
  private cached: string[] = [];
  private flushing = false;
  /** What the sinks received since the last `drain`. */
  private outputs: SinkOutput[] = [];
  private deadLetters: DeadLetter[] = [];
  /** The dead-letter sink's topic, if the pipeline has one. */
  readonly deadLetterTopic: string | null;
  /** Records in and out per port, errors and late records per node, since the runtime last took them. */
  readonly counters: NodeCounters;
  /** the counters' arrays, read without going through `counters` on the per-record path */
  private readonly received: Float64Array;
  private readonly emitted: Float64Array;
  /** per node slot: its processor's late count when the counters last took it */
  private readonly lateTaken: Float64Array;
  /** the dead-letter sink's input slot, or -1 */
  private readonly deadLetterSlot: number;
  /** What the task's stores hold together, against the pipeline's state limits per task. */
  readonly stateBudget: StateBudget;
  /** Source node → the topics (or pattern) it reads. */
  readonly sources: ReadonlyMap<string, Extract<TNodeConfig, { kind: "source" }>>;
  /** Table node → the (compacted) topic it reads. */
  readonly tables: ReadonlyMap<string, Extract<TNodeConfig, { kind: "table" }>>;

  private constructor(def: TPipelineDefinition, repartition: readonly RepartitionInput[]) {
    const sources = new Map<string, Extract<TNodeConfig, { kind: "source" }>>();
    const tables = new Map<string, Extract<TNodeConfig, { kind: "table" }>>();
    let deadLetterTopic: string | null = null;
    for (const n of def.nodes) {
      if (n.config.kind === "source") sources.set(n.id, n.config);
      if (n.config.kind === "table") tables.set(n.id, n.config);
      if (n.config.kind === "sink") this.sinks.set(n.id, { topic: n.config.topic, partitionByKey: n.config.partitionByKey });
      if (n.config.kind === "deadLetter") deadLetterTopic = n.config.topic;
    }
    this.sources = sources;
    this.tables = tables;
    this.stateBudget = new StateBudget({
      keys: def.settings.maxStateKeysPerTask ?? PIPELINE_STATE_LIMITS.defaultKeysPerTask,
      bytes: def.settings.maxStateBytesPerTask ?? PIPELINE_STATE_LIMITS.defaultBytesPerTask,
    });
    this.deadLetterTopic = deadLetterTopic;
    const layout = new CounterLayout(def);
    this.counters = new NodeCounters(layout);
    this.received = this.counters.received;
    this.emitted = this.counters.emitted;
    this.lateTaken = new Float64Array(layout.nodes.length);
    const deadLetterNode = def.nodes.find((n) => n.config.kind === "deadLetter");
    this.deadLetterSlot = deadLetterNode ? layout.inSlot(deadLetterNode.id, "in") : -1;
    layout.outputs.forEach(({ node, port }, slot) => {
      const id = layout.nodes[node];
      let ports = this.downstream.get(id);
      if (!ports) this.downstream.set(id, (ports = new Map()));
      ports.set(port, { slot, targets: [] });
    });
    for (const e of def.edges) {
      const via = repartition.find(
        (r) => r.node === e.to.node && r.port === e.to.port && r.from.some((f) => f.node === e.from.node && f.port === e.from.port),
      );
      this.downstream
        .get(e.from.node)!
        .get(e.from.port)!
        .targets.push({ node: e.to.node, port: e.to.port, ...(via ? { via: via.topic } : {}) });
    }
    for (const id of tables.keys()) this.tableEntries.set(id, { node: id, port: "in", slot: layout.inSlot(id, "in") });
  }

  /**
   * Builds the topology of a (schema-valid) definition, or lists why it cannot run. With
   * `repartition` (the runtime over several partitions) the records of those edges leave as
   * outputs to their repartition topics and come back through `process(topic, …)`; without it
   * (one task sees everything: preview, tests) they flow straight on.
   */
  /**
   * `recordCache`: aggregates emitting every update collapse a key's updates between two drains
   * (the running pipeline's commits) into its latest result; previews and test runs leave it off
   * and see every update.
   */
  static build(
    def: TPipelineDefinition,
    repartition: readonly RepartitionInput[] = [],
    opts: { recordCache?: boolean } = {},
  ): { topology: Topology | null; problems: PipelineProblem[] } {
    const t = new Topology(def, repartition);
    const problems = compileNodes(
      def,
      t.time,
      (n, p, eventTime) => {
        if (p) t.processors.set(n.id, p);
        if (n.config.kind === "source") {
          const tracker = new WatermarkTracker({ outOfOrdernessMs: n.config.outOfOrdernessMs, idleTimeoutMs: n.config.idleTimeoutMs });
          const slot = t.counters.layout.inSlot(n.id, "in");
          t.clocks.set(n.id, { node: n.id, port: "in", slot, eventTime, tracker, repartition: false });
        }
      },
      opts.recordCache,
    );
    const sourceConfigs = new Map(def.nodes.flatMap((n) => (n.config.kind === "source" ? [[n.id, n.config] as const] : [])));
    for (const r of repartition) {
      const from = r.sources.map((s) => sourceConfigs.get(s)).filter((c) => c !== undefined);
      // an upstream task speaks as its sources' watermark moves (at most once a second), and once
      // when they idle (a task opening again restores that from its changelog): one not heard
      // from this long, nor caught up to, is gone
      const tracker = new WatermarkTracker({
        outOfOrdernessMs: 0,
        idleTimeoutMs: Math.max(100, ...from.map((c) => c.idleTimeoutMs)) + UPSTREAM_SILENCE_MS,
      });
      const slot = t.counters.layout.inSlot(r.node, r.port);
      t.clocks.set(r.entry, { node: r.node, port: r.port, slot, eventTime: null, tracker, repartition: true });
    }
    t.timed = upstreamFirst(def).filter((id) => t.processors.get(id)?.onWatermark !== undefined);
    t.cached = upstreamFirst(def).filter((id) => t.processors.get(id)?.flush !== undefined);
    for (const [node, p] of t.processors)
      for (const store of (p as Partial<Stateful>).stores?.values() ?? []) store.bind(t.stateBudget, node);
    return { topology: problems.length === 0 ? t : null, problems };
  }

  /**
   * Pushes one input record, read by source node `source` (or a repartition input's `entry`)
   * at wall-clock `now`, through the graph: its event time is taken (the source's expression,
   * else the record's timestamp), the input's watermark observes it, the record flows, and then
   * windows the watermark passed close.
   */
  process(source: string, input: StreamRecord, now = Date.now()): void {
    const clock = this.clocks.get(source);
    const entry = clock ?? this.tableEntries.get(source);
    if (!entry) throw new Error(`'${source}' is not an input of this topology`);
    // a record read (a repartition input's records were counted as their upstream node emitted them)
    if (!clock?.repartition) this.received[entry.slot]++;
    let r = input;
    if (clock?.eventTime) {
      try {
        r = { ...input, timestamp: eventTimeOf(clock.eventTime.evaluate(input)) };
      } catch (e) {
        if (!(e instanceof ExpressionError)) throw e;
        this.fail({ node: source, error: e.message, record: input });
        return;
      }
    }
    if (!clock?.repartition) clock?.tracker.observe(r.origin.partition, r.timestamp, now);
    this.run(entry.node, entry.port, r);
    this.advance(now);
  }

  /**
   * Moves the task's event time to wall-clock `now` (the runtime calls this on a timer too, so
   * idle inputs still close windows) and lets the windowed nodes emit what closed.
   */
  advance(now = Date.now()): number {
    let watermark = Number.POSITIVE_INFINITY;
    for (const { tracker, repartition } of this.clocks.values()) {
      const w = tracker.advance(now);
      // a source with no record yet holds nothing back; upstream tasks not heard from yet do
      if (w === Number.NEGATIVE_INFINITY && !repartition) continue;
      if (w < watermark) watermark = w;
    }
    if (!Number.isFinite(watermark) || watermark <= this.time.watermark) return this.time.watermark;
    this.time.watermark = watermark;
    for (const node of this.timed) {
      const n = this.runOf(node);
      n.processor!.onWatermark!(watermark, n.emitOutside, n.failOutside);
    }
    return watermark;
  }

  /**
   * `node` emitted `rec` on port `out`: counted, and sent on to every input wired to it (through
   * its repartition topic when it crosses one) — within the record being delivered, or else as a
   * record of its own under the step limit.
   */
  private forward(node: string, outlets: ReadonlyMap<string, Outlet>, out: string, rec: StreamRecord, withinDelivery: boolean): void {
    this.observer?.emitted(node, out, rec);
    const o = outlets.get(out);
    if (!o) return;
    this.emitted[o.slot]++;
    for (const t of o.targets) {
      if (t.via) this.crossTo(t, rec);
      else if (withinDelivery) this.deliver(t.node, t.port, rec);
      else this.run(t.node, t.port, rec);
    }
  }

  /**
   * Upstream task `task` announced through repartition input `entry` that its sources' watermark
   * reached `watermark` (Flink's watermarks through a shuffle): the input's watermark is the
   * lowest over the upstream tasks.
   */
  observeUpstream(entry: string, task: number, watermark: number, idle: boolean, now = Date.now()): void {
    const tracker = this.clocks.get(entry)?.tracker;
    if (idle) tracker?.observeIdle(task, watermark, now);
    else tracker?.observe(task, watermark, now);
    this.upstreamReported = true;
    this.advance(now);
  }

  /**
   * The runtime looks at its inputs' ends: from now on an input partition idles only once seen
   * caught up after its last record (`sawEnd`), so a task replaying a backlog is never idle.
   */
  confirmIdle(): void {
    for (const c of this.clocks.values()) c.tracker.confirmIdle();
  }

  /**
   * A look at the end of input `input` (a source node, or a repartition input's entry) for the
   * task's partition `partition` at wall-clock `now`: records wait past its position, or none do.
   */
  sawEnd(input: string, partition: number, waiting: boolean, now = Date.now()): void {
    const c = this.clocks.get(input);
    // a repartition input's "partitions" are the upstream tasks, all writing to the one looked at
    c?.tracker.sawEnd(c.repartition ? undefined : partition, waiting, now);
  }

  /** Whether every source partition of the task is idle (then it says so downstream, once). */
  sourcesIdleAt(now: number): boolean {
    for (const c of this.clocks.values()) if (!c.repartition && !c.tracker.idleAt(now)) return false;
    return true;
  }

  /**
   * The task owns partition `partition` of its inputs and will hear from upstream tasks
   * 0..tasks-1 on its repartition inputs: each holds time back until it reports or idles (a
   * source partition without records idles after its idle timeout, and then its time follows
   * the wall clock, so a task with an empty input still announces a watermark downstream).
   */
  expect(partition: number, tasks: number, now = Date.now()): void {
    for (const c of this.clocks.values()) {
      if (!c.repartition) c.tracker.expect(partition, now);
      else for (let t = 0; t < tasks; t++) c.tracker.expect(t, now);
    }
  }

  /** What this task announces to the tasks reading its repartitioned records: its sources' watermark. */
  get sourceWatermark(): number {
    let w = Number.POSITIVE_INFINITY;
    for (const c of this.clocks.values()) {
      if (c.repartition) continue;
      const cw = c.tracker.watermark;
      if (cw !== Number.NEGATIVE_INFINITY && cw < w) w = cw;
    }
    return w === Number.POSITIVE_INFINITY ? Number.NEGATIVE_INFINITY : w;
  }

  /** The task's event-time watermark. */
  get watermark(): number {
    return this.time.watermark;
  }

  /** Source node `node`'s own watermark (its input partitions'), before the task takes the lowest. */
  watermarkOf(node: string): number {
    return this.clocks.get(node)?.tracker.watermark ?? Number.NEGATIVE_INFINITY;
  }

  /** Every store of the stateful nodes, by `node/store`: what a task commits and restores. */
  stores(): Map<string, StateStore<unknown>> {
    const out = new Map<string, StateStore<unknown>>();
    for (const [node, p] of this.processors) {
      const s = (p as Partial<Stateful>).stores;
      if (s) for (const [name, store] of s) out.set(`${node}/${name}`, store);
    }
    return out;
  }

  /**
   * The stores were read back from the changelog: the nodes rebuild what they index beside
   * them, and event time resumes at the committed watermark (a window that closed and emitted
   * before a crash stays closed after it).
   */
  restored(watermark: number, upstream: UpstreamReports | null = null, now = Date.now()): void {
    for (const p of this.processors.values()) (p as Partial<Stateful>).restored?.();
    if (watermark > this.time.watermark) this.time.watermark = watermark;
    for (const [entry, reports] of Object.entries(upstream ?? {})) {
      const c = this.clocks.get(entry);
      if (c?.repartition) c.tracker.restore(reports, now);
    }
  }

  /**
   * What the upstream tasks last reported on each repartition input, if any reported since the
   * last call: the task commits it with the positions past those reports, so a task opening
   * again knows which upstream tasks said they are idle (they say it once) instead of waiting
   * out their silence.
   */
  takeUpstreamReports(): UpstreamReports | null {
    if (!this.upstreamReported) return null;
    this.upstreamReported = false;
    const out: UpstreamReports = {};
    for (const [entry, c] of this.clocks) if (c.repartition) out[entry] = c.tracker.reports();
    return out;
  }

  /** An input record that could not be decoded in its node's formats: a dead letter as it came. */
  rejectInput(node: string, r: StreamRecord, error: Error): void {
    const clock = this.clocks.get(node);
    const entry = clock ?? this.tableEntries.get(node);
    if (entry && !clock?.repartition) this.received[entry.slot]++;
    this.fail({ node, error: error.message, record: r });
  }

  /** Whether a record or a tick left something to commit (outputs, dead letters). */
  get pending(): boolean {
    return this.pendingCount > 0;
  }

  /** The sink outputs held for the next drain, in the order they were emitted. */
  get pendingOutputs(): readonly SinkOutput[] {
    return this.outputs;
  }

  /** The runtime took the pending outputs (`pendingOutputs`) between two records. */
  clearOutputs(): void {
    this.outputs.length = 0;
  }

  /** Outputs and dead letters held for the next drain. */
  get pendingCount(): number {
    return this.outputs.length + this.deadLetters.length;
  }

  /** Delivers one record to `node` and all it leads to, all or nothing under the step limit. */
  private run(node: string, port: string, r: StreamRecord): void {
    this.steps = 0;
    const outputsBefore = this.outputs.length;
    const deadBefore = this.deadLetters.length;
    try {
      this.deliver(node, port, r);
    } catch (e) {
      if (!(e instanceof StepLimitError)) throw e;
      // all or nothing: what this record already produced is withdrawn
      this.outputs.length = outputsBefore;
      this.deadLetters.length = deadBefore;
      this.fail({ node, error: e.message, record: r });
    }
    if (this.cached.length > 0 && !this.flushing) this.flushFullCaches();
  }

  /** Record caches that filled up empty now, each of their records a run of its own. */
  private flushFullCaches(): void {
    this.flushing = true;
    try {
      for (const node of this.cached) {
        const p = this.processors.get(node)!;
        if (p.cacheFull) p.flush!(this.runOf(node).emitOutside);
      }
    } finally {
      this.flushing = false;
    }
  }

  /** A record leaves for the task owning its new key: an output to the repartition topic. */
  private crossTo(t: Target, r: StreamRecord): void {
    this.outputs.push({ node: t.node, topic: t.via!, partitionByKey: true, record: r, repartition: true });
  }

  private fail(d: DeadLetter): void {
    const slot = this.counters.layout.node(d.node);
    if (slot >= 0) this.counters.errors[slot]++;
    if (this.deadLetterSlot >= 0) this.received[this.deadLetterSlot]++;
    this.deadLetters.push(d);
    this.observer?.failed(d);
  }

  /** `node` as records reach it, made on its first use. */
  private runOf(node: string): NodeRun {
    let n = this.runs.get(node);
    if (!n) {
      const outlets = this.downstream.get(node) ?? NO_OUTLETS;
      n = {
        sink: this.sinks.get(node),
        processor: this.processors.get(node),
        emit: (out, rec) => this.forward(node, outlets, out, rec, true),
        emitOutside: (out, rec) => this.forward(node, outlets, out, rec, false),
        failOutside: (rec, error) => this.fail({ node, error: error.message, record: rec }),
      };
      this.runs.set(node, n);
    }
    return n;
  }

  private deliver(node: string, port: string, r: StreamRecord): void {
    if (++this.steps > MAX_STEPS_PER_RECORD) throw new StepLimitError();
    this.observer?.received(node, port, r);
    const n = this.runOf(node);
    const sink = n.sink;
    if (sink) {
      this.outputs.push({ node, topic: sink.topic, partitionByKey: sink.partitionByKey, record: r });
      return;
    }
    const p = n.processor;
    if (!p) return;
    try {
      p.process(port, r, n.emit);
    } catch (e) {
      // a failure further down was recorded where it happened and does not reach here
      if (!(e instanceof ExpressionError || e instanceof DecodeError)) throw e;
      this.fail({ node, error: e.message, record: r });
    }
  }

  /** What the sinks and the dead letters received since the last call. */
  drain(): { outputs: SinkOutput[]; deadLetters: DeadLetter[] } {
    // the record caches empty into this drain (a commit), upstream first so a flush reaches the caches below it
    for (const node of this.cached) this.processors.get(node)!.flush!(this.runOf(node).emitOutside);
    this.countLate();
    const out = { outputs: this.outputs, deadLetters: this.deadLetters };
    this.outputs = [];
    this.deadLetters = [];
    return out;
  }

  /** The late records the nodes set aside since the last call, into the counters. */
  private countLate(): void {
    const layout = this.counters.layout;
    for (const [node, p] of this.processors) {
      const late = (p as { late?: unknown }).late;
      if (typeof late !== "number") continue;
      const slot = layout.node(node);
      this.counters.late[slot] += late - this.lateTaken[slot];
      this.lateTaken[slot] = late;
    }
  }
}
