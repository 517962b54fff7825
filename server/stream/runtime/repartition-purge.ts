/**
 * Purges what a pipeline's group has read of its repartition topics (Kafka Streams'
 * `repartition.purge.interval.ms`, 30 s): every interval the group's committed offsets are read
 * and each repartition partition's records before its committed offset are deleted
 * (DeleteRecords through the client's Admin). Those records can never be read again: a task
 * resumes at the committed offset, and offsets are committed in the same transaction as the
 * outputs they led to. So the topics keep only what is in flight, though they have no time
 * retention (`retention.ms=-1`: their records carry event times a time retention would judge
 * old on arrival).
 */
import { Admin } from "../../client/index.ts";

/** Kafka Streams' default repartition.purge.interval.ms. */
export const REPARTITION_PURGE_MS = 30_000;

export class RepartitionPurge {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** topic → partition → the offset purged up to */
  private readonly purged = new Map<string, Map<number, number>>();

  constructor(
    private readonly admin: Admin,
    private readonly groupId: string,
    private readonly topics: readonly string[],
    private readonly onError: (e: Error) => void,
  ) {}

  start(everyMs = REPARTITION_PURGE_MS): void {
    if (this.topics.length === 0 || everyMs <= 0) return;
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.purge().finally(() => (this.running = null));
    }, everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass: records before each repartition partition's committed offset are deleted. */
  async purge(): Promise<void> {
    try {
      const group = await this.admin.describeGroup(this.groupId);
      const wanted = new Set(this.topics);
      const byTopic = new Map<string, { partition: number; offset: number }[]>();
      for (const o of group.offsets) {
        if (!wanted.has(o.topic) || o.committedOffset === null || o.committedOffset <= 0) continue;
        if ((this.purged.get(o.topic)?.get(o.partition) ?? 0) >= o.committedOffset) continue;
        byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), { partition: o.partition, offset: o.committedOffset }]);
      }
      for (const [topic, partitions] of byTopic) {
        const done = await this.admin.deleteRecords(topic, partitions);
        const seen = this.purged.get(topic) ?? new Map<number, number>();
        for (const p of done.partitions) seen.set(p.partition, p.lowWatermark);
        this.purged.set(topic, seen);
      }
    } catch (e) {
      // the next pass tries again (the group may be gone or rebalancing; the broker restarting)
      this.onError(e as Error);
    }
  }
}
