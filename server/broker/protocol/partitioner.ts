/**
 * Kafka's default partitioning: keyed records by murmur2 (byte-for-byte the Java client's and
 * kafkajs's choice); records without a key stick to one partition until about a batch's worth
 * of bytes went there, then move to another (KIP-480's sticky partitioner).
 */
import { partitionForKey } from "./murmur2.ts";

/** Kafka's default batch.size: how much goes to one sticky partition before switching. */
export const STICKY_BATCH_BYTES = 16_384;

export class StickyPartitioner {
  private current = -1;
  private bytes = 0;

  /** The partition for a record without a key and `sizeBytes` bytes. */
  next(numPartitions: number, sizeBytes: number): number {
    if (this.current < 0 || this.current >= numPartitions || this.bytes >= STICKY_BATCH_BYTES) {
      const previous = this.current;
      let p = Math.floor(Math.random() * numPartitions);
      if (numPartitions > 1 && p === previous) p = (p + 1) % numPartitions;
      this.current = p;
      this.bytes = 0;
    }
    this.bytes += sizeBytes;
    return this.current;
  }
}

export function partitionFor(key: Uint8Array | null, numPartitions: number, sticky: StickyPartitioner, sizeBytes: number): number {
  return key === null ? sticky.next(numPartitions, sizeBytes) : partitionForKey(key, numPartitions);
}
