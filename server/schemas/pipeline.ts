/**
 * A stream-processing pipeline as the editor draws it, the API stores it and the engine runs it:
 * nodes with typed configs and edges from an output port of one node to an input port of
 * another. One schema for server, editor and API; the structural rules (unique ids, edges
 * between existing ports, no cycle, every port connected) are checked here too, so the editor
 * refuses a bad connection as it is drawn with the same words the server would use. Checks that
 * need the cluster or the CEL type checker (topics exist, expressions type-check against each
 * port's record type, joins co-partitioned) are the server's (`server/stream`).
 */
import { z } from "zod";
import { ZTopicName } from "./topic.ts";
import { zSafeString } from "./common.ts";
import { testTimeMs, ZPipelineTestCases, ZTestTime } from "./pipeline-tests.ts";
import { PIPELINE_STATE_LIMITS } from "./limits.ts";

/** Limits that keep one pipeline's validation and run bounded. */
export const PIPELINE_LIMITS = {
  nodes: 200,
  edges: 400,
  celLength: 4096,
  branches: 32,
  sourceTopics: 32,
  aggregations: 16,
  /** windows one record may fall in (hopping size / advance) */
  windowsPerRecord: 1000,
  /** 30 days: the longest window, grace, join window or dedupe window */
  maxDurationMs: 30 * 24 * 3_600_000,
} as const;

export const ZPipelineName = z
  .string()
  .min(1, "pipeline name must not be empty")
  .max(100, "pipeline name must be at most 100 characters")
  .regex(
    /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/,
    "pipeline name may contain only ASCII letters, digits, '.', '_' and '-' and must start with a letter or digit",
  );

export const ZNodeId = z
  .string()
  .min(1, "node id must not be empty")
  .max(64, "node id must be at most 64 characters")
  .regex(/^[a-zA-Z][a-zA-Z0-9_-]*$/, "node id must start with a letter and hold only letters, digits, '_' and '-'");

/** A CEL expression (never JavaScript): compiled, cost-limited and type-checked by server/cel. */
export const ZCel = zSafeString("expression", { min: 1, max: PIPELINE_LIMITS.celLength, text: true });

const zDuration = (field: string, min = 0) =>
  z
    .number()
    .int(`${field} must be a whole number of milliseconds`)
    .min(min, `${field} must be at least ${min} ms`)
    .max(PIPELINE_LIMITS.maxDurationMs, `${field} must be at most 30 days`);

export const ZRecordFormat = z.enum(["json", "text", "bytes"]);

export const ZSourceStart = z.union([
  z.literal("earliest"),
  z.literal("latest"),
  z.literal("committed"),
  z.object({ timestamp: z.number().int().min(0) }).strict(),
]);

const ZSource = z
  .object({
    kind: z.literal("source"),
    topics: z.array(ZTopicName).min(1, "a source needs at least one topic").max(PIPELINE_LIMITS.sourceTopics).optional(),
    topicPattern: zSafeString("topicPattern", { min: 1, max: 255 }).optional(),
    start: ZSourceStart.default("committed"),
    keyFormat: ZRecordFormat.default("text"),
    valueFormat: ZRecordFormat.default("json"),
    /** event time: the record's timestamp, or a CEL expression giving milliseconds */
    eventTime: ZCel.optional(),
    /** how far behind the highest event time a record may arrive on time */
    outOfOrdernessMs: zDuration("outOfOrdernessMs").default(0),
    /** wall-clock time without records after which a partition stops holding the watermark */
    idleTimeoutMs: zDuration("idleTimeoutMs", 100).default(5_000),
  })
  .strict()
  .refine((s) => (s.topics === undefined) !== (s.topicPattern === undefined), {
    message: "a source reads either topics or a topicPattern (exactly one)",
    path: ["topics"],
  });

const ZFilter = z.object({ kind: z.literal("filter"), condition: ZCel }).strict();

const ZMap = z
  .object({ kind: z.literal("map"), key: ZCel.optional(), value: ZCel.optional(), headers: ZCel.optional() })
  .strict()
  .refine((m) => m.key !== undefined || m.value !== undefined || m.headers !== undefined, {
    message: "a map sets at least one of key, value or headers",
    path: ["value"],
  });

const ZFlatMap = z.object({ kind: z.literal("flatMap"), values: ZCel }).strict();

const ZSelectKey = z.object({ kind: z.literal("selectKey"), key: ZCel }).strict();

const ZBranch = z
  .object({
    kind: z.literal("branch"),
    branches: z
      .array(z.object({ name: ZNodeId, condition: ZCel }).strict())
      .min(1, "a branch needs at least one condition")
      .max(PIPELINE_LIMITS.branches),
  })
  .strict()
  .superRefine((b, ctx) => {
    const seen = new Set<string>();
    b.branches.forEach((br, i) => {
      if (br.name === "default")
        ctx.addIssue({ code: "custom", message: "'default' is the branch of records no condition matched", path: ["branches", i, "name"] });
      if (seen.has(br.name))
        ctx.addIssue({ code: "custom", message: `branch name '${br.name}' is used twice`, path: ["branches", i, "name"] });
      seen.add(br.name);
    });
  });

const ZMerge = z.object({ kind: z.literal("merge") }).strict();

export const ZWindow = z.discriminatedUnion("type", [
  z.object({ type: z.literal("tumbling"), sizeMs: zDuration("sizeMs", 1), graceMs: zDuration("graceMs").default(0) }).strict(),
  z
    .object({
      type: z.literal("hopping"),
      sizeMs: zDuration("sizeMs", 1),
      advanceMs: zDuration("advanceMs", 1),
      graceMs: zDuration("graceMs").default(0),
    })
    .strict()
    .superRefine((w, ctx) => {
      if (w.advanceMs > w.sizeMs) ctx.addIssue({ code: "custom", message: "advanceMs must not exceed sizeMs", path: ["advanceMs"] });
      else if (Math.ceil(w.sizeMs / w.advanceMs) > PIPELINE_LIMITS.windowsPerRecord)
        ctx.addIssue({
          code: "custom",
          message: `sizeMs / advanceMs must be at most ${PIPELINE_LIMITS.windowsPerRecord}`,
          path: ["advanceMs"],
        });
    }),
  z
    .object({ type: z.literal("sliding"), timeDifferenceMs: zDuration("timeDifferenceMs", 1), graceMs: zDuration("graceMs").default(0) })
    .strict(),
  z.object({ type: z.literal("session"), gapMs: zDuration("gapMs", 1), graceMs: zDuration("graceMs").default(0) }).strict(),
]);
export type TWindow = z.infer<typeof ZWindow>;

export const ZAggregation = z.discriminatedUnion("fn", [
  z.object({ fn: z.literal("count"), as: ZNodeId }).strict(),
  z.object({ fn: z.enum(["sum", "min", "max", "avg", "distinctCount"]), of: ZCel, as: ZNodeId }).strict(),
  /** a custom reducer: `init` gives the first accumulator, `add` the next from `acc` and the record */
  z.object({ fn: z.literal("reduce"), init: ZCel, add: ZCel, as: ZNodeId }).strict(),
]);

const ZAggregate = z
  .object({
    kind: z.literal("aggregate"),
    /** absent: an un-windowed table aggregate (latest total per key) */
    window: ZWindow.optional(),
    aggregations: z.array(ZAggregation).min(1, "an aggregate needs at least one aggregation").max(PIPELINE_LIMITS.aggregations),
    /** every update, or only the final result once the window closed (Kafka Streams' suppress) */
    emit: z.enum(["update", "final"]).default("update"),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.emit === "final" && !a.window)
      ctx.addIssue({ code: "custom", message: "emit 'final' needs a window (a table never closes)", path: ["emit"] });
    const seen = new Set<string>();
    a.aggregations.forEach((g, i) => {
      if (seen.has(g.as))
        ctx.addIssue({ code: "custom", message: `result field '${g.as}' is named twice`, path: ["aggregations", i, "as"] });
      seen.add(g.as);
    });
  });

/** A table from a (compacted) topic: the latest value per key. */
const ZTable = z
  .object({
    kind: z.literal("table"),
    topic: ZTopicName,
    keyFormat: ZRecordFormat.default("text"),
    valueFormat: ZRecordFormat.default("json"),
  })
  .strict();

const ZJoin = z
  .object({
    kind: z.literal("join"),
    /** stream–table joins: inner or left; stream–stream: inner, left or outer within `windowMs` */
    type: z.enum(["inner", "left", "outer"]).default("inner"),
    /** stream–stream only: records join when their event times are at most this far apart */
    windowMs: zDuration("windowMs", 1).optional(),
    graceMs: zDuration("graceMs").default(0),
    /** the joined value; `left` and `right` are the two records' values */
    value: ZCel.optional(),
  })
  .strict();

const ZDedupe = z.object({ kind: z.literal("dedupe"), by: ZCel.optional(), windowMs: zDuration("windowMs", 1) }).strict();

const ZSink = z
  .object({
    kind: z.literal("sink"),
    topic: ZTopicName,
    createTopic: z
      .object({ partitions: z.number().int().min(1).max(1000) })
      .strict()
      .optional(),
    /** partition by the record's key (Kafka's partitioner); false: the sticky partitioner */
    partitionByKey: z.boolean().default(true),
  })
  .strict();

/** Receives every record a node failed on, with the error, the node and the input position in headers. */
const ZDeadLetter = z
  .object({
    kind: z.literal("deadLetter"),
    topic: ZTopicName,
    createTopic: z
      .object({ partitions: z.number().int().min(1).max(1000) })
      .strict()
      .optional(),
  })
  .strict();

export const ZNodeConfig = z.discriminatedUnion("kind", [
  ZSource,
  ZFilter,
  ZMap,
  ZFlatMap,
  ZSelectKey,
  ZBranch,
  ZMerge,
  ZAggregate,
  ZTable,
  ZJoin,
  ZDedupe,
  ZSink,
  ZDeadLetter,
]);
export type TNodeConfig = z.infer<typeof ZNodeConfig>;
export type TNodeKind = TNodeConfig["kind"];

export const ZPipelineNode = z
  .object({
    id: ZNodeId,
    label: zSafeString("label", { max: 100 }).optional(),
    /** where the editor drew it */
    position: z.object({ x: z.number().finite(), y: z.number().finite() }).strict().optional(),
    config: ZNodeConfig,
  })
  .strict();
export type TPipelineNode = z.infer<typeof ZPipelineNode>;

export const ZPortRef = z.object({ node: ZNodeId, port: ZNodeId }).strict();

export const ZPipelineEdge = z.object({ from: ZPortRef, to: ZPortRef }).strict();
export type TPipelineEdge = z.infer<typeof ZPipelineEdge>;

/** The ports of a node, by its config: inputs, and outputs (branch outputs are named by the user). */
export function portsOf(config: TNodeConfig): { inputs: string[]; outputs: string[] } {
  switch (config.kind) {
    case "source":
    case "table":
      return { inputs: [], outputs: ["out"] };
    case "join":
      // a stream–stream join (it has a window) sends records past their window to `late`
      return { inputs: ["left", "right"], outputs: config.windowMs === undefined ? ["out"] : ["out", "late"] };
    case "branch":
      return { inputs: ["in"], outputs: [...config.branches.map((b) => b.name), "default"] };
    case "aggregate":
      return { inputs: ["in"], outputs: config.window ? ["out", "late"] : ["out"] };
    case "dedupe":
      return { inputs: ["in"], outputs: ["out", "late"] };
    case "sink":
    case "deadLetter":
      return { inputs: config.kind === "sink" ? ["in"] : [], outputs: [] };
    default:
      return { inputs: ["in"], outputs: ["out"] };
  }
}

/** Node kinds that keep state per key (they need their inputs partitioned by that key). */
export const STATEFUL_KINDS: ReadonlySet<TNodeKind> = new Set(["aggregate", "join", "dedupe"]);

/** Every node upstream of `port` of `node` (any input port when `port` is omitted), each once. */
export function upstreamOf(
  def: { nodes: readonly TPipelineNode[]; edges: readonly TPipelineEdge[] },
  node: string,
  port?: string,
): TPipelineNode[] {
  const byId = new Map(def.nodes.map((n) => [n.id, n]));
  const found: TPipelineNode[] = [];
  const seen = new Set<string>();
  const stack = def.edges.filter((e) => e.to.node === node && (port === undefined || e.to.port === port)).map((e) => e.from.node);
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const n = byId.get(id);
    if (!n) continue;
    found.push(n);
    for (const e of def.edges) if (e.to.node === id) stack.push(e.from.node);
  }
  return found;
}

/** Input ports that take several edges (an implicit merge); every other input takes exactly one. */
function takesMany(config: TNodeConfig, port: string): boolean {
  return config.kind === "merge" || (config.kind === "sink" && port === "in");
}

/** Output ports that may stay unconnected (records there are counted, then dropped). */
function mayDangle(config: TNodeConfig, port: string): boolean {
  return port === "late" || (config.kind === "branch" && port === "default");
}

export const ZPipelineSettings = z
  .object({
    /** how often each task commits its outputs, input offsets and state in one transaction */
    commitIntervalMs: z.number().int().min(10).max(60_000).default(100),
    /** keys one task may hold over all its stores (default PIPELINE_STATE_LIMITS.defaultKeysPerTask) */
    maxStateKeysPerTask: z.number().int().min(1).max(PIPELINE_STATE_LIMITS.maxKeysPerTask).optional(),
    /** changelog bytes one task's state may take, estimated (default PIPELINE_STATE_LIMITS.defaultBytesPerTask) */
    maxStateBytesPerTask: z.number().int().min(1024).max(PIPELINE_STATE_LIMITS.maxBytesPerTask).optional(),
  })
  .strict();

/** One structural problem: the node (and field, as a path inside it) that caused it. */
export interface PipelineProblem {
  node?: string;
  field?: string;
  message: string;
}

/**
 * The graph rules: ids unique; edges between existing ports, from an output to an input; input
 * ports take one edge (merge and sinks take many); no cycle; every input and output connected
 * (but a branch's default and a window's late port may stay open); a source or a table is
 * needed, and at most one dead-letter sink. Returns every problem, each pinned to its node.
 */
export function graphProblems(nodes: readonly TPipelineNode[], edges: readonly TPipelineEdge[]): PipelineProblem[] {
  const problems: PipelineProblem[] = [];
  const byId = new Map<string, TPipelineNode>();
  for (const n of nodes) {
    if (byId.has(n.id)) problems.push({ node: n.id, field: "id", message: `node id '${n.id}' is used twice` });
    else byId.set(n.id, n);
  }
  if (!nodes.some((n) => n.config.kind === "source")) problems.push({ message: "a pipeline needs at least one source" });
  const deadLetters = nodes.filter((n) => n.config.kind === "deadLetter");
  for (const d of deadLetters.slice(1)) problems.push({ node: d.id, message: "a pipeline has at most one dead-letter sink" });

  const incoming = new Map<string, number>(); // "node:port" → edges
  const outgoing = new Map<string, number>();
  const next = new Map<string, Set<string>>();
  edges.forEach((e, i) => {
    const from = byId.get(e.from.node);
    const to = byId.get(e.to.node);
    const where = `edges[${i}]`;
    if (!from) return problems.push({ field: where, message: `edge from unknown node '${e.from.node}'` });
    if (!to) return problems.push({ field: where, message: `edge to unknown node '${e.to.node}'` });
    if (!portsOf(from.config).outputs.includes(e.from.port))
      return problems.push({
        node: from.id,
        field: where,
        message: `node '${from.id}' (${from.config.kind}) has no output port '${e.from.port}'`,
      });
    if (!portsOf(to.config).inputs.includes(e.to.port))
      return problems.push({ node: to.id, field: where, message: `node '${to.id}' (${to.config.kind}) has no input port '${e.to.port}'` });
    const inKey = `${to.id}:${e.to.port}`;
    incoming.set(inKey, (incoming.get(inKey) ?? 0) + 1);
    const outKey = `${from.id}:${e.from.port}`;
    outgoing.set(outKey, (outgoing.get(outKey) ?? 0) + 1);
    if (!next.has(from.id)) next.set(from.id, new Set());
    next.get(from.id)!.add(to.id);
  });

  for (const n of byId.values()) {
    const { inputs, outputs } = portsOf(n.config);
    for (const port of inputs) {
      const count = incoming.get(`${n.id}:${port}`) ?? 0;
      if (count === 0) problems.push({ node: n.id, field: `in.${port}`, message: `input '${port}' of '${n.id}' is not connected` });
      else if (count > 1 && !takesMany(n.config, port))
        problems.push({
          node: n.id,
          field: `in.${port}`,
          message: `input '${port}' of '${n.id}' has ${count} edges; put a merge before it`,
        });
    }
    for (const port of outputs) {
      if (!outgoing.has(`${n.id}:${port}`) && !mayDangle(n.config, port))
        problems.push({ node: n.id, field: `out.${port}`, message: `output '${port}' of '${n.id}' is not connected` });
    }
  }

  for (const cycle of findCycles(byId, next)) {
    problems.push({ node: cycle[0], message: `cycle: ${[...cycle, cycle[0]].join(" → ")}` });
  }
  return problems;
}

/**
 * Why drawing `edge` into the graph would be refused (a cycle, a port it cannot take, an input
 * already fed), by the graph rules above; undefined when it may be drawn. The editor asks this
 * as a connection is dragged, so it refuses with the server's own words.
 */
export function connectionProblem(
  nodes: readonly TPipelineNode[],
  edges: readonly TPipelineEdge[],
  edge: TPipelineEdge,
): string | undefined {
  if (edge.from.node === edge.to.node) return `cycle: ${edge.from.node} → ${edge.to.node}`;
  if (
    edges.some(
      (e) => e.from.node === edge.from.node && e.from.port === edge.from.port && e.to.node === edge.to.node && e.to.port === edge.to.port,
    )
  )
    return "these ports are connected already";
  const before = new Set(graphProblems(nodes, edges).map((p) => p.message));
  const added = graphProblems(nodes, [...edges, edge]).filter((p) => !before.has(p.message));
  const cycle = added.find((p) => p.message.startsWith("cycle: "));
  if (cycle ?? added[0]) return (cycle ?? added[0]).message;
  const joins = joinInputProblems({ nodes, edges: [...edges, edge] });
  return joins.find((p) => !joinInputProblems({ nodes, edges }).some((q) => q.node === p.node && q.message === p.message))?.message;
}

/**
 * The inputs of each join: the left one a stream, the right one either streams or tables (a
 * stream–stream or a stream–table join), judged by where their records start.
 */
export function joinInputProblems(def: { nodes: readonly TPipelineNode[]; edges: readonly TPipelineEdge[] }): PipelineProblem[] {
  const problems: PipelineProblem[] = [];
  const roots = (node: string, port: string) =>
    new Set(
      upstreamOf(def, node, port)
        .map((n) => n.config.kind)
        .filter((k) => k === "source" || k === "table"),
    );
  for (const n of def.nodes) {
    if (n.config.kind !== "join") continue;
    if (roots(n.id, "right").size > 1)
      problems.push({
        node: n.id,
        field: "in.right",
        message: "the right input mixes streams and tables; join either a stream or a table",
      });
    if (roots(n.id, "left").has("table"))
      problems.push({ node: n.id, field: "in.left", message: "the left input of a join is a stream; a table goes on the right" });
  }
  return problems;
}

/** One cycle per strongly connected part that has one (iterative DFS; the graph is bounded). */
function findCycles(byId: ReadonlyMap<string, TPipelineNode>, next: ReadonlyMap<string, Set<string>>): string[][] {
  const state = new Map<string, "open" | "done">();
  const cycles: string[][] = [];
  for (const start of byId.keys()) {
    if (state.has(start)) continue;
    const path: string[] = [];
    const stack: { id: string; it: Iterator<string> }[] = [];
    const enter = (id: string) => {
      state.set(id, "open");
      path.push(id);
      stack.push({ id, it: (next.get(id) ?? new Set<string>()).values() });
    };
    enter(start);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const step = top.it.next();
      if (step.done) {
        state.set(top.id, "done");
        stack.pop();
        path.pop();
        continue;
      }
      const to = step.value;
      const s = state.get(to);
      if (s === undefined) enter(to);
      else if (s === "open") cycles.push(path.slice(path.indexOf(to)));
    }
  }
  return cycles;
}

export const ZPipelineDefinition = z
  .object({
    name: ZPipelineName,
    description: zSafeString("description", { max: 2000, text: true }).optional(),
    nodes: z.array(ZPipelineNode).max(PIPELINE_LIMITS.nodes, `a pipeline has at most ${PIPELINE_LIMITS.nodes} nodes`),
    edges: z.array(ZPipelineEdge).max(PIPELINE_LIMITS.edges, `a pipeline has at most ${PIPELINE_LIMITS.edges} edges`),
    settings: ZPipelineSettings.default({ commitIntervalMs: 100 }),
    /** test cases, run by `POST …/test` in memory (never when the pipeline runs) */
    tests: ZPipelineTestCases.optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    for (const problem of graphProblems(p.nodes, p.edges)) {
      const index = problem.node === undefined ? -1 : p.nodes.findIndex((n) => n.id === problem.node);
      const path: (string | number)[] = index >= 0 ? ["nodes", index] : problem.field?.startsWith("edges[") ? ["edges"] : [];
      ctx.addIssue({ code: "custom", message: problem.message, path, params: { node: problem.node, field: problem.field } });
    }
  })
  .meta({ id: "PipelineDefinition" });
export type TPipelineDefinition = z.infer<typeof ZPipelineDefinition>;
export type TPipelineDefinitionInput = z.input<typeof ZPipelineDefinition>;

/** A draft as the editor saves it: any content (it may be unfinished), but a valid name. */
export const ZPipelineDraft = z
  .object({ name: ZPipelineName })
  .loose()
  .meta({ id: "PipelineDraft", description: "A PipelineDefinition being edited; checked in full by validate and deploy" });

export const ZDeployRequest = z
  .object({
    resetState: z
      .boolean()
      .optional()
      .describe(
        "drop the pipeline's state (its changelog, its repartition topics and its group's offsets) and start over from the sources' start",
      ),
    version: z
      .number()
      .int("version must be a whole number")
      .min(1, "version must be at least 1")
      .optional()
      .describe("deploy this earlier version's definition (a rollback) instead of the draft; the draft becomes it too"),
  })
  .strict()
  .meta({ id: "DeployRequest" });

export const ZPipelineProblem = z
  .object({ node: z.string().optional(), field: z.string().optional(), message: z.string() })
  .meta({ id: "PipelineProblem" });

export const ZPipelineStateName = z.enum(["draft", "validated", "running", "paused", "stopped", "failed"]);

/** Why a pipeline failed, and the node to blame when one is. */
export const ZPipelineError = z.object({ message: z.string(), node: z.string().optional() });

export const ZPipelineSummary = z
  .object({
    name: z.string(),
    state: ZPipelineStateName,
    version: z.number().int().nullable(),
    error: ZPipelineError.nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    metrics: z
      .object({
        recordsIn: z.number(),
        recordsOut: z.number(),
        deadLetters: z.number(),
        commits: z.number(),
        tasks: z.number(),
        recordsInPerSec: z.number().describe("records per second the sources and tables read, over the last 5 s"),
        errors: z.number().describe("records the nodes failed on (dead-lettered, or dropped without a dead-letter sink)"),
        lag: z.number().nullable().describe("input records not yet processed, as last measured (at most a few seconds old)"),
        threads: z
          .array(z.number().int())
          .describe(
            "the pipeline threads its tasks run on (numbered from 1 as threads start; several when its partitions are spread over them), none on the server's main thread",
          ),
      })
      .nullable()
      .describe("the running version's counters since it (re)started in this process; null when not running"),
  })
  .meta({ id: "PipelineSummary" });

export const ZPipelineList = z.object({ pipelines: z.array(ZPipelineSummary) }).meta({ id: "PipelineList" });

export const ZPipelineDetail = ZPipelineSummary.extend({ draft: z.unknown(), deployed: z.unknown().nullable() }).meta({
  id: "PipelineDetail",
});

/** Something a CEL field of the editor completes: a variable or a record field, with its type. */
export const ZCompletion = z.object({
  label: z.string().describe('what is inserted: a variable (`value`, `acc`) or a field (`value.user`, `headers["trace"]`)'),
  type: z.string().describe("its CEL type (a JSON record's fields are dyn); of a sampled record's field, the JSON type seen"),
});
export type TCompletion = z.infer<typeof ZCompletion>;

const ZPortType = z.object({
  key: z.string().describe("CEL type of the records' key (JSON dyn, text string, bytes bytes, or an expression's result)"),
  value: z.string(),
  fields: z
    .array(z.object({ path: z.string(), type: z.string() }))
    .describe("the value's fields known before anything runs: an aggregate's window and results, a map literal's keys, a join's sides"),
});

/** The record type at every port of a draft, and what its CEL fields complete (server/stream/record-types.ts). */
export const ZPipelineTypes = z
  .object({
    nodes: z.record(
      z.string(),
      z.object({
        inputs: z.record(z.string(), ZPortType).describe("by input port"),
        outputs: z.record(z.string(), ZPortType).describe("by output port"),
        completions: z.array(ZCompletion).describe("what the node's CEL fields complete, unless `expressions` lists the field"),
        expressions: z
          .record(z.string(), z.array(ZCompletion))
          .describe("per config field whose expression sees more (a reducer's `acc`, a join's `left` and `right`): `aggregations.0.add`"),
      }),
    ),
  })
  .meta({ id: "PipelineTypes" });
export type TPipelineTypes = z.infer<typeof ZPipelineTypes>;

export const ZValidateResponse = z
  .object({
    valid: z.boolean(),
    problems: z.array(ZPipelineProblem),
    types: ZPipelineTypes.describe("the record type at each port of the draft's nodes and edges that parse, and each node's completions"),
  })
  .meta({ id: "ValidatePipelineResponse" });

export const ZPipelineVersions = z
  .object({
    versions: z.array(
      z.object({
        version: z.number().int(),
        createdAt: z.string(),
        definition: z.unknown(),
        note: z.string().describe("what the deploy did: 'first deploy', 'rollback to v2', or what changed since the version before"),
      }),
    ),
  })
  .meta({ id: "PipelineVersions" });

export const ZPreviewRequest = z
  .object({
    limit: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .optional()
      .describe("the last records per partition of each source (default 100); not with a time range"),
    from: ZTestTime.optional().describe(
      "a time range instead of the last records: each source's records with a timestamp from this one (inclusive), the first 1,000 per partition",
    ),
    to: ZTestTime.optional().describe("the end of the time range (inclusive; default now)"),
    definition: z.unknown().optional().describe("an unsaved PipelineDefinition to preview instead of the stored draft"),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.from === undefined) {
      if (r.to !== undefined) ctx.addIssue({ code: "custom", path: ["from"], message: "a time range needs its start (from)" });
      return;
    }
    if (r.limit !== undefined)
      ctx.addIssue({
        code: "custom",
        path: ["limit"],
        message: "give either limit (the last records) or a time range (from, to), not both",
      });
    if (r.to !== undefined && testTimeMs(r.to) < testTimeMs(r.from))
      ctx.addIssue({ code: "custom", path: ["to"], message: "the time range ends (to) before it starts (from)" });
  })
  .meta({ id: "PreviewRequest" });
export type TPreviewRequest = z.infer<typeof ZPreviewRequest>;

const ZPreviewRecord = z.object({
  port: z.string(),
  key: z.unknown(),
  value: z.unknown(),
  headers: z.record(z.string(), z.string()),
  timestamp: z.number(),
  origin: z.object({ topic: z.string(), partition: z.number(), offset: z.number() }),
});

export const ZPreviewResponse = z
  .object({
    read: z.number().int(),
    truncated: z.boolean(),
    watermark: z.number().nullable(),
    nodes: z.record(
      z.string(),
      z.object({
        received: z.number().int(),
        emitted: z.number().int(),
        failed: z.number().int(),
        records: z.array(ZPreviewRecord),
        errors: z.array(z.object({ error: z.string(), origin: ZPreviewRecord.shape.origin, key: z.unknown(), value: z.unknown() })),
      }),
    ),
    edges: z.record(z.string(), z.number().int()),
    fields: z
      .record(z.string(), z.array(ZCompletion))
      .describe('by node: the fields of the sampled records that arrived at it (`value.user`, `key`, `headers["trace"]`), for completion'),
    problems: z.array(ZPipelineProblem),
  })
  .meta({ id: "PreviewResponse" });

const ZStoreSize = z.object({
  store: z.string().describe("node/store"),
  keys: z.number().int(),
  bytes: z.number().int().describe("approximate: keys × the mean encoded size of a sample of entries"),
});

const ZPortCount = z.object({ records: z.number().int(), perSec: z.number() });

/** Per-second rates are over the last 5 s (shorter just after a start). Counts are since the running version started in this process. */
export const ZNodeMetrics = z.object({
  kind: z.string(),
  recordsIn: z.number().int().describe("records received on every input port (sources and tables: records read)"),
  recordsOut: z.number().int().describe("records emitted on every output port (sinks and the dead-letter sink: records written)"),
  recordsInPerSec: z.number(),
  recordsOutPerSec: z.number(),
  errors: z.number().int().describe("records the node failed on: dead-lettered, or dropped when the pipeline has no dead-letter sink"),
  errorsPerSec: z.number(),
  late: z
    .number()
    .int()
    .describe(
      "records past every window's grace period (aggregate), past their join window + grace (stream–stream join) or their dedupe window",
    ),
  in: z.record(z.string(), ZPortCount).describe("per input port"),
  out: z.record(z.string(), ZPortCount).describe("per output port"),
  watermark: z
    .number()
    .nullable()
    .describe("event time (ms) the node has seen complete: a source's own, else the lowest task watermark; null before any"),
  lag: z
    .number()
    .int()
    .nullable()
    .describe(
      "sources and tables: records of the topics the node reads (a pattern source: the topics it matched) not yet processed, summed over partitions as last measured; null for other nodes and before a measure",
    ),
  stores: z.array(ZStoreSize),
});
export type TNodeMetrics = z.infer<typeof ZNodeMetrics>;

export const ZTaskMetrics = z.object({
  partition: z.number().int().describe("the task's partition number of every input"),
  recordsIn: z.number().int().describe("records the task read: from the input topics and from repartition topics"),
  recordsInPerSec: z.number(),
  commits: z.number().int(),
  commitLatencyMs: z
    .object({ last: z.number(), p50: z.number(), p99: z.number(), samples: z.number().int() })
    .nullable()
    .describe("over the commits of the last 60 s (last: the latest commit, whenever it was)"),
  lag: z.number().int().describe("records of its input partitions not yet processed (sum of inputs' known lags)"),
  inputs: z.array(
    z.object({
      topic: z.string(),
      partition: z.number().int(),
      position: z.number().int().nullable().describe("the next offset the task processes"),
      end: z.number().int().nullable().describe("the partition's last stable offset (what a read_committed reader can reach)"),
      lag: z.number().int().nullable(),
    }),
  ),
  watermark: z.number().nullable(),
  stores: z.array(ZStoreSize),
  thread: z.number().int().nullable().describe("the pipeline thread the task runs on, or null on the server's main thread"),
  failures: z.number().int().describe("units of work that failed in a row (0 after a success)"),
  lastError: z.object({ message: z.string(), node: z.string().optional(), at: z.number() }).nullable(),
});
export type TTaskMetrics = z.infer<typeof ZTaskMetrics>;

export const ZPipelineMetrics = z
  .object({
    name: z.string(),
    state: ZPipelineStateName,
    version: z.number().int().nullable(),
    error: ZPipelineError.nullable(),
    at: z.number().int().describe("when measured, ms since the epoch"),
    running: z.boolean().describe("false: the pipeline is not running in this server; the metrics are empty"),
    totals: z.object({
      recordsIn: z.number().int().describe("records the sources and tables read from the input topics"),
      recordsOut: z.number().int().describe("records written by the sinks"),
      recordsInPerSec: z.number(),
      recordsOutPerSec: z.number(),
      errors: z.number().int(),
      late: z.number().int(),
      lag: z.number().int(),
      tasks: z.number().int(),
    }),
    nodes: z.record(z.string(), ZNodeMetrics).describe("by node id"),
    tasks: z.array(ZTaskMetrics),
  })
  .meta({ id: "PipelineMetrics" });
export type TPipelineMetrics = z.infer<typeof ZPipelineMetrics>;

/** A pipeline's lifecycle changed (created, deployed, paused, failed...), or it was deleted (state null). */
export const ZPipelineStateChange = z
  .object({
    name: z.string(),
    state: ZPipelineStateName.nullable().describe("null: deleted"),
    version: z.number().int().nullable(),
    error: ZPipelineError.nullable(),
  })
  .meta({ id: "PipelineStateChange" });
export type TPipelineStateChange = z.infer<typeof ZPipelineStateChange>;
