/**
 * How far a running pipeline's tasks are behind their inputs: each task's position (the next
 * offset it processes, committed with its last unit) against the partition's last stable offset
 * (the end a read_committed reader can reach), read with the client's list-offsets. The group
 * poll does not return high watermarks, so the ends are read apart: at most once a second
 * (concurrent readers share one reading), only when someone asks. A partition this member owns
 * that no task has processed yet falls back to the group's lag from its committed offset.
 */
import { Admin, type TopicPartition } from "../../client/index.ts";
import { NO_LAG_READING, type LagReading, type PipelineMetrics } from "./pipeline-metrics.ts";

/** A reading is used for this long. */
export const LAG_FRESH_MS = 1000;

export class InputLag {
  private readonly admin: Admin;
  private reading: { at: number; value: Promise<LagReading>; done: LagReading | null } | null = null;

  constructor(
    baseUrl: string,
    private readonly groupId: string,
    private readonly metrics: PipelineMetrics,
  ) {
    this.admin = new Admin({ baseUrl });
  }

  /** A reading at most LAG_FRESH_MS old (an empty one when the broker could not be read). */
  read(owned: readonly TopicPartition[]): Promise<LagReading> {
    const now = Date.now();
    if (!this.reading || now - this.reading.at >= LAG_FRESH_MS) {
      const r: NonNullable<typeof this.reading> = {
        at: now,
        value: this.measure(owned).catch(() => NO_LAG_READING),
        done: this.reading?.done ?? null,
      };
      void r.value.then((v) => (r.done = v));
      this.reading = r;
    }
    return this.reading.value;
  }

  /** The total lag as last read, without waiting (a stale reading is renewed in the background); null before any. */
  last(owned: readonly TopicPartition[]): number | null {
    void this.read(owned);
    const done = this.reading?.done;
    return done ? this.metrics.lag(done, [...new Set(owned.map((tp) => tp.partition))]) : null;
  }

  private async measure(owned: readonly TopicPartition[]): Promise<LagReading> {
    const ends = new Map<string, Map<number, number>>();
    await Promise.all(
      this.metrics.inputTopics.map(async (topic) => {
        const r = await this.admin.listOffsets(topic, "latest", "read_committed");
        ends.set(topic, new Map(r.partitions.map((p) => [p.partition, p.offset ?? 0])));
      }),
    );
    const committedLag = new Map<string, number>();
    if (owned.some((tp) => this.metrics.position(tp.partition, tp.topic) === undefined)) {
      const g = await this.admin.describeGroup(this.groupId);
      for (const o of g.offsets) committedLag.set(`${o.topic}:${o.partition}`, o.lag);
    }
    return { ends, committedLag };
  }
}
