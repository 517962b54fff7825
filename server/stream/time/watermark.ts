/**
 * The event-time watermark of one task: "no record older than this is still expected". Each
 * input partition's watermark is the highest event time seen there minus the source's bounded
 * out-of-orderness; the task's is the lowest over its partitions, so one slow partition holds
 * windows open until its records arrive. Two refinements over the textbook rule, where Kafka
 * Streams users suffer most:
 *
 * - An **idle** partition (no record for `idleTimeoutMs` of wall-clock time) stops holding the
 *   watermark back (Flink's `withIdleness`), and a partition that never had a record does not
 *   hold it back either.
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
  /** wall-clock time of the last record */
  lastSeenAt: number;
}

export class WatermarkTracker {
  private readonly partitions = new Map<number, PartitionTime>();
  private current = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: WatermarkOptions) {}

  /** A record with event time `eventTime` arrived on `partition` at wall-clock `now`. */
  observe(partition: number, eventTime: number, now: number): void {
    const p = this.partitions.get(partition);
    if (!p) this.partitions.set(partition, { maxEventTime: eventTime, lastSeenAt: now });
    else {
      if (eventTime > p.maxEventTime) p.maxEventTime = eventTime;
      p.lastSeenAt = now;
    }
  }

  /**
   * A partition that will report but has not yet, as of wall-clock `now`: it holds the watermark
   * back until it reports or stays silent for the idle timeout.
   */
  expect(partition: number, now: number): void {
    if (!this.partitions.has(partition)) this.partitions.set(partition, { maxEventTime: Number.NEGATIVE_INFINITY, lastSeenAt: now });
  }

  /**
   * The partition reports that it is idle, its time having reached `eventTime` (Flink's idle
   * stream status): it stops holding the watermark back at once, as if silent for the idle timeout.
   */
  observeIdle(partition: number, eventTime: number, now: number): void {
    this.observe(partition, eventTime, now);
    this.partitions.get(partition)!.lastSeenAt = now - this.options.idleTimeoutMs;
  }

  /** Whether no partition had a record for the idle timeout (or none ever had), at wall-clock `now`. */
  idleAt(now: number): boolean {
    for (const p of this.partitions.values()) if (now - p.lastSeenAt < this.options.idleTimeoutMs) return false;
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
      const idleFor = now - p.lastSeenAt;
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
