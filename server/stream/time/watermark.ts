/**
 * The event-time watermark of one task: "no record older than this is still expected". Each
 * input partition's watermark is the highest event time seen there minus the source's bounded
 * out-of-orderness; the task's is the lowest over its partitions, so one slow partition holds
 * windows open until its records arrive. Two refinements over the textbook rule, where Kafka
 * Streams users suffer most:
 *
 * - An **idle** partition (no record for `idleTimeoutMs` of wall-clock time) stops holding the
 *   watermark back (Flink's `withIdleness`), and a partition that never had a record does not
 *   hold it back either. Idle means caught up and nothing new, not merely silent: when the
 *   runtime can see the inputs' ends (`confirmIdle`), a partition idles only once a look at its
 *   end, taken after its last record, found nothing past its position, and records known to
 *   wait (`waiting`) keep it active — a task replaying a backlog slower than the idle timeout
 *   is lagging, and its windows must not close by the wall clock.
 * - When **every** partition is idle, event time advances with the wall clock: from the last
 *   record's time on, and at least to the wall clock itself (less the out-of-orderness and the
 *   idle timeout), so after replayed history too. A window closes and emits its final result
 *   even when no new record arrives (the complaint of kafka-streams-examples#441 and
 *   ksql#3754 cannot happen here).
 *
 * The watermark never goes back: a partition waking up with older records makes them late
 * rather than reopening closed windows.
 */

export interface WatermarkOptions {
  /** How far behind the highest event time seen a record may still arrive on time. */
  readonly outOfOrdernessMs: number;
  /** Wall-clock time without records after which a partition no longer holds the watermark back. */
  readonly idleTimeoutMs: number;
}

interface PartitionTime {
  /** highest event time seen */
  maxEventTime: number;
  /** wall-clock time of the last record (or of the last sight of records waiting to be read) */
  lastSeenAt: number;
  /** wall-clock time the partition was last seen caught up (nothing past its position) */
  caughtUpAt: number;
  /** the partition said it is idle (`observeIdle`) and nothing since: idle without a look at its end */
  saidIdle: boolean;
}

/** What one partition last reported, as a task commits it: its highest event time, and whether it said it is idle. */
export type PartitionReport = readonly [partition: number, maxEventTime: number, idle: boolean];

/** Per repartition input of a task: what each upstream task last reported (its sources' watermark, idle or not). */
export type UpstreamReports = Record<string, readonly PartitionReport[]>;

export class WatermarkTracker {
  private readonly partitions = new Map<number, PartitionTime>();
  private current = Number.NEGATIVE_INFINITY;
  /** idle needs a sight of the partition caught up since its last record (the runtime, which can look) */
  private confirming = false;

  constructor(private readonly options: WatermarkOptions) {}

  /**
   * From now on a partition idles only once seen caught up after its last record (`caughtUp`).
   * Without it (tests and previews, which feed everything they have) silence alone is idleness.
   */
  confirmIdle(): void {
    this.confirming = true;
  }

  /** A record with event time `eventTime` arrived on `partition` at wall-clock `now`. */
  observe(partition: number, eventTime: number, now: number): void {
    const p = this.partitions.get(partition);
    if (!p)
      this.partitions.set(partition, { maxEventTime: eventTime, lastSeenAt: now, caughtUpAt: Number.NEGATIVE_INFINITY, saidIdle: false });
    else {
      if (eventTime > p.maxEventTime) p.maxEventTime = eventTime;
      p.lastSeenAt = now;
      p.saidIdle = false;
    }
  }

  /**
   * A partition that will report but has not yet, as of wall-clock `now`: it holds the watermark
   * back until it reports or stays silent for the idle timeout.
   */
  expect(partition: number, now: number): void {
    if (!this.partitions.has(partition))
      this.partitions.set(partition, {
        maxEventTime: Number.NEGATIVE_INFINITY,
        lastSeenAt: now,
        caughtUpAt: Number.NEGATIVE_INFINITY,
        saidIdle: false,
      });
  }

  /**
   * A look at the input's end at wall-clock `now`: records wait past the position (`waiting`:
   * lagging, so the partition holds the watermark as if a record had just come, and its idle time
   * starts again), or none do (caught up: it may idle once silent for the idle timeout). A
   * partition of `undefined`: every partition (a repartition input's upstream tasks all write
   * to the one partition looked at). A partition that said it is idle stays so: what waits may
   * be others' records, and its own word that it woke up comes in order with them.
   */
  sawEnd(partition: number | undefined, waiting: boolean, now: number): void {
    for (const [id, p] of this.partitions) {
      if ((partition !== undefined && id !== partition) || p.saidIdle) continue;
      if (waiting) p.lastSeenAt = Math.max(p.lastSeenAt, now);
      else p.caughtUpAt = Math.max(p.caughtUpAt, now);
    }
  }

  /** How long partition `p` has been idle-eligible at `now`: silent, and (when confirming) seen caught up since. */
  private silentFor(p: PartitionTime, now: number): number {
    if (this.confirming && !p.saidIdle && p.caughtUpAt < p.lastSeenAt) return 0;
    return now - p.lastSeenAt;
  }

  /**
   * The partition reports that it is idle, its time having reached `eventTime` (Flink's idle
   * stream status): it stops holding the watermark back at once, as if silent for the idle timeout.
   */
  observeIdle(partition: number, eventTime: number, now: number): void {
    this.observe(partition, eventTime, now);
    const p = this.partitions.get(partition)!;
    p.lastSeenAt = now - this.options.idleTimeoutMs;
    p.saidIdle = true;
  }

  /**
   * What each partition reported (those with an event time): a task commits this with the
   * positions it read the reports up to, and `restore` gives it back when the task opens again —
   * reports read before the committed positions are not read again.
   */
  reports(): PartitionReport[] {
    const out: PartitionReport[] = [];
    for (const [id, p] of this.partitions) if (Number.isFinite(p.maxEventTime)) out.push([id, p.maxEventTime, p.saidIdle]);
    return out;
  }

  /** The reports a task committed, at wall-clock `now` (an idle one idles from now on, an active one was just heard from). */
  restore(reports: readonly PartitionReport[], now: number): void {
    for (const [partition, maxEventTime, idle] of reports)
      if (idle) this.observeIdle(partition, maxEventTime, now);
      else this.observe(partition, maxEventTime, now);
  }

  /** Whether no partition had a record for the idle timeout (or none ever had), at wall-clock `now`. */
  idleAt(now: number): boolean {
    for (const p of this.partitions.values()) if (this.silentFor(p, now) < this.options.idleTimeoutMs) return false;
    return true;
  }

  /** The partition is no longer this task's (moved away): it no longer holds the watermark. */
  forget(partition: number): void {
    this.partitions.delete(partition);
  }

  /** The watermark at wall-clock `now` (advances the stored one; never lower than before). */
  advance(now: number): number {
    const { outOfOrdernessMs, idleTimeoutMs } = this.options;
    let active = Number.POSITIVE_INFINITY;
    let idle = this.partitions.size > 0 ? now - outOfOrdernessMs - idleTimeoutMs : Number.NEGATIVE_INFINITY;
    for (const p of this.partitions.values()) {
      const idleFor = this.silentFor(p, now);
      if (idleFor < idleTimeoutMs) active = Math.min(active, p.maxEventTime - outOfOrdernessMs);
      else idle = Math.max(idle, p.maxEventTime - outOfOrdernessMs + (idleFor - idleTimeoutMs));
    }
    const next = active !== Number.POSITIVE_INFINITY ? active : idle;
    if (next > this.current) this.current = next;
    return this.current;
  }

  /** The watermark as last advanced. */
  get watermark(): number {
    return this.current;
  }

  /** Whether a record at `eventTime` is behind the watermark (only late if its windows closed). */
  isBehind(eventTime: number): boolean {
    return eventTime < this.current;
  }
}
