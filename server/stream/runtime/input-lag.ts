/**
 * How far a running pipeline's tasks are behind their inputs: each task's position (the next
 * offset it processes, committed with its last unit) against the partition's last stable offset
 * (the end a read_committed reader can reach), read with the client's list-offsets. The group
 * poll does not return high watermarks, so the ends are read apart: at most once a second
 * (concurrent readers share one reading), only when someone asks — a metrics reader, or a task
 * whose input went quiet and must tell lagging (records wait) from idle (caught up). A partition this member owns
 * that no task has processed yet falls back to the group's lag from its committed offset.
 */
import { Admin, type TopicPartition } from "../../client/index.ts";
import { NO_LAG_READING, type LagReading, type PipelineMetrics } from "./pipeline-metrics.ts";

/** A reading is used for this long. */
export const LAG_FRESH_MS = 1000;

export class InputLag {
  private readonly admin: Admin;
  private reading: {
    at: number;
    value: Promise<LagReading>;
    done: LagReading | null;
    /** this reading itself once it succeeded (`done` falls back to the one before) */
    own: LagReading | null;
    settled: boolean;
  } | null = null;

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
    if (!this.reading || now - this.reading.at >= LAG_FRESH_MS) this.start(owned, now);
    return this.reading!.value;
  }

  /**
   * A reading requested at or after `since` (`Date.now()` ms), if one is done; else null, and one
   * is started unless one is under way. What the tasks look at to tell lagging inputs from idle ones.
   */
  since(since: number, owned: readonly TopicPartition[]): LagReading | null {
    const r = this.reading;
    if (r && r.at >= since) return r.own;
    if (!r || r.settled) this.start(owned, Date.now());
    return null;
  }

  private start(owned: readonly TopicPartition[], now: number): void {
    const r: NonNullable<typeof this.reading> = {
      at: now,
      value: this.measure(owned).then(
        (v) => (r.own = v),
        () => NO_LAG_READING,
      ),
      done: this.reading?.done ?? null,
      own: null,
      settled: false,
    };
    void r.value.then((v) => {
      r.done = v;
      r.settled = true;
    });
    this.reading = r;
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
