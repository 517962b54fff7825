/**
 * One partition's log as the broker process sees it: watermarks, the tail cache, group commit
 * of concurrent appends, and long-poll waiters woken by appends.
 */
import { setBaseOffset } from "../protocol/record-batch.ts";
import { TailCache, type CacheBudget } from "./tail-cache.ts";
import type { AppendOutcome, BatchToAppend, LogStore, PartitionRecord, StoredBatch } from "../store/log-store.ts";
import { batchMetaOfAppend, PartitionTxnState, type PartitionAppendPlan } from "./partition-txn-state.ts";
import type { PlannedBatch, ProducerDescription } from "./producer-state.ts";
import { BrokerError } from "../errors.ts";
import { hasCode } from "../../errors/tributary-error.ts";

/** A read made ahead and not taken within this long is dropped (its reader went away). */
const READAHEAD_TTL_MS = 2000;

interface Readahead {
  offset: number;
  maxBytes: number;
  maxBatches: number;
  /** Bytes reserved in the budget (the request's maxBytes until the read lands, then its size). */
  reserved: number;
  batches: Promise<StoredBatch[]>;
  timer: NodeJS.Timeout;
}

/** Bounds one group commit so a flood of producers cannot build one giant statement. */
const MAX_COMMIT_BYTES = 32 * 1024 * 1024;
const MAX_COMMIT_BATCHES = 4096;

/**
 * An idempotent batch that arrives ahead of its predecessor (a gap in its producer's sequence)
 * has most likely overtaken it: HTTP clients spread a partition's requests over several
 * connections, where Kafka's keep them in order on one. It is held back this long for the
 * predecessor, then refused with OUT_OF_ORDER_SEQUENCE_NUMBER as before.
 */
export const SEQUENCE_HOLD_MS = 1000;

interface PendingAppend {
  batches: BatchToAppend[];
  bytes: number;
  resolve(baseOffset: number): void;
  reject(e: unknown): void;
  /** Held for a predecessor (SEQUENCE_HOLD_MS): refused with `heldError` at this time. */
  heldUntil?: number;
  heldError?: unknown;
}

/** Refusals a batch gets when it overtook an earlier batch of its producer still on its way. */
function mayHaveOvertaken(e: unknown): boolean {
  return hasCode(e, "OUT_OF_ORDER_SEQUENCE_NUMBER", "UNKNOWN_PRODUCER_ID");
}

export interface AppendedRange {
  topic: string;
  partition: number;
  baseOffset: number;
  lastOffset: number;
  recordCount: number;
  sizeBytes: number;
  highWatermark: number;
}

export class PartitionLog {
  readonly cache: TailCache;
  private pending: PendingAppend[] = [];
  /** Idempotent appends waiting for an earlier batch of their producer (see SEQUENCE_HOLD_MS). */
  private held: PendingAppend[] = [];
  private holdTimer: NodeJS.Timeout | null = null;
  private flushing = false;
  private waiters = new Set<() => void>();
  private closedError: BrokerError | null = null;
  /**
   * Producer and transaction state (KIP-98): loaded when the first producer batch arrives or a
   * read_committed reader asks; from then on every append goes through it.
   */
  private producerState: PartitionTxnState | null = null;
  private loadingState: Promise<PartitionTxnState> | null = null;
  /** The store read of what a sequential reader asks for next, started when it got the last part. */
  private ahead: Readahead | null = null;

  constructor(
    readonly topicId: string,
    readonly topic: string,
    readonly partition: number,
    private state: PartitionRecord,
    private readonly store: LogStore,
    private readonly budget: CacheBudget,
    private readonly onAppend: (range: AppendedRange) => void,
    /** The partition row is gone: another process deleted the topic. */
    private readonly onGone: () => void = () => undefined,
  ) {
    this.cache = new TailCache(budget);
  }

  get highWatermark(): number {
    return this.state.nextOffset;
  }

  get logStartOffset(): number {
    return this.state.logStartOffset;
  }

  get recordCount(): number {
    return this.state.recordCount;
  }

  get sizeBytes(): number {
    return this.state.sizeBytes;
  }

  /**
   * The last stable offset: the first offset of the oldest open transaction, or the high
   * watermark. Exact once `txnState()` has loaded (a partition without loaded state has had no
   * transactional append in this process since start-up, when recovery closed every open one).
   */
  get lastStableOffset(): number {
    return this.producerState ? this.producerState.lastStableOffset(this.state.nextOffset) : this.state.nextOffset;
  }

  /** Open transactions here, oldest first (none when no transactional batch came since start-up). */
  openTransactions(): { producerId: number; firstOffset: number; lastOffset: number }[] {
    return this.producerState ? this.producerState.index.openTransactions().map((t) => ({ ...t })) : [];
  }

  /** Producers with state here (those seen since the state was loaded). */
  producers(): ProducerDescription[] {
    return this.producerState ? this.producerState.producers.producers() : [];
  }

  /** Where a reader at this isolation level may read up to. */
  visibleEnd(readCommitted: boolean): number {
    return readCommitted ? this.lastStableOffset : this.state.nextOffset;
  }

  /**
   * Appends batches; resolves with the first batch's base offset once they are committed.
   * Appends arriving while a commit is in flight are coalesced into the next one.
   */
  append(batches: BatchToAppend[]): Promise<number> {
    if (this.closedError) return Promise.reject(this.closedError);
    let bytes = 0;
    for (const b of batches) bytes += b.payload.length;
    return new Promise<number>((resolve, reject) => {
      this.pending.push({ batches, bytes, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        let take = 0;
        let bytes = 0;
        let count = 0;
        while (take < this.pending.length) {
          const p = this.pending[take];
          if (take > 0 && (bytes + p.bytes > MAX_COMMIT_BYTES || count + p.batches.length > MAX_COMMIT_BATCHES)) break;
          bytes += p.bytes;
          count += p.batches.length;
          take++;
        }
        const group = this.pending.splice(0, take);
        if (this.producerState || this.held.length > 0 || group.some((g) => g.batches.some((b) => b.producerId >= 0))) {
          // held appends try again with each group: their predecessor may be in it
          await this.commitIdempotent([...this.held.splice(0), ...group]);
          continue;
        }
        const all = group.length === 1 ? group[0].batches : group.flatMap((g) => g.batches);
        try {
          const outcome = await this.write(all);
          let next = outcome.baseOffset;
          for (const g of group) {
            g.resolve(next);
            for (const b of g.batches) next += b.lastOffsetDelta + 1;
          }
        } catch (e) {
          for (const g of group) g.reject(e);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** One statement for the batches; the partition row may be gone (topic deleted elsewhere). */
  private async write(batches: BatchToAppend[]): Promise<AppendOutcome> {
    const outcome = await this.store.append(this.topicId, this.partition, batches);
    if (!outcome) {
      this.onGone();
      throw new BrokerError("UNKNOWN_TOPIC_OR_PARTITION", `partition ${this.topic}-${this.partition} no longer exists`);
    }
    this.committed(outcome.baseOffset, batches, outcome.state);
    return outcome;
  }

  /**
   * Group commit with KIP-98 checks: every caller's batches are planned against the producers'
   * epochs and sequences (all or nothing per caller); retries of written batches are answered
   * with their original offsets and not written again; the rest go out in one statement.
   */
  private async commitIdempotent(group: PendingAppend[]): Promise<void> {
    let plan: PartitionAppendPlan;
    try {
      plan = (await this.txnState()).beginAppend();
    } catch (e) {
      for (const g of group) g.reject(e);
      return;
    }
    const live: { g: PendingAppend; planned: PlannedBatch[] }[] = [];
    /** Plans g's batches; a refusal that may come from an overtaking keeps g for another try. */
    const tryPlan = (g: PendingAppend): "planned" | "refused" | "waiting" => {
      try {
        live.push({ g, planned: plan.add(g.batches.map(batchMetaOfAppend)) });
        return "planned";
      } catch (e) {
        if (!mayHaveOvertaken(e)) {
          g.reject(e);
          return "refused";
        }
        g.heldError = e;
        return "waiting";
      }
    };
    let waiting = group.filter((g) => tryPlan(g) === "waiting");
    // a batch that overtook its predecessor in the same group goes in right after it
    for (let before = Infinity; waiting.length > 0 && waiting.length < before;) {
      before = waiting.length;
      waiting = waiting.filter((g) => tryPlan(g) === "waiting");
    }
    this.hold(waiting);
    const toWrite: BatchToAppend[] = [];
    for (const { g, planned } of live) planned.forEach((p, i) => p.kind === "append" && (toWrite[p.slot] = g.batches[i]));
    let ranges: { baseOffset: number; lastOffset: number }[] = [];
    try {
      if (toWrite.length > 0) {
        const expected = this.state.nextOffset;
        const outcome = await this.write(toWrite);
        let next = outcome.baseOffset;
        ranges = toWrite.map((b) => {
          const r = { baseOffset: next, lastOffset: next + b.lastOffsetDelta };
          next = r.lastOffset + 1;
          return r;
        });
        // another process appended in between: this state misses its batches; rebuild next time
        if (outcome.baseOffset !== expected) this.producerState = null;
      }
    } catch (e) {
      plan.rollback();
      for (const { g } of live) g.reject(e);
      return;
    }
    try {
      plan.commit(ranges, Date.now());
    } catch {
      this.producerState = null; // inconsistent view: rebuild from the log on the next append
    }
    // read_committed waiters: a marker moves the last stable offset only now
    if (ranges.length > 0) this.wake();
    for (const { g, planned } of live) {
      const first = planned[0];
      g.resolve(first.kind === "duplicate" ? first.baseOffset : ranges[first.slot].baseOffset);
    }
  }

  /** Keeps appends for their predecessors until SEQUENCE_HOLD_MS after they first arrived. */
  private hold(appends: PendingAppend[]): void {
    const now = Date.now();
    for (const g of appends) {
      g.heldUntil ??= now + SEQUENCE_HOLD_MS;
      if (g.heldUntil <= now) g.reject(g.heldError);
      else this.held.push(g);
    }
    this.scheduleHoldExpiry();
  }

  private scheduleHoldExpiry(): void {
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    if (this.held.length === 0) return;
    const next = Math.min(...this.held.map((g) => g.heldUntil ?? 0));
    this.holdTimer = setTimeout(
      () => {
        const now = Date.now();
        this.held = this.held.filter((g) => (g.heldUntil ?? 0) > now || (g.reject(g.heldError), false));
        this.scheduleHoldExpiry();
      },
      Math.max(0, next - Date.now()),
    );
    this.holdTimer.unref();
  }

  /**
   * Producer and transaction state of this partition, rebuilt from the log's producer batches on
   * first use, and caught up with batches other processes appended since (one load at a time).
   */
  txnState(): Promise<PartitionTxnState> {
    const s = this.producerState;
    if (s && s.nextOffset >= this.state.nextOffset) return Promise.resolve(s);
    if (!this.loadingState) {
      this.loadingState = this.loadProducerState().finally(() => (this.loadingState = null));
    }
    return this.loadingState;
  }

  private async loadProducerState(): Promise<PartitionTxnState> {
    const current = this.producerState;
    const end = this.state.nextOffset;
    if (!current) {
      const from = this.state.logStartOffset;
      const rows = await this.store.producerBatches(this.topicId, this.partition, from);
      this.producerState = PartitionTxnState.rebuild(rows, from, end);
    } else if (current.nextOffset < end) {
      const rows = await this.store.producerBatches(this.topicId, this.partition, current.nextOffset);
      try {
        // a commit of this process may have applied some of these rows meanwhile
        if (this.producerState === current)
          current.replay(
            rows.filter((r) => r.baseOffset >= current.nextOffset),
            end,
          );
      } catch {
        this.producerState = null;
        return this.loadProducerState();
      }
    }
    return this.producerState ?? this.loadProducerState();
  }

  private committed(baseOffset: number, batches: BatchToAppend[], state: PartitionRecord): void {
    const stored: StoredBatch[] = new Array(batches.length);
    let offset = baseOffset;
    let records = 0;
    let bytes = 0;
    for (let i = 0; i < batches.length; i++) {
      const b = batches[i];
      setBaseOffset(b.payload, offset);
      stored[i] = {
        baseOffset: offset,
        lastOffset: offset + b.lastOffsetDelta,
        recordCount: b.recordCount,
        firstTimestamp: b.firstTimestamp,
        maxTimestamp: b.maxTimestamp,
        producerId: b.producerId,
        producerEpoch: b.producerEpoch,
        baseSequence: b.baseSequence,
        isTransactional: b.isTransactional,
        isControl: b.isControl,
        sizeBytes: b.payload.length,
        payload: b.payload,
      };
      offset += b.lastOffsetDelta + 1;
      records += b.recordCount;
      bytes += b.payload.length;
    }
    // Another process may have appended in between: the cache must then restart here.
    if (this.cache.endOffset !== null && this.cache.endOffset !== baseOffset) this.cache.clear();
    if (this.cache.endOffset === null && baseOffset !== this.state.nextOffset) this.cache.clear();
    this.cache.push(stored);
    this.state = state;
    this.wake();
    this.onAppend({
      topic: this.topic,
      partition: this.partition,
      baseOffset,
      lastOffset: offset - 1,
      recordCount: records,
      sizeBytes: bytes,
      highWatermark: state.nextOffset,
    });
  }

  /** Takes a newer view of the partition row (another process, or the cleaner). */
  refresh(state: PartitionRecord): void {
    if (state.nextOffset < this.state.nextOffset) return;
    const moved = state.nextOffset > this.state.nextOffset;
    if (moved && this.cache.endOffset !== null) this.cache.clear();
    this.state = state;
    if (state.logStartOffset > 0) this.cache.truncateBefore(state.logStartOffset);
    if (moved) this.wake();
  }

  /** Re-reads the partition row; used when a reader asks beyond what this process has seen. */
  async reload(): Promise<void> {
    const row = await this.store.findPartition(this.topicId, this.partition);
    if (row) this.refresh(row);
  }

  /**
   * Batches that hold offsets >= offset, up to about maxBytes (always at least one batch when
   * there is data), from the tail cache when it covers `offset`, otherwise from the store.
   */
  async read(offset: number, maxBytes: number, maxBatches = 1000): Promise<StoredBatch[]> {
    const cached = this.cache.read(offset, maxBytes, maxBatches);
    if (cached) return cached;
    const limit = Math.max(1, Math.min(maxBatches, 10_000));
    const ahead = this.takeReadahead(offset, maxBytes, limit);
    // the store cuts at maxBytes before reading any payload (at least one batch)
    const batches = ahead ? await ahead : await this.store.readBatches(this.topicId, this.partition, offset, limit, maxBytes);
    if (batches.length > 0) this.readAhead(batches[batches.length - 1].lastOffset + 1, maxBytes, limit);
    return batches;
  }

  /** The read made ahead for exactly this request, if there is one (it is handed over once). */
  private takeReadahead(offset: number, maxBytes: number, maxBatches: number): Promise<StoredBatch[]> | null {
    const a = this.ahead;
    if (!a) return null;
    this.dropReadahead();
    if (a.offset !== offset || a.maxBytes !== maxBytes || a.maxBatches !== maxBatches) return null;
    return a.batches.catch(() => this.store.readBatches(this.topicId, this.partition, offset, maxBatches, maxBytes));
  }

  /**
   * A reader that got the log up to `offset` from the store will most likely ask for `offset`
   * next: read it now, while the last part travels to the reader (a consumer catching up then
   * waits on the network or the database, not both in turn). Bounded across partitions.
   */
  private readAhead(offset: number, maxBytes: number, maxBatches: number): void {
    if (this.ahead || this.closedError || offset >= this.state.nextOffset) return;
    if (this.cache.startOffset !== null && offset >= this.cache.startOffset) return; // the cache serves it
    if (this.budget.readaheadUsed + maxBytes > this.budget.readaheadBytes) return;
    this.budget.readaheadUsed += maxBytes;
    const a: Readahead = {
      offset,
      maxBytes,
      maxBatches,
      reserved: maxBytes,
      batches: this.store.readBatches(this.topicId, this.partition, offset, maxBatches, maxBytes),
      timer: setTimeout(() => this.ahead === a && this.dropReadahead(), READAHEAD_TTL_MS),
    };
    a.timer.unref();
    a.batches.catch(() => undefined);
    this.ahead = a;
  }

  /** Forgets the read made ahead (the cleaner rewrote batches under it). */
  dropReadahead(): void {
    const a = this.ahead;
    if (!a) return;
    this.ahead = null;
    clearTimeout(a.timer);
    this.budget.readaheadUsed -= a.reserved;
  }

  /**
   * Resolves when the high watermark (read_committed: the last stable offset) passes `offset`,
   * after `ms`, or when the log closes.
   */
  waitFor(offset: number, ms: number, signal?: AbortSignal, readCommitted = false): Promise<void> {
    if (this.visibleEnd(readCommitted) > offset || ms <= 0 || this.closedError || signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const check = () => {
        if (this.visibleEnd(readCommitted) > offset || this.closedError) done();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(check);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  /** The topic was deleted (or the broker stops): fail queued appends, release waiters. */
  close(reason: BrokerError): void {
    this.closedError = reason;
    this.dropReadahead();
    for (const p of this.pending.splice(0)) p.reject(reason);
    for (const p of this.held.splice(0)) p.reject(reason);
    this.scheduleHoldExpiry();
    this.cache.clear();
    this.wake();
  }
}
