/**
 * Runs one deployed pipeline: a consumer group `pipeline-<name>` (read_committed, offsets only
 * in transactions, the range assignor so partition p of every input lands on the same member)
 * and one StreamTask per partition number it owns, opened when its first batch arrives and
 * closed when the group takes the partition away. A clock ticks every commit interval so that
 * windows close on idle inputs too.
 *
 * Before it starts it checks what would make it wrong rather than slow: inputs must be
 * co-partitioned (the same partition count). With several partitions, records whose key changed
 * on their way to a stateful node cross a repartition topic (see ../repartition.ts) of the same
 * partition count, which the group reads too: partition p of it goes to task p like every input.
 * Topic patterns and timestamp starts: `sources.ts`.
 */
import { Admin, Consumer, Producer, transportOf, type ClientTransport } from "../../client/index.ts";
import { hasCode } from "../../errors/tributary-error.ts";
import type { PipelineProblem, TPipelineDefinition } from "../../schemas/pipeline.ts";
import { repartitionInputs, type RepartitionInput } from "../repartition.ts";
import { Topology } from "../topology.ts";
import { PatternTopics, resolveInputs, startAtTimestamps, subscriptionOf, type ResolvedInputs } from "./sources.ts";
import { MAX_PENDING_INPUT_BYTES, StreamTask, type TaskContext, type TaskCounters } from "./stream-task.ts";
import { InputLag } from "./input-lag.ts";
import { RepartitionPurge } from "./repartition-purge.ts";
import { PipelineMetrics, type EngineMetrics, type TaskFailure } from "./pipeline-metrics.ts";
import { TaskSupervisor } from "./task-supervisor.ts";

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
  /**
   * How the group consumer, the tasks' transactional producers and changelog readers reach the
   * broker: the REST API at baseUrl unless given (a server runs its pipelines on its own broker
   * façade, server/inproc). Administration (topics, lag) goes to baseUrl.
   */
  transport?: ClientTransport;
  definition: TPipelineDefinition;
  /** Called when a unit of work fails (it is retried); for logs and metrics. */
  onError?: (e: Error) => void;
  /** Called once when the pipeline cannot go on (a task keeps failing, a topic it needs is gone); the caller stops it. */
  onFailed?: (f: TaskFailure) => void;
  /** The wall clock event time follows on idle inputs (default `Date.now`; tests run a faster one). */
  clock?: () => number;
  /** How often what the group committed of its repartition topics is deleted (default 30 s, Kafka Streams'). */
  repartitionPurgeMs?: number;
  /**
   * False for a further member of a run spread over threads: another member already created the
   * internal and sink topics, set the group's offsets at the sources' timestamps and purges the
   * repartition topics; this one checks the inputs and joins the group (default true).
   */
  setUp?: boolean;
}

/**
 * A task producer's batch size: a transaction's records for one partition go in few stored
 * batches (with the client's 16 KiB, a transaction of 10,000 records of 100 B wrote ~60 batches,
 * one after another on the partition); its buffer pool keeps at most 16 of them (4 MiB a task).
 */
const TASK_BATCH_BYTES = 256 * 1024;

export const groupIdOf = (pipeline: string) => `pipeline-${pipeline}`;
export const changelogTopicOf = (pipeline: string) => `pipeline-${pipeline}-changelog`;

export class PipelineRunner {
  private readonly def: TPipelineDefinition;
  private consumer: Consumer | null = null;
  private readonly tasks = new Map<number, { task: Promise<StreamTask>; opened: StreamTask | null }>();
  /** the repartition topics (several partitions only) */
  private repartition: RepartitionInput[] = [];
  private timer: NodeJS.Timeout | null = null;
  private purge: RepartitionPurge | null = null;
  private ctx: TaskContext | null = null;
  /** decides on topics a pattern source matches after the start */
  private patternTopics: PatternTopics | null = null;
  /** what tasks no longer open did */
  private readonly retired: TaskCounters = { recordsIn: 0, recordsOut: 0, deadLetters: 0, commits: 0, lastCommitMs: 0 };
  /** per node and per task: what the API and the WebSocket show */
  readonly metrics: PipelineMetrics;
  private readonly supervisor: TaskSupervisor;
  private readonly lag: InputLag;
  private readonly transport: ClientTransport;

  constructor(private readonly opts: RunnerOptions) {
    this.def = opts.definition;
    this.transport = transportOf(opts);
    this.metrics = new PipelineMetrics(opts.definition);
    const changelog = changelogTopicOf(opts.definition.name);
    this.supervisor = new TaskSupervisor(opts.baseUrl, opts.definition, changelog, this.metrics, (f) => opts.onFailed?.(f));
    this.lag = new InputLag(opts.baseUrl, groupIdOf(opts.definition.name), this.metrics);
  }

  /**
   * What the pipeline needs of the cluster, and every reason it could not run correctly on it
   * (expressions, missing input topics, inputs not co-partitioned): nothing is created or joined.
   */
  async check(): Promise<ResolvedInputs & { partitions: number }> {
    const def = this.def;
    const built = Topology.build(def);
    const admin = new Admin({ baseUrl: this.opts.baseUrl });
    const sources = await resolveInputs(def, admin, [changelogTopicOf(def.name)]);
    const { inputs } = sources;
    const problems: PipelineProblem[] = [...built.problems, ...sources.problems];
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
    return { ...sources, problems, partitions };
  }

  /**
   * Checks the inputs, creates the internal and asked-for topics, joins the group and starts
   * processing. Answers the inputs' partition count: how many tasks the group has to spread.
   */
  async start(): Promise<number> {
    const def = this.def;
    const setUp = this.opts.setUp ?? true;
    const { problems, inputs, partitions, reset, patterns, timestamps } = await this.check();
    if (problems.length > 0) throw new PipelineStartError(problems.map((p) => p.message).join("; "), problems);
    const admin = new Admin({ baseUrl: this.opts.baseUrl });
    const deadLetterTopic = def.nodes.find((n) => n.config.kind === "deadLetter")?.config;

    const changelogTopic = changelogTopicOf(def.name);
    if (setUp) await this.ensureTopic(admin, changelogTopic, partitions, { "cleanup.policy": "compact" }, true);
    this.repartition = partitions > 1 ? repartitionInputs(def) : [];
    for (const r of this.repartition) {
      // kept until read and committed (then purged: RepartitionPurge), not by time: records carry
      // their event time, which a time retention would judge old on arrival
      if (setUp) await this.ensureTopic(admin, r.topic, partitions, { "retention.ms": "-1" }, true);
      inputs.set(r.topic, [{ node: r.entry, keyFormat: "bytes", valueFormat: "bytes", repartition: true }]);
    }
    for (const n of def.nodes) {
      if (!setUp || (n.config.kind !== "sink" && n.config.kind !== "deadLetter")) continue;
      await this.ensureTopic(admin, n.config.topic, n.config.createTopic?.partitions ?? null, {}, false, n.id);
    }

    if (setUp) await startAtTimestamps(admin, groupIdOf(def.name), timestamps);
    this.patternTopics = new PatternTopics(def.name, admin, inputs, patterns, partitions, (p) =>
      this.opts.onError?.(new PipelineStartError(p.message, [p])),
    );
    const consumer = new Consumer({
      baseUrl: this.opts.baseUrl,
      transport: this.transport,
      groupId: groupIdOf(def.name),
      clientId: `pipeline-${def.name}`,
      assignor: "range",
      autoOffsetReset: reset,
      autoCommit: false,
      isolationLevel: "read_committed",
      maxRecords: 2000,
      maxBytes: 4 * 1024 * 1024,
      maxBufferedRecords: 50_000,
      // twice what a transaction holds the effects of (MAX_PENDING_INPUT_BYTES): a batch handed over is at most this
      maxBufferedBytes: 2 * MAX_PENDING_INPUT_BYTES,
      // a task processes the next batch while the transaction of the one before commits
      batchesInFlight: 2,
      // a task reads keys and values from the fetched batches by range: no view of each made as it is fetched
      storedMessages: true,
    });
    this.consumer = consumer;
    this.ctx = {
      transport: this.transport,
      changelogTopic,
      deadLetterTopic: deadLetterTopic?.kind === "deadLetter" ? deadLetterTopic.topic : null,
      inputs,
      groupMetadata: () => consumer.groupMetadata(),
      repartitionTopics: this.repartition.map((r) => r.topic),
      partitions,
      metrics: this.metrics,
      // an input idles only once seen caught up: a task replaying a backlog is lagging, not idle
      inputEnds: (since) => this.lag.since(since, consumer.assignment()),
      clock: this.opts.clock,
    };
    this.metrics.readFrom(inputs);
    this.metrics.start();
    consumer.subscribe(subscriptionOf(inputs, patterns).subscription);
    consumer.on("revoked", (e) => {
      const still = new Set(e.assignment.map((tp) => tp.partition));
      for (const tp of e.partitions) if (!still.has(tp.partition)) void this.closeTask(tp.partition);
      // a deleted input's partitions are taken away like any others: fail if that is why
      this.supervisor.partitionsTaken();
    });
    // every owned task opens at once, not on its first record: a task with an idle input still
    // announces its watermark to the tasks reading its repartitioned records
    consumer.on("assigned", (e) => {
      for (const tp of e.partitions)
        void this.whenRead(tp.topic, () => this.withTask(tp.partition, () => Promise.resolve())).catch((err: Error) =>
          this.opts.onError?.(err),
        );
    });
    consumer.on("error", (e) => {
      this.opts.onError?.(e);
      if (hasCode(e, "UNKNOWN_TOPIC_OR_PARTITION")) this.supervisor.partitionsTaken();
    });
    await consumer.run({
      // the position goes into the transaction: past transaction markers, so the group's lag reaches 0
      eachBatch: ({ topic, partition, messages, position }) =>
        this.whenRead(topic, () => this.withTask(partition, (t) => t.processBatch(topic, messages, position))),
    });
    if (setUp) {
      this.purge = new RepartitionPurge(
        admin,
        groupIdOf(def.name),
        this.repartition.map((r) => r.topic),
        (e) => this.opts.onError?.(e),
      );
      this.purge.start(this.opts.repartitionPurgeMs);
    }
    this.timer = setInterval(() => {
      for (const p of this.tasks.keys()) void this.withTask(p, (t) => t.tick()).catch((e: Error) => this.opts.onError?.(e));
    }, def.settings.commitIntervalMs);
    this.timer.unref();
    return partitions;
  }

  /** Runs `work` unless `topic` is one a pattern matched since the start and that is not read (not co-partitioned). */
  private async whenRead(topic: string, work: () => Promise<void>): Promise<void> {
    if (await this.patternTopics!.reads(topic)) await work();
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

  /**
   * Runs `work` on partition `p`'s task (opened on first use, its state read back); a failed unit
   * discards the task, which the next unit opens again from its changelog.
   */
  private withTask(p: number, work: (t: StreamTask) => Promise<void>): Promise<void> {
    let entry = this.tasks.get(p);
    if (!entry) {
      const producer = new Producer({
        baseUrl: this.opts.baseUrl,
        transport: this.transport,
        transactionalId: `pipeline-${this.def.name}-${p}`,
        batchBytes: TASK_BATCH_BYTES,
        // a transaction's records are all sent in one go before it commits: nothing more would
        // join a batch while it lingered (the client's 5 ms were added to every transaction)
        lingerMs: 0,
      });
      const { topology } = Topology.build(this.def, this.repartition, { recordCache: true });
      const ctx = this.ctx!;
      const opening: { task: Promise<StreamTask>; opened: StreamTask | null } = {
        // after failures in a row, a back-off first
        task: this.supervisor.backOff(p).then(() => StreamTask.open(p, topology!, producer, ctx)),
        opened: null,
      };
      opening.task.then((t) => (opening.opened = t)).catch(() => undefined);
      entry = opening;
      this.tasks.set(p, entry);
    }
    const e = entry;
    return e.task.then(work).catch((err: unknown) => {
      if (this.tasks.get(p) === e) this.supervisor.unitFailed(p, err as Error);
      this.retire(p, e);
      throw err;
    });
  }

  /** The task stops being used (closed or failed): its counters go to the totals. */
  private retire(p: number, e: { opened: StreamTask | null }): void {
    if (this.tasks.get(p) !== e) return;
    this.tasks.delete(p);
    if (!e.opened) return;
    const c = e.opened.counters;
    this.retired.recordsIn += c.recordsIn;
    this.retired.recordsOut += c.recordsOut;
    this.retired.deadLetters += c.deadLetters;
    this.retired.commits += c.commits;
  }

  private async closeTask(p: number): Promise<void> {
    const e = this.tasks.get(p);
    if (!e) return;
    const task = await e.task.catch(() => null);
    await task?.idle();
    this.retire(p, e);
    this.metrics.closed(p);
  }

  /** Topics a pattern source matched after the start but that are not read (not co-partitioned), one problem each. */
  refusedTopics(): readonly PipelineProblem[] {
    return this.patternTopics?.refused ?? [];
  }

  /** What the tasks did so far. */
  counters(): TaskCounters & { tasks: number } {
    const total = { ...this.retired, tasks: this.tasks.size };
    for (const { opened } of this.tasks.values()) {
      if (!opened) continue;
      total.recordsIn += opened.counters.recordsIn;
      total.recordsOut += opened.counters.recordsOut;
      total.deadLetters += opened.counters.deadLetters;
      total.commits += opened.counters.commits;
      total.lastCommitMs = opened.counters.lastCommitMs;
    }
    return total;
  }

  /** Counters, rates, watermarks, state sizes and lag (read at most once a second) per node and per task. */
  async readMetrics(): Promise<EngineMetrics> {
    const owned = this.consumer?.assignment() ?? [];
    const lag = await this.lag.read(owned);
    return this.metrics.snapshot(lag, [...new Set(owned.map((tp) => tp.partition))]);
  }

  /** Input rate, errors and the lag last read, without waiting (for lists). */
  summary(): { recordsInPerSec: number; errors: number; lag: number | null } {
    return { ...this.metrics.summary(), lag: this.lag.last(this.consumer?.assignment() ?? []) };
  }

  /** Leaves the group after the unit in hand; what it committed stays, nothing half done does. */
  async stop(): Promise<void> {
    this.supervisor.stop();
    this.metrics.stop();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.purge?.stop();
    await this.consumer?.stop();
    await Promise.all([...this.tasks.keys()].map((p) => this.closeTask(p)));
  }
}
