/**
 * The newest batches of one partition kept in memory, so consumers at the head of the log are
 * served without a database query. It always covers one contiguous offset range ending at the
 * high watermark; a shared byte budget bounds all partitions' caches together.
 */
import type { StoredBatch } from "../store/log-store.ts";

/** Default budget of all partitions' tail caches (TRIBUTARY_CACHE_BYTES). */
export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;
/** Default budget of one partition's tail cache (TRIBUTARY_CACHE_PARTITION_BYTES). */
export const DEFAULT_CACHE_PARTITION_BYTES = 4 * 1024 * 1024;

export class CacheBudget {
  used = 0;
  /** Bytes of store reads made ahead of sequential readers (see PartitionLog.read), all partitions. */
  readaheadUsed = 0;
  constructor(
    readonly totalBytes: number,
    readonly perPartitionBytes: number,
    readonly readaheadBytes = 32 * 1024 * 1024,
  ) {}
}

export class TailCache {
  private batches: StoredBatch[] = [];
  /** Index of the first live entry; entries before it are evicted (compacted lazily). */
  private head = 0;
  private bytes = 0;

  constructor(private readonly budget: CacheBudget) {}

  /** First offset the cache can serve, or null when empty. */
  get startOffset(): number | null {
    return this.head < this.batches.length ? this.batches[this.head].baseOffset : null;
  }

  get endOffset(): number | null {
    return this.head < this.batches.length ? this.batches[this.batches.length - 1].lastOffset + 1 : null;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  /** Adds batches that directly follow the cached range; anything else resets the cache. */
  push(batches: StoredBatch[]): void {
    if (batches.length === 0) return;
    const end = this.endOffset;
    if (end !== null && batches[0].baseOffset !== end) this.clear();
    for (const b of batches) {
      this.batches.push(b);
      this.bytes += b.sizeBytes;
      this.budget.used += b.sizeBytes;
    }
    const limit = this.budget.used > this.budget.totalBytes ? this.budget.perPartitionBytes / 4 : this.budget.perPartitionBytes;
    this.evictTo(limit);
  }

  /**
   * Batches containing offsets >= offset, up to maxBytes (at least one batch), or null when the
   * cache does not cover `offset`.
   */
  read(offset: number, maxBytes: number, maxBatches = Infinity): StoredBatch[] | null {
    const start = this.startOffset;
    if (start === null || offset < start) return null;
    const end = this.endOffset as number;
    if (offset >= end) return [];
    let lo = this.head;
    let hi = this.batches.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.batches[mid].lastOffset < offset) lo = mid + 1;
      else hi = mid;
    }
    const out: StoredBatch[] = [];
    let bytes = 0;
    for (let i = lo; i < this.batches.length && out.length < maxBatches; i++) {
      const b = this.batches[i];
      if (out.length > 0 && bytes + b.sizeBytes > maxBytes) break;
      out.push(b);
      bytes += b.sizeBytes;
    }
    return out;
  }

  /** Drops batches entirely below `offset` (retention advanced the log start). */
  truncateBefore(offset: number): void {
    while (this.head < this.batches.length && this.batches[this.head].lastOffset < offset) this.dropHead();
    this.compact();
  }

  clear(): void {
    this.budget.used -= this.bytes;
    this.batches = [];
    this.head = 0;
    this.bytes = 0;
  }

  private evictTo(limit: number): void {
    // keep at least the newest batch so a consumer at the head is always served from memory
    while (this.bytes > limit && this.batches.length - this.head > 1) this.dropHead();
    this.compact();
  }

  private dropHead(): void {
    const b = this.batches[this.head];
    this.batches[this.head] = undefined as unknown as StoredBatch;
    this.head++;
    this.bytes -= b.sizeBytes;
    this.budget.used -= b.sizeBytes;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.batches.length) {
      this.batches = this.batches.slice(this.head);
      this.head = 0;
    }
  }
}
