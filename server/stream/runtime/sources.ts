/**
 * Where a pipeline's records come from, and where it starts reading them.
 *
 * - A source lists its topics, or gives a pattern: RE2 (linear time, `server/cel/regex.ts`)
 *   matched against whole topic names, as Kafka's pattern subscriptions are. The group
 *   subscribes by pattern, so the broker assigns topics created later too. The topics matching
 *   at start are checked with the others (they must exist together and be co-partitioned); one
 *   created later is read only if it has the inputs' partition count, and is otherwise refused
 *   for itself (its records neither processed nor committed, the refusal reported once), never
 *   joined by partition number with keys that are not co-located. The pipeline's own topics
 *   (`pipeline-<name>-…`: changelog, repartition) are never inputs, and a pattern that matches
 *   a topic the pipeline writes is refused (it would read its own output).
 * - A source starting at a timestamp: before the group joins, each of its partitions that the
 *   group has no committed offset for gets the first offset whose timestamp is at or after it
 *   (the log end if there is none) as the group's offset — Kafka's reset to a datetime. Once
 *   the pipeline has committed, restarts resume from the committed offsets: as Kafka's
 *   `auto.offset.reset`, the start applies only where nothing is committed. A topic matching a
 *   pattern after the start has no such offset and starts at its earliest record.
 */
import { compileRegex, type LinearRegex } from "../../cel/regex.ts";
import type { Admin, Subscription } from "../../client/index.ts";
import type { PipelineProblem, TNodeConfig, TPipelineDefinition } from "../../schemas/pipeline.ts";
import type { InputBinding } from "./stream-task.ts";

type SourceConfig = Extract<TNodeConfig, { kind: "source" }>;

/** A source reading the topics whose whole names match its pattern. */
export interface PatternSource {
  node: string;
  regex: LinearRegex;
  binding: InputBinding;
}

export interface ResolvedInputs {
  problems: PipelineProblem[];
  /** topic → the nodes reading it (sources, tables), with the topics matching the patterns now */
  inputs: Map<string, InputBinding[]>;
  patterns: PatternSource[];
  /** topic → the timestamp its source starts at */
  timestamps: Map<string, number>;
  /** where partitions without a committed offset (and without a timestamp start) begin */
  reset: "earliest" | "latest";
}

/** The prefix of the topics a pipeline makes for itself (`pipeline-<name>-changelog`, repartition topics). */
export const ownTopicPrefix = (pipeline: string) => `pipeline-${pipeline}-`;

/** The existing topics a source reads: those it lists, or those its pattern matches (never the pipeline's own). */
export function sourceTopics(pipeline: string, source: SourceConfig, existing: readonly string[]): string[] {
  if (source.topics) return source.topics;
  const re = compileRegex(source.topicPattern!);
  return existing.filter((t) => re.testWhole(t) && !t.startsWith(ownTopicPrefix(pipeline))).sort();
}

/** A topic name as an RE2 pattern matching only itself (names are letters, digits, `.`, `_` and `-`). */
const quoted = (topic: string) => topic.replace(/[.\\^$|?*+()[\]{}]/g, "\\$&");

/**
 * Whether no node reads the values of source `node`'s records: JSON values, no event-time
 * expression, and only aggregates that count read its records (with their late port
 * unconnected: a late record would go on there whole). Its values are then checked to be JSON,
 * not decoded: a record that is not JSON is still a dead letter, as `decode` would make it.
 */
export function valueUnread(def: TPipelineDefinition, node: string): boolean {
  const source = def.nodes.find((n) => n.id === node)?.config;
  if (source?.kind !== "source" || source.valueFormat !== "json" || source.eventTime !== undefined) return false;
  const readers = def.edges.filter((e) => e.from.node === node).map((e) => e.to.node);
  return (
    readers.length > 0 &&
    readers.every((id) => {
      const c = def.nodes.find((n) => n.id === id)?.config;
      return (
        c?.kind === "aggregate" &&
        c.aggregations.every((g) => g.fn === "count") &&
        !def.edges.some((e) => e.from.node === id && e.from.port === "late")
      );
    })
  );
}

/**
 * The nodes reading each topic (patterns matched against the topics that exist now), each
 * source's start, and the group's subscription; with every reason the sources cannot run: a
 * pattern RE2 refuses, one matching a topic the pipeline writes (`written`: its sinks and
 * internal topics), one matching no topic while nothing else gives the partition count.
 */
export async function resolveInputs(def: TPipelineDefinition, admin: Admin, written: readonly string[]): Promise<ResolvedInputs> {
  const problems: PipelineProblem[] = [];
  const inputs = new Map<string, InputBinding[]>();
  const bind = (topic: string, b: InputBinding) => inputs.set(topic, [...(inputs.get(topic) ?? []), b]);
  const patterns: PatternSource[] = [];
  const timestamps = new Map<string, number>();
  let reset: "earliest" | "latest" = "earliest";
  const outputs = [...written];
  for (const n of def.nodes) if (n.config.kind === "sink" || n.config.kind === "deadLetter") outputs.push(n.config.topic);
  let existing: string[] | null = null;

  for (const n of def.nodes) {
    if (n.config.kind === "table") {
      bind(n.config.topic, { node: n.id, keyFormat: n.config.keyFormat, valueFormat: n.config.valueFormat });
      continue;
    }
    if (n.config.kind !== "source") continue;
    const binding: InputBinding = { node: n.id, keyFormat: n.config.keyFormat, valueFormat: n.config.valueFormat };
    if (valueUnread(def, n.id)) binding.valueUnread = true;
    if (n.config.topicPattern !== undefined) {
      let regex: LinearRegex;
      try {
        regex = compileRegex(n.config.topicPattern);
      } catch (e) {
        problems.push({ node: n.id, field: "config.topicPattern", message: (e as Error).message });
        continue;
      }
      const loop = outputs.find((t) => regex.testWhole(t));
      if (loop !== undefined) {
        problems.push({
          node: n.id,
          field: "config.topicPattern",
          message: `the pattern matches '${loop}', which this pipeline writes: it would read its own output; narrow the pattern`,
        });
        continue;
      }
      patterns.push({ node: n.id, regex, binding });
    }
    if (n.config.topicPattern !== undefined) existing ??= (await admin.listTopics()).map((t) => t.name);
    if (n.config.start === "latest") reset = "latest";
    for (const t of sourceTopics(def.name, n.config, existing ?? [])) {
      bind(t, binding);
      if (typeof n.config.start === "object") timestamps.set(t, n.config.start.timestamp);
    }
  }
  if (inputs.size === 0)
    for (const p of patterns)
      problems.push({
        node: p.node,
        field: "config.topicPattern",
        message: `no topic matches '${p.regex.source}' yet: the pipeline takes its partition count from its inputs, so create one first`,
      });

  const { problem } = subscriptionOf(inputs, patterns);
  if (problem) problems.push(problem);
  return { problems, inputs, patterns, timestamps, reset };
}

/**
 * The group's subscription: the input topics, or with pattern sources one pattern — the
 * patterns and the other inputs' quoted names as alternatives — with why RE2 refuses it, if so.
 */
export function subscriptionOf(
  inputs: ReadonlyMap<string, unknown>,
  patterns: readonly PatternSource[],
): { subscription: Subscription; problem?: PipelineProblem } {
  if (patterns.length === 0) return { subscription: { topics: [...inputs.keys()] } };
  const listed = [...inputs.keys()].filter((t) => !patterns.some((p) => p.regex.testWhole(t)));
  const topicPattern = [...patterns.map((p) => `(?:${p.regex.source})`), ...listed.map(quoted)].join("|");
  try {
    compileRegex(topicPattern);
    return { subscription: { topicPattern } };
  } catch (e) {
    return {
      subscription: { topicPattern },
      problem: {
        node: patterns[0].node,
        field: "config.topicPattern",
        message: `the group subscribes to the patterns and the listed topics as one pattern, which RE2 refuses: ${(e as Error).message}`,
      },
    };
  }
}

/** The most topics one offset reset names (the API's bound). */
const RESET_TOPICS = 1000;

/**
 * Sources starting at a timestamp: the partitions the group has no committed offset for get the
 * first offset at or after the timestamp (the log end if none) as the group's committed offset,
 * before the group joins. Partitions with a committed offset keep it.
 */
export async function startAtTimestamps(admin: Admin, groupId: string, timestamps: ReadonlyMap<string, number>): Promise<void> {
  const byTime = new Map<number, string[]>();
  for (const [topic, ts] of timestamps) byTime.set(ts, [...(byTime.get(ts) ?? []), topic]);
  for (const [timestamp, all] of byTime) {
    for (let i = 0; i < all.length; i += RESET_TOPICS) {
      const topics = all.slice(i, i + RESET_TOPICS);
      const to = { to: "timestamp", timestamp } as const;
      const { plan } = await admin.resetOffsets(groupId, to, { topics: topics.map((topic) => ({ topic })), dryRun: true });
      const fresh = new Map<string, number[]>();
      for (const p of plan) if (p.currentOffset === null) fresh.set(p.topic, [...(fresh.get(p.topic) ?? []), p.partition]);
      if (fresh.size === 0) continue;
      await admin.resetOffsets(groupId, to, {
        topics: [...fresh].map(([topic, partitions]) => ({ topic, partitions })),
        dryRun: false,
      });
    }
  }
}

/**
 * Decides, once per topic, whether records of a topic the group was assigned are processed: a
 * topic bound at start is; a topic created since that matches a pattern source is bound to it
 * if it has the inputs' partition count, and refused otherwise (`onRefused`, once).
 */
export class PatternTopics {
  private readonly decided = new Map<string, Promise<boolean>>();
  private readonly refusals: PipelineProblem[] = [];

  constructor(
    private readonly pipeline: string,
    private readonly admin: Admin,
    /** the runner's bindings, shared with its tasks: a topic bound here is read by them */
    private readonly inputs: Map<string, InputBinding[]>,
    private readonly patterns: readonly PatternSource[],
    private readonly partitions: number,
    private readonly onRefused: (p: PipelineProblem) => void,
  ) {}

  /** Topics matching a pattern but refused, one problem each. */
  get refused(): readonly PipelineProblem[] {
    return this.refusals;
  }

  /** Whether the records of `topic` are to be processed (a failed look-up is not remembered: the batch is retried). */
  reads(topic: string): boolean | Promise<boolean> {
    if (this.inputs.has(topic)) return true;
    let d = this.decided.get(topic);
    if (!d) {
      d = this.decide(topic);
      this.decided.set(topic, d);
      d.catch(() => this.decided.delete(topic));
    }
    return d;
  }

  private async decide(topic: string): Promise<boolean> {
    const sources = this.patterns.filter((p) => p.regex.testWhole(topic));
    if (sources.length === 0 || topic.startsWith(ownTopicPrefix(this.pipeline))) return false;
    const count = (await this.admin.describeTopic(topic)).partitions.length;
    if (count !== this.partitions) {
      const problem: PipelineProblem = {
        node: sources[0].node,
        field: "config.topicPattern",
        message: `topic '${topic}' matches the pattern but has ${count} partitions, the pipeline's inputs ${this.partitions}: it is not co-partitioned, so its records are not read (nor committed); give it ${this.partitions} partitions and restart the pipeline`,
      };
      this.refusals.push(problem);
      this.onRefused(problem);
      return false;
    }
    for (const s of sources) this.inputs.set(topic, [...(this.inputs.get(topic) ?? []), s.binding]);
    return true;
  }
}
