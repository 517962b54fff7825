/**
 * Decides when a running pipeline has failed rather than merely hit a bad moment. A unit of work
 * that fails is aborted and its task discarded; the consumer hands the same input again (after
 * its retry back-off) and the task opens again here after a back-off of its own that doubles
 * with each failure in a row. A task whose units fail MAX_FAILURES_IN_A_ROW times in a row fails
 * the pipeline, with the last error. A failure caused by a topic the pipeline needs that no
 * longer exists (a sink's topic deleted) fails it at once, naming the node: every retry would
 * fail the same way. Kafka Streams treats a missing sink topic as fatal too (the stream thread
 * dies, the application goes to ERROR). A listed input topic deleted while the pipeline runs
 * fails it too, naming the source or table: the group takes its partitions away and nothing
 * fails by itself, so the runner asks (`partitionsTaken`); a pattern source losing a matched
 * topic is the pattern's normal life. So does state past the task's limit (`StateLimitError`,
 * while processing or restoring): the pipeline fails at once, naming the node.
 */
import { Admin } from "../../client/index.ts";
import { hasCode } from "../../errors/tributary-error.ts";
import type { TPipelineDefinition } from "../../schemas/pipeline.ts";
import type { PipelineMetrics, TaskFailure } from "./pipeline-metrics.ts";
import { TopicWriteError } from "./stream-task.ts";
import { StateLimitError } from "../state/state-store.ts";

/** Units of one task that may fail in a row before the pipeline fails. */
export const MAX_FAILURES_IN_A_ROW = 5;
/** A failed task opens again after this, doubled per further failure in a row, at most MAX_BACKOFF_MS. */
export const BACKOFF_MS = 100;
export const MAX_BACKOFF_MS = 2000;

export class TaskSupervisor {
  private readonly admin: Admin;
  /** every topic the pipeline reads or writes, with the node that does (null: internal) */
  private readonly topics: { topic: string; node: string | null; role: string; writes: boolean }[];
  private checking: Promise<TaskFailure | null> | null = null;
  private done = false;

  constructor(
    baseUrl: string,
    def: TPipelineDefinition,
    changelogTopic: string,
    private readonly metrics: PipelineMetrics,
    private readonly onFailed: (f: TaskFailure) => void,
  ) {
    this.admin = new Admin({ baseUrl });
    this.topics = [{ topic: changelogTopic, node: null, role: "state changelog", writes: true }];
    for (const n of def.nodes) {
      const c = n.config;
      if (c.kind === "sink") this.topics.push({ topic: c.topic, node: n.id, role: `sink '${n.id}'`, writes: true });
      if (c.kind === "deadLetter") this.topics.push({ topic: c.topic, node: n.id, role: `dead-letter sink '${n.id}'`, writes: true });
      if (c.kind === "table") this.topics.push({ topic: c.topic, node: n.id, role: `table '${n.id}'`, writes: false });
      if (c.kind === "source")
        for (const t of c.topics ?? []) this.topics.push({ topic: t, node: n.id, role: `source '${n.id}'`, writes: false });
    }
  }

  /** Waits before partition `p`'s task opens again after failures in a row (not at all after none). */
  backOff(p: number): Promise<void> {
    const failures = this.metrics.failuresOf(p);
    if (failures === 0) return Promise.resolve();
    const ms = Math.min(MAX_BACKOFF_MS, BACKOFF_MS * 2 ** (failures - 1));
    return new Promise((r) => setTimeout(r, ms).unref());
  }

  /** Partition `p`'s task failed with `e` (its transaction, or its opening). */
  unitFailed(p: number, e: Error): void {
    if (this.done) return;
    const failure = this.explain(e);
    const inARow = this.metrics.failed(p, failure);
    // state past the task's limit would be past it again on every retry (and every restore)
    if (e instanceof StateLimitError) return this.fail(failure);
    void this.missingTopic().then((missing) => {
      if (missing) this.fail(missing);
      else if (inARow >= MAX_FAILURES_IN_A_ROW)
        this.fail({ ...failure, message: `${failure.message} (${inARow} attempts in a row failed)` });
    });
  }

  /**
   * The group took partitions away, or the consumer reported an error: if a topic the pipeline
   * needs is gone (a listed input deleted), the pipeline fails now, naming its node.
   */
  partitionsTaken(): void {
    if (this.done) return;
    void this.missingTopic().then((missing) => {
      if (missing) this.fail(missing);
    });
  }

  /** The error, and the node that writes the topic a write failed on. */
  private explain(e: Error): TaskFailure {
    if (e instanceof StateLimitError) return { message: e.message, node: e.node };
    const writer = e instanceof TopicWriteError ? this.topics.find((t) => t.writes && t.topic === e.topic) : undefined;
    return writer?.node ? { message: e.message, node: writer.node } : { message: e.message };
  }

  /** The runner stops: nothing more is reported. */
  stop(): void {
    this.done = true;
  }

  private fail(f: TaskFailure): void {
    if (this.done) return;
    this.done = true;
    this.onFailed(f);
  }

  /** The first topic the pipeline needs that no longer exists (one check at a time, shared). */
  private missingTopic(): Promise<TaskFailure | null> {
    this.checking ??= (async () => {
      try {
        for (const t of this.topics) {
          try {
            await this.admin.describeTopic(t.topic);
          } catch (e) {
            if (!hasCode(e, "UNKNOWN_TOPIC_OR_PARTITION")) throw e;
            return { message: `topic '${t.topic}' of the ${t.role} no longer exists`, ...(t.node ? { node: t.node } : {}) };
          }
        }
        return null;
      } catch {
        return null; // the broker could not be asked: count the failure as it came
      } finally {
        this.checking = null;
      }
    })();
    return this.checking;
  }
}
