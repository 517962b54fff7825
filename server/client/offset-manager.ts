/**
 * Where a group consumer stands on each partition it owns: the fetch position the broker reported
 * (past transaction markers and aborted records) and the position of what the handlers have
 * processed, which is what gets committed. Kafka's consumer commits its position, so a partition
 * read to its end commits the fetch position, not the last record's offset + 1.
 */
import type { CommitOffset } from "../group-member/group-member.ts";
import { keyOf, type TopicPartition } from "../group-member/topic-partitions.ts";

interface PartitionOffsets {
  /** Next offset to process; null until something was processed (or the fetch moved past markers only). */
  position: number | null;
  /** The broker's position after the last poll that moved it; null until then. */
  fetched: number | null;
}

export class OffsetManager {
  private readonly parts = new Map<string, PartitionOffsets>();

  assign(tp: TopicPartition): void {
    this.parts.set(keyOf(tp.topic, tp.partition), { position: null, fetched: null });
  }

  remove(tp: TopicPartition): void {
    this.parts.delete(keyOf(tp.topic, tp.partition));
  }

  /** A poll moved the fetch position; `idle`: nothing of the partition waits to be processed, so its position moves too. */
  fetched(topic: string, partition: number, offset: number, idle: boolean): void {
    const p = this.parts.get(keyOf(topic, partition));
    if (!p) return;
    p.fetched = offset;
    if (idle) p.position = offset;
  }

  /**
   * The position after processing through `lastOffset`: the fetch position when nothing fetched
   * remains after it (so markers after the last record are not left as lag), else lastOffset + 1.
   */
  positionAfter(topic: string, partition: number, lastOffset: number, more: boolean): number {
    const fetched = this.parts.get(keyOf(topic, partition))?.fetched ?? null;
    return !more && fetched !== null && fetched > lastOffset + 1 ? fetched : lastOffset + 1;
  }

  /** Records up to `position` are processed. */
  processed(topic: string, partition: number, position: number): void {
    const p = this.parts.get(keyOf(topic, partition));
    if (p) p.position = position;
  }

  /** The positions to commit of these partitions (those with one). */
  positions(partitions: readonly TopicPartition[]): CommitOffset[] {
    const out: CommitOffset[] = [];
    for (const tp of partitions) {
      const position = this.parts.get(keyOf(tp.topic, tp.partition))?.position ?? null;
      if (position !== null) out.push({ topic: tp.topic, partition: tp.partition, offset: position });
    }
    return out;
  }
}
