/**
 * Preview: a draft run over a sample of the real topics — the last `limit` records of every
 * partition of each source (its topics, or those its pattern matches now, up to a bound), and
 * the whole table topics, up to a bound — in memory, without
 * joining a group, committing or writing anything. Returns what every node received and
 * emitted, with the records that failed and why, as StreamSets and Apache Hop show a preview.
 * Records are processed in event-time order across partitions; at the end the inputs count as
 * idle, so windows close and emit their final results as they would.
 */
import { Admin, PartitionReader } from "../../client/index.ts";
import type { PipelineProblem, TPipelineDefinition } from "../../schemas/pipeline.ts";
import { decode, toJsonData, type StreamRecord } from "../record.ts";
import { Topology, type DeadLetter } from "../topology.ts";
import { sourceTopics } from "./sources.ts";

export const PREVIEW_LIMITS = {
  /** records per partition of a source */
  maxPerPartition: 1000,
  /** records in all */
  maxRecords: 10_000,
  /** records of a table topic */
  maxTableRecords: 10_000,
  /** topics read of a source's pattern (the first by name) */
  patternTopics: 32,
  /** records kept per node to show (the counts are exact) */
  shownPerNode: 50,
  /** wall-clock budget of the whole run */
  timeMs: 5_000,
} as const;

export interface PreviewRecord {
  port: string;
  key: unknown;
  value: unknown;
  headers: Record<string, string>;
  timestamp: number;
  origin: StreamRecord["origin"];
}

export interface NodePreview {
  received: number;
  emitted: number;
  failed: number;
  /** the first records it emitted (a sink: received), with the port */
  records: PreviewRecord[];
  errors: { error: string; origin: StreamRecord["origin"]; key: unknown; value: unknown }[];
}

export interface PreviewResult {
  /** input records read and run */
  read: number;
  /** stopped early (record or time budget): the counts cover what ran */
  truncated: boolean;
  watermark: number | null;
  nodes: Record<string, NodePreview>;
  /** records that crossed each edge, by "from:port->to:port" */
  edges: Record<string, number>;
  problems: PipelineProblem[];
}

const shown = (port: string, r: StreamRecord): PreviewRecord => ({
  port,
  key: toJsonData(r.key instanceof Uint8Array ? Buffer.from(r.key).toString("base64") : r.key),
  value: toJsonData(r.value instanceof Uint8Array ? Buffer.from(r.value).toString("base64") : r.value),
  headers: r.headers,
  timestamp: r.timestamp,
  origin: r.origin,
});

async function readTail(
  baseUrl: string,
  topic: string,
  partition: number,
  from: number,
  max: number,
): Promise<
  { key: Buffer | null; value: Buffer | null; headers: { key: string; value: Buffer | null }[]; timestamp: number; offset: number }[]
> {
  const reader = new PartitionReader(baseUrl, topic, partition, from, "read_committed");
  const out: Awaited<ReturnType<typeof readTail>> = [];
  while (out.length < max) {
    const batch = await reader.fetch(1 << 20);
    for (const r of batch.records) if (out.length < max) out.push(r);
    if (batch.records.length === 0 || reader.offset >= batch.lastStableOffset) break;
  }
  return out;
}

export async function previewPipeline(
  baseUrl: string,
  def: TPipelineDefinition,
  opts: { limit?: number; now?: number } = {},
): Promise<PreviewResult> {
  const started = Date.now();
  const limit = Math.min(Math.max(1, opts.limit ?? 100), PREVIEW_LIMITS.maxPerPartition);
  const { topology, problems } = Topology.build(def);
  const result: PreviewResult = { read: 0, truncated: false, watermark: null, nodes: {}, edges: {}, problems };
  if (!topology) return result;
  for (const n of def.nodes) result.nodes[n.id] = { received: 0, emitted: 0, failed: 0, records: [], errors: [] };
  const downstream = new Map<string, string[]>();
  for (const e of def.edges)
    downstream.set(`${e.from.node}:${e.from.port}`, [
      ...(downstream.get(`${e.from.node}:${e.from.port}`) ?? []),
      `${e.to.node}:${e.to.port}`,
    ]);
  const sinks = new Set(def.nodes.filter((n) => n.config.kind === "sink").map((n) => n.id));
  topology.observer = {
    received(node, port, r) {
      const n = result.nodes[node];
      n.received++;
      if (sinks.has(node) && n.records.length < PREVIEW_LIMITS.shownPerNode) n.records.push(shown(port, r));
    },
    emitted(node, port, r) {
      const n = result.nodes[node];
      n.emitted++;
      if (n.records.length < PREVIEW_LIMITS.shownPerNode) n.records.push(shown(port, r));
      for (const to of downstream.get(`${node}:${port}`) ?? []) {
        const k = `${node}:${port}->${to}`;
        result.edges[k] = (result.edges[k] ?? 0) + 1;
      }
    },
    failed(d: DeadLetter) {
      const n = result.nodes[d.node];
      n.failed++;
      if (n.errors.length < PREVIEW_LIMITS.shownPerNode) {
        const r = shown("error", d.record);
        n.errors.push({ error: d.error, origin: d.record.origin, key: r.key, value: r.value });
      }
    },
  };

  // the sample: tables whole (they are state), sources' last `limit` records per partition
  const admin = new Admin({ baseUrl });
  type Input = { node: string; keyFormat: "json" | "text" | "bytes"; valueFormat: "json" | "text" | "bytes"; table: boolean };
  const inputs: { topic: string; input: Input }[] = [];
  let existing: string[] | null = null;
  for (const n of def.nodes) {
    if (n.config.kind === "source") {
      let topics: string[];
      try {
        if (n.config.topicPattern !== undefined) existing ??= (await admin.listTopics()).map((t) => t.name);
        topics = sourceTopics(def.name, n.config, existing ?? []);
      } catch (e) {
        problems.push({ node: n.id, field: "config.topicPattern", message: (e as Error).message });
        continue;
      }
      if (topics.length === 0)
        problems.push({ node: n.id, field: "config.topicPattern", message: `no topic matches '${n.config.topicPattern}'` });
      if (topics.length > PREVIEW_LIMITS.patternTopics) {
        topics = topics.slice(0, PREVIEW_LIMITS.patternTopics);
        result.truncated = true;
      }
      for (const topic of topics)
        inputs.push({ topic, input: { node: n.id, keyFormat: n.config.keyFormat, valueFormat: n.config.valueFormat, table: false } });
    }
    if (n.config.kind === "table")
      inputs.push({
        topic: n.config.topic,
        input: { node: n.id, keyFormat: n.config.keyFormat, valueFormat: n.config.valueFormat, table: true },
      });
  }
  const tableRecords: { input: Input; topic: string; r: Awaited<ReturnType<typeof readTail>>[number]; partition: number }[] = [];
  const streamRecords: typeof tableRecords = [];
  for (const { topic, input } of inputs) {
    let offsets, starts;
    try {
      offsets = await admin.listOffsets(topic, "latest");
      starts = await admin.listOffsets(topic, "earliest");
    } catch (e) {
      problems.push({ node: input.node, field: "config.topics", message: `topic '${topic}' cannot be read: ${(e as Error).message}` });
      continue;
    }
    for (const o of offsets.partitions) {
      const budget = input.table ? PREVIEW_LIMITS.maxTableRecords : limit;
      const start = starts.partitions.find((s) => s.partition === o.partition)?.offset ?? 0;
      const from = input.table ? start : Math.max(start, (o.offset ?? 0) - budget);
      for (const r of await readTail(baseUrl, topic, o.partition, from, budget))
        (input.table ? tableRecords : streamRecords).push({ input, topic, r, partition: o.partition });
    }
  }
  if (streamRecords.length > PREVIEW_LIMITS.maxRecords) {
    streamRecords.sort((a, b) => b.r.timestamp - a.r.timestamp).splice(PREVIEW_LIMITS.maxRecords);
    result.truncated = true;
  }
  streamRecords.sort((a, b) => a.r.timestamp - b.r.timestamp || a.partition - b.partition || a.r.offset - b.r.offset);
  const now = opts.now ?? Date.now();
  const run = (x: (typeof tableRecords)[number]) => {
    const origin = { topic: x.topic, partition: x.partition, offset: x.r.offset };
    const headers = Object.fromEntries(x.r.headers.map((h) => [h.key, h.value?.toString("utf8") ?? ""]));
    let rec: StreamRecord;
    try {
      rec = {
        key: decode(x.r.key, x.input.keyFormat, "key"),
        value: decode(x.r.value, x.input.valueFormat, "value"),
        headers,
        timestamp: x.r.timestamp,
        origin,
      };
    } catch (e) {
      topology.rejectInput(x.input.node, { key: x.r.key, value: x.r.value, headers, timestamp: x.r.timestamp, origin }, e as Error);
      return;
    }
    topology.process(x.input.node, rec, now);
  };
  let slice = performance.now();
  for (const x of [...tableRecords, ...streamRecords]) {
    if (Date.now() - started > PREVIEW_LIMITS.timeMs) {
      result.truncated = true;
      break;
    }
    // other requests go on while a preview runs: give the event loop back every 20 ms of work
    if (performance.now() - slice > 20) {
      await new Promise((r) => setImmediate(r));
      slice = performance.now();
    }
    run(x);
    result.read++;
    topology.drain(); // nothing is written: the observer has seen it all
  }
  // the inputs go idle: windows close as they would after the sample
  const idle = Math.max(0, ...def.nodes.map((n) => (n.config.kind === "source" ? n.config.idleTimeoutMs : 0)));
  topology.advance(now + idle + 1);
  topology.drain();
  result.watermark = Number.isFinite(topology.watermark) ? topology.watermark : null;
  return result;
}
