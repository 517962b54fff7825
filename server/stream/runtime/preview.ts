/**
 * Preview: a draft run over a sample of the real topics — the last `limit` records of every
 * partition of each source (its topics, or those its pattern matches now, up to a bound), or
 * its records with timestamps in a time range (the first `maxPerPartition` of each partition,
 * between the offsets the broker gives for the range's start and for just after its end, as
 * Kafka's offsets-for-times does: a record stamped inside the range but written after a later
 * one is left out), and the whole table topics, up to a bound — in memory, without
 * joining a group, committing or writing anything. Returns what every node received and
 * emitted, with the records that failed and why, as StreamSets and Apache Hop show a preview.
 * Records are processed in event-time order across partitions; at the end the inputs count as
 * idle, so windows close and emit their final results as they would.
 */
import { Admin, PartitionReader } from "../../client/index.ts";
import type { PipelineProblem, TCompletion, TPipelineDefinition } from "../../schemas/pipeline.ts";
import { sampledFields } from "../completions.ts";
import { decode, toJsonData, type StreamRecord } from "../record.ts";
import { Topology, type DeadLetter } from "../topology.ts";
import { StateLimitError } from "../state/state-store.ts";
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

/** The latest time a broker's offsets-for-time takes (ms since the epoch, as in the API's schemas). */
const MAX_TIME = 8.64e15;

type ReadRecord = {
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[];
  timestamp: number;
  offset: number;
};

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
  /** by node: the fields of the shown records that arrived at it (completion in the editor) */
  fields: Record<string, TCompletion[]>;
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

async function readTail(baseUrl: string, topic: string, partition: number, from: number, max: number): Promise<ReadRecord[]> {
  const reader = new PartitionReader(baseUrl, topic, partition, from, "read_committed");
  const out: ReadRecord[] = [];
  while (out.length < max) {
    const batch = await reader.fetch(1 << 20);
    for (const r of batch.records) if (out.length < max) out.push(r);
    if (batch.records.length === 0 || reader.offset >= batch.lastStableOffset) break;
  }
  return out;
}

/**
 * The records of offsets [from, end) whose timestamps lie in `range` (timestamps need not grow
 * with offsets), at most `max`; `capped` when more were there or the deadline passed first.
 */
async function readRange(
  baseUrl: string,
  topic: string,
  partition: number,
  offsets: { from: number; end: number },
  range: { from: number; to: number },
  max: number,
  deadline: number,
): Promise<{ records: ReadRecord[]; capped: boolean }> {
  const reader = new PartitionReader(baseUrl, topic, partition, offsets.from, "read_committed");
  const records: ReadRecord[] = [];
  while (reader.offset < offsets.end) {
    if (Date.now() > deadline) return { records, capped: true };
    const batch = await reader.fetch(1 << 20);
    for (const r of batch.records) {
      if (r.offset >= offsets.end) return { records, capped: false };
      if (r.timestamp < range.from || r.timestamp > range.to) continue;
      if (records.length >= max) return { records, capped: true };
      records.push(r);
    }
    if (batch.records.length === 0 || reader.offset >= batch.lastStableOffset) break;
  }
  return { records, capped: false };
}

export async function previewPipeline(
  baseUrl: string,
  def: TPipelineDefinition,
  /** `range`: the records with timestamps from `from` to `to` (ms, both inclusive) instead of the last `limit` */
  opts: { limit?: number; range?: { from: number; to: number }; now?: number } = {},
): Promise<PreviewResult> {
  const started = Date.now();
  const limit = Math.min(Math.max(1, opts.limit ?? 100), PREVIEW_LIMITS.maxPerPartition);
  const { topology, problems } = Topology.build(def);
  const result: PreviewResult = { read: 0, truncated: false, watermark: null, nodes: {}, edges: {}, fields: {}, problems };
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
  const tableRecords: { input: Input; topic: string; r: ReadRecord; partition: number }[] = [];
  const streamRecords: typeof tableRecords = [];
  const range = opts.range;
  for (const { topic, input } of inputs) {
    let offsets, starts, inRange;
    try {
      offsets = await admin.listOffsets(topic, "latest");
      starts = await admin.listOffsets(topic, "earliest");
      // a time range: from the first record at or after its start to the first one after its end
      if (range && !input.table)
        inRange = {
          from: await admin.listOffsets(topic, range.from),
          end: await admin.listOffsets(topic, Math.min(range.to + 1, MAX_TIME)),
        };
    } catch (e) {
      problems.push({ node: input.node, field: "config.topics", message: `topic '${topic}' cannot be read: ${(e as Error).message}` });
      continue;
    }
    for (const o of offsets.partitions) {
      const start = starts.partitions.find((s) => s.partition === o.partition)?.offset ?? 0;
      if (range && inRange) {
        const first = inRange.from.partitions.find((s) => s.partition === o.partition)?.offset;
        if (first === null || first === undefined) continue; // nothing at or after the range's start
        const end = inRange.end.partitions.find((s) => s.partition === o.partition)?.offset ?? o.offset ?? 0;
        const read = await readRange(
          baseUrl,
          topic,
          o.partition,
          { from: Math.max(start, first), end },
          range,
          PREVIEW_LIMITS.maxPerPartition,
          started + PREVIEW_LIMITS.timeMs,
        );
        if (read.capped) result.truncated = true;
        for (const r of read.records) streamRecords.push({ input, topic, r, partition: o.partition });
        continue;
      }
      const budget = input.table ? PREVIEW_LIMITS.maxTableRecords : limit;
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
    try {
      run(x);
    } catch (e) {
      // the sample passed the pipeline's state limit per task: the preview stops there and says so
      if (!(e instanceof StateLimitError)) throw e;
      problems.push({ node: e.node, field: e.setting, message: e.message });
      result.truncated = true;
      break;
    }
    result.read++;
    topology.drain(); // nothing is written: the observer has seen it all
  }
  // the inputs go idle: windows close as they would after the sample
  const idle = Math.max(0, ...def.nodes.map((n) => (n.config.kind === "source" ? n.config.idleTimeoutMs : 0)));
  topology.advance(now + idle + 1);
  topology.drain();
  result.watermark = Number.isFinite(topology.watermark) ? topology.watermark : null;
  result.fields = sampledFields(def.edges, result.nodes);
  return result;
}
