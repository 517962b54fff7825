/**
 * Runs one deployed pipeline: a consumer group `pipeline-<name>` (read_committed, offsets only
 * in transactions, the range assignor so partition p of every input lands on the same member)
 * and one StreamTask per partition number it owns, opened when its first batch arrives and
 * closed when the group takes the partition away. A clock ticks every commit interval so that
 * windows close on idle inputs too.
 *
 * Before it starts it checks what would make it wrong rather than slow: inputs must be
 * co-partitioned (the same partition count), and a re-keyed stream must not reach a stateful
 * node across several partitions (that needs a repartition topic, which this runtime does not
 * write yet — it says so instead of computing per-partition results that look global).
 */
import { Admin, Consumer, Producer } from "../../client/index.ts";
import { hasCode } from "../../errors/tributary-error.ts";
import { STATEFUL_KINDS, upstreamOf, type PipelineProblem, type TNodeConfig, type TPipelineDefinition } from "../../schemas/pipeline.ts";
import { Topology } from "../topology.ts";
import { StreamTask, type InputBinding, type TaskContext, type TaskCounters } from "./stream-task.ts";

/** A pipeline that cannot start, with the problems pinned to its nodes. */
export class PipelineStartError extends Error {
  constructor(
    message: string,
    readonly problems: PipelineProblem[],
  ) {
    super(message);
    this.name = "PipelineStartError";
  }
}

export interface RunnerOptions {
  baseUrl: string;
  definition: TPipelineDefinition;
  /** Called when a unit of work fails (it is retried); for logs and metrics. */
  onError?: (e: Error) => void;
}

export const groupIdOf = (pipeline: string) => `pipeline-${pipeline}`;
export const changelogTopicOf = (pipeline: string) => `pipeline-${pipeline}-changelog`;

function changesKey(c: TNodeConfig): boolean {
  return c.kind === "selectKey" || (c.kind === "map" && c.key !== undefined) || c.kind === "flatMap";
}

/** Stateful nodes that a key-changing node feeds (they would need a repartition topic). */
function rekeyedStatefulNodes(def: TPipelineDefinition): PipelineProblem[] {
  const problems: PipelineProblem[] = [];
  for (const n of def.nodes) {
    if (!STATEFUL_KINDS.has(n.config.kind)) continue;
    const up = upstreamOf(def, n.id).find((u) => changesKey(u.config));
    if (up)
      problems.push({
        node: n.id,
        message: `'${up.id}' changes the key before '${n.id}', which groups by key: with inputs of several partitions that needs a repartition topic, which this version cannot write yet (use a single-partition input, or key the records when producing them)`,
      });
  }
  return problems;
}

export class PipelineRunner {
  private readonly def: TPipelineDefinition;
  private consumer: Consumer | null = null;
  private readonly tasks = new Map<number, { task: Promise<StreamTask>; chain: Promise<unknown> }>();
  private timer: NodeJS.Timeout | null = null;
  private ctx: TaskContext | null = null;
  private readonly totals: TaskCounters = { recordsIn: 0, recordsOut: 0, deadLetters: 0, commits: 0, lastCommitMs: 0 };

  constructor(private readonly opts: RunnerOptions) {
    this.def = opts.definition;
  }

  /**
   * What the pipeline needs of the cluster, and every reason it could not run correctly on it
   * (expressions, missing input topics, inputs not co-partitioned, re-keying before a stateful
   * node): nothing is created or joined.
   */
  async check(): Promise<{
    problems: PipelineProblem[];
    inputs: Map<string, InputBinding[]>;
    partitions: number;
    reset: "earliest" | "latest";
  }> {
    const def = this.def;
    const built = Topology.build(def);
    const admin = new Admin({ baseUrl: this.opts.baseUrl });
    const problems: PipelineProblem[] = [...built.problems];
    const inputs = new Map<string, InputBinding[]>();
    const bind = (topic: string, b: InputBinding) => inputs.set(topic, [...(inputs.get(topic) ?? []), b]);
    let reset: "earliest" | "latest" = "earliest";
    for (const n of def.nodes) {
      if (n.config.kind === "source") {
        if (!n.config.topics) {
          problems.push({
            node: n.id,
            field: "config.topicPattern",
            message: "sources reading a topic pattern cannot run yet; list the topics",
          });
          continue;
        }
        if (typeof n.config.start === "object")
          problems.push({
            node: n.id,
            field: "config.start",
            message: "starting at a timestamp cannot run yet; use earliest, latest or committed",
          });
        if (n.config.start === "latest") reset = "latest";
        for (const t of n.config.topics) bind(t, { node: n.id, keyFormat: n.config.keyFormat, valueFormat: n.config.valueFormat });
      } else if (n.config.kind === "table") {
        bind(n.config.topic, { node: n.id, keyFormat: n.config.keyFormat, valueFormat: n.config.valueFormat });
      }
    }
    const counts = new Map<string, number>();
    for (const topic of inputs.keys()) {
      try {
        counts.set(topic, (await admin.describeTopic(topic)).partitions.length);
      } catch (e) {
        if (!hasCode(e, "UNKNOWN_TOPIC_OR_PARTITION")) throw e;
        for (const b of inputs.get(topic)!)
          problems.push({ node: b.node, field: "config.topics", message: `topic '${topic}' does not exist` });
      }
    }
    const distinct = new Set(counts.values());
    if (distinct.size > 1)
      problems.push({
        message: `the inputs are not co-partitioned: ${[...counts].map(([t, n]) => `${t} has ${n}`).join(", ")} partitions; give them the same partition count`,
      });
    const partitions = distinct.size === 1 ? [...distinct][0] : 1;
    if (partitions > 1) problems.push(...rekeyedStatefulNodes(def));
    return { problems, inputs, partitions, reset };
  }

  /** Checks the inputs, creates the internal and asked-for topics, joins the group and starts processing. */
  async start(): Promise<void> {
    const def = this.def;
    const { problems, inputs, partitions, reset } = await this.check();
    if (problems.length > 0) throw new PipelineStartError(problems.map((p) => p.message).join("; "), problems);
    const admin = new Admin({ baseUrl: this.opts.baseUrl });
    const deadLetterTopic = def.nodes.find((n) => n.config.kind === "deadLetter")?.config;

    const changelogTopic = changelogTopicOf(def.name);
    await this.ensureTopic(admin, changelogTopic, partitions, { "cleanup.policy": "compact" }, true);
    for (const n of def.nodes) {
      if (n.config.kind !== "sink" && n.config.kind !== "deadLetter") continue;
      await this.ensureTopic(admin, n.config.topic, n.config.createTopic?.partitions ?? null, {}, false, n.id);
    }

    const consumer = new Consumer({
      baseUrl: this.opts.baseUrl,
      groupId: groupIdOf(def.name),
      clientId: `pipeline-${def.name}`,
      assignor: "range",
      autoOffsetReset: reset,
      autoCommit: false,
      isolationLevel: "read_committed",
      maxRecords: 2000,
    });
    this.consumer = consumer;
    this.ctx = {
      baseUrl: this.opts.baseUrl,
      changelogTopic,
      deadLetterTopic: deadLetterTopic?.kind === "deadLetter" ? deadLetterTopic.topic : null,
      inputs,
      groupMetadata: () => consumer.groupMetadata(),
    };
    consumer.subscribe({ topics: [...inputs.keys()] });
    consumer.on("revoked", (e) => {
      const still = new Set(e.assignment.map((tp) => tp.partition));
      for (const tp of e.partitions) if (!still.has(tp.partition)) void this.closeTask(tp.partition);
    });
    consumer.on("error", (e) => this.opts.onError?.(e));
    await consumer.run({
      // the position goes into the transaction: past transaction markers, so the group's lag reaches 0
      eachBatch: ({ topic, partition, messages, position }) => this.withTask(partition, (t) => t.processBatch(topic, messages, position)),
    });
    this.timer = setInterval(() => {
      for (const p of this.tasks.keys()) void this.withTask(p, (t) => t.tick()).catch((e: Error) => this.opts.onError?.(e));
    }, def.settings.commitIntervalMs);
    this.timer.unref();
  }

  private async ensureTopic(
    admin: Admin,
    name: string,
    partitions: number | null,
    configs: Record<string, string>,
    internal: boolean,
    node?: string,
  ): Promise<void> {
    try {
      const t = await admin.describeTopic(name);
      if (internal && partitions !== null && t.partitions.length !== partitions)
        throw new PipelineStartError(`internal topic '${name}' has ${t.partitions.length} partitions, the inputs ${partitions}`, []);
      return;
    } catch (e) {
      if (!hasCode(e, "UNKNOWN_TOPIC_OR_PARTITION")) throw e;
    }
    if (partitions === null)
      throw new PipelineStartError(`topic '${name}' does not exist`, [
        { node, field: "config.topic", message: `topic '${name}' does not exist (set createTopic to create it)` },
      ]);
    try {
      await admin.createTopic({ name, partitions, configs });
    } catch (e) {
      if (!hasCode(e, "TOPIC_ALREADY_EXISTS")) throw e;
    }
  }

  /** Runs `work` on partition `p`'s task, one unit at a time; a failed unit discards the task (reopened from its changelog next time). */
  private withTask(p: number, work: (t: StreamTask) => Promise<void>): Promise<void> {
    let entry = this.tasks.get(p);
    if (!entry) {
      const producer = new Producer({ baseUrl: this.opts.baseUrl, transactionalId: `pipeline-${this.def.name}-${p}` });
      const { topology } = Topology.build(this.def);
      entry = { task: StreamTask.open(p, topology!, producer, this.ctx!), chain: Promise.resolve() };
      this.tasks.set(p, entry);
    }
    const e = entry;
    const run = e.chain.then(async () => {
      const task = await e.task;
      const before = { ...task.counters };
      await work(task);
      this.totals.recordsIn += task.counters.recordsIn - before.recordsIn;
      this.totals.recordsOut += task.counters.recordsOut - before.recordsOut;
      this.totals.deadLetters += task.counters.deadLetters - before.deadLetters;
      this.totals.commits += task.counters.commits - before.commits;
      this.totals.lastCommitMs = task.counters.lastCommitMs;
    });
    e.chain = run.catch(() => {
      if (this.tasks.get(p) === e) this.tasks.delete(p);
    });
    return run;
  }

  private async closeTask(p: number): Promise<void> {
    const e = this.tasks.get(p);
    if (!e) return;
    this.tasks.delete(p);
    await e.chain.catch(() => undefined);
  }

  /** What the tasks did so far. */
  counters(): TaskCounters & { tasks: number } {
    return { ...this.totals, tasks: this.tasks.size };
  }

  /** Leaves the group after the unit in hand; what it committed stays, nothing half done does. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.consumer?.stop();
    await Promise.all([...this.tasks.keys()].map((p) => this.closeTask(p)));
  }
}
