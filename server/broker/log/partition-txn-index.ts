/**
 * One partition's transaction index: its open transactions (which hold the last stable offset
 * back) and its aborted transactions (which read_committed readers skip), after Kafka's
 * ProducerStateManager.ongoingTxns and the .txnindex files. Pure and offset-only: the broker
 * feeds it every transactional append and every marker, in offset order.
 *
 * - An open transaction of producer P in this partition spans from the first offset of its first
 *   transactional batch here to its marker. The last stable offset (LSO) is the first offset of
 *   the oldest open transaction, or the high watermark when none is open: read_committed
 *   consumers read only below it, so they never see a transaction before its outcome is known.
 * - An aborted transaction is kept as (producerId, firstOffset, lastOffset = marker offset). A
 *   transactional batch of P at offset o is aborted data iff some aborted (P, first, last) has
 *   first <= o <= last. That is all read_committed needs: Kafka's fetch response carries the
 *   aborted transactions overlapping the fetched range and the client drops those batches.
 * - Retention removes aborted entries wholly below the log start offset.
 */

export interface TxnRange {
  producerId: number;
  firstOffset: number;
  /** Open: the last offset of its latest batch. Aborted: the offset of its abort marker. */
  lastOffset: number;
}

export type AbortedTxn = TxnRange;
export type OpenTxn = TxnRange;

export interface CompletedTxn extends TxnRange {
  commit: boolean;
}

export interface PartitionTxnIndexSnapshot {
  version: 1;
  logStartOffset: number;
  /** Oldest first. */
  open: OpenTxn[];
  /** In marker offset order. */
  aborted: AbortedTxn[];
}

/** What the index needs of a stored batch to rebuild from the log. */
export interface IndexedBatch {
  producerId: number;
  baseOffset: number;
  lastOffset: number;
  isTransactional: boolean;
  isControl: boolean;
  /** For a control batch: its end-transaction marker's outcome (null: not a commit/abort marker). */
  commit?: boolean | null;
}

export class PartitionTxnIndex {
  /** producerId → open txn; insertion order is firstOffset order (appends come in offset order). */
  private readonly open = new Map<number, OpenTxn>();
  /** Sorted by lastOffset (markers come in offset order). */
  private aborted: AbortedTxn[] = [];
  /** producerId → its aborted txns, sorted by lastOffset. */
  private readonly abortedByProducer = new Map<number, AbortedTxn[]>();
  private logStart: number;
  /** The end of what has been indexed: appends must come at or after it. */
  private nextOffset: number;

  constructor(logStartOffset = 0) {
    assertOffset(logStartOffset, "log start offset");
    this.logStart = logStartOffset;
    this.nextOffset = logStartOffset;
  }

  get logStartOffset(): number {
    return this.logStart;
  }

  /** A transactional data batch was written at [baseOffset, lastOffset]. */
  onTransactionalAppend(producerId: number, baseOffset: number, lastOffset = baseOffset): void {
    assertProducer(producerId);
    this.advance(baseOffset, lastOffset);
    const t = this.open.get(producerId);
    if (t) t.lastOffset = lastOffset;
    else this.open.set(producerId, { producerId, firstOffset: baseOffset, lastOffset });
  }

  /**
   * A commit/abort marker of the producer was written at markerOffset. Returns the transaction
   * it completed here, or null when the producer had no data here (a marker is written to every
   * partition of the transaction, even those its writes never reached).
   */
  onMarker(producerId: number, markerOffset: number, commit: boolean): CompletedTxn | null {
    assertProducer(producerId);
    this.advance(markerOffset, markerOffset);
    const t = this.open.get(producerId);
    if (!t) return null;
    this.open.delete(producerId);
    const done: TxnRange = { producerId, firstOffset: t.firstOffset, lastOffset: markerOffset };
    if (!commit) {
      this.aborted.push(done);
      let list = this.abortedByProducer.get(producerId);
      if (!list) this.abortedByProducer.set(producerId, (list = []));
      list.push(done);
    }
    return { ...done, commit };
  }

  /** Any other batch was written (keeps the offset-order check tight; optional). */
  onAppend(baseOffset: number, lastOffset: number): void {
    this.advance(baseOffset, lastOffset);
  }

  private advance(baseOffset: number, lastOffset: number): void {
    assertOffset(baseOffset, "offset");
    if (lastOffset < baseOffset || !Number.isSafeInteger(lastOffset))
      throw new RangeError(`invalid offset range ${baseOffset}..${lastOffset}`);
    if (baseOffset < this.nextOffset) {
      throw new RangeError(
        `transaction index: offset ${baseOffset} comes before ${this.nextOffset}, already indexed (appends must be fed in offset order)`,
      );
    }
    this.nextOffset = lastOffset + 1;
  }

  /**
   * First offset of the oldest open transaction, or `highWatermark` when none is open; never
   * below the log start offset (retention may have removed an open transaction's first batches).
   */
  lastStableOffset(highWatermark: number): number {
    const first = this.open.values().next();
    const lso = first.done ? highWatermark : Math.min(first.value.firstOffset, highWatermark);
    return Math.max(lso, this.logStart);
  }

  /** Open transactions, oldest first. */
  openTransactions(): OpenTxn[] {
    return [...this.open.values()].map((t) => ({ ...t }));
  }

  openTransaction(producerId: number): OpenTxn | null {
    const t = this.open.get(producerId);
    return t ? { ...t } : null;
  }

  /**
   * Aborted transactions overlapping [fromOffset, toOffset] (what a Kafka fetch response lists
   * for a read_committed fetch of that range), in marker offset order.
   */
  abortedRanges(fromOffset: number, toOffset: number): AbortedTxn[] {
    const out: AbortedTxn[] = [];
    for (let i = lowerBound(this.aborted, fromOffset); i < this.aborted.length; i++) {
      const a = this.aborted[i];
      if (a.firstOffset <= toOffset) out.push({ ...a });
    }
    return out;
  }

  /** Whether a transactional batch of `producerId` at `offset` belongs to an aborted transaction. */
  isAborted(producerId: number, offset: number): boolean {
    const list = this.abortedByProducer.get(producerId);
    if (!list) return false;
    const i = lowerBound(list, offset);
    return i < list.length && list[i].firstOffset <= offset;
  }

  get abortedCount(): number {
    return this.aborted.length;
  }

  /** Retention advanced the log start: forget aborted transactions wholly below it. */
  truncateBefore(logStartOffset: number): void {
    assertOffset(logStartOffset, "log start offset");
    if (logStartOffset <= this.logStart) return;
    this.logStart = logStartOffset;
    if (this.nextOffset < logStartOffset) this.nextOffset = logStartOffset;
    const cut = lowerBound(this.aborted, logStartOffset);
    if (cut === 0) return;
    this.aborted = this.aborted.slice(cut);
    for (const [pid, list] of this.abortedByProducer) {
      const c = lowerBound(list, logStartOffset);
      if (c === list.length) this.abortedByProducer.delete(pid);
      else if (c > 0) this.abortedByProducer.set(pid, list.slice(c));
    }
  }

  /** Indexes stored batches in offset order (record_batches rows; markers need `commit`). */
  replay(batches: Iterable<IndexedBatch>): void {
    for (const b of batches) {
      if (b.lastOffset < this.logStart) continue;
      if (b.isControl) {
        if (b.producerId >= 0 && b.commit !== undefined && b.commit !== null) this.onMarker(b.producerId, b.baseOffset, b.commit);
        else this.onAppend(b.baseOffset, b.lastOffset);
      } else if (b.isTransactional && b.producerId >= 0) {
        this.onTransactionalAppend(b.producerId, b.baseOffset, b.lastOffset);
      } else {
        this.onAppend(b.baseOffset, b.lastOffset);
      }
    }
  }

  static rebuild(batches: Iterable<IndexedBatch>, logStartOffset = 0): PartitionTxnIndex {
    const index = new PartitionTxnIndex(logStartOffset);
    index.replay(batches);
    return index;
  }

  snapshot(): PartitionTxnIndexSnapshot {
    return {
      version: 1,
      logStartOffset: this.logStart,
      open: this.openTransactions(),
      aborted: this.aborted.map((a) => ({ ...a })),
    };
  }

  /** Rebuilds from `snapshot()`; `nextOffset` is where the snapshot's log ended (appends resume there). */
  static restore(snapshot: PartitionTxnIndexSnapshot, nextOffset?: number): PartitionTxnIndex {
    if (!snapshot || snapshot.version !== 1 || !Array.isArray(snapshot.open) || !Array.isArray(snapshot.aborted)) {
      throw new TypeError("not a partition transaction index snapshot (version 1)");
    }
    const index = new PartitionTxnIndex(snapshot.logStartOffset);
    let end = snapshot.logStartOffset;
    for (const t of [...snapshot.open].sort((a, b) => a.firstOffset - b.firstOffset)) {
      checkRange(t);
      index.open.set(t.producerId, { ...t });
      end = Math.max(end, t.lastOffset + 1);
    }
    let prev = -1;
    for (const a of snapshot.aborted) {
      checkRange(a);
      if (a.lastOffset <= prev) throw new TypeError("corrupt transaction index snapshot: aborted transactions out of order");
      prev = a.lastOffset;
      const copy = { ...a };
      index.aborted.push(copy);
      let list = index.abortedByProducer.get(a.producerId);
      if (!list) index.abortedByProducer.set(a.producerId, (list = []));
      list.push(copy);
      end = Math.max(end, a.lastOffset + 1);
    }
    index.nextOffset = Math.max(end, nextOffset ?? end);
    return index;
  }
}

/** First index whose lastOffset >= offset. */
function lowerBound(list: readonly TxnRange[], offset: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid].lastOffset < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function assertOffset(o: number, what: string): void {
  if (!Number.isSafeInteger(o) || o < 0) throw new RangeError(`invalid ${what} ${o}`);
}

function assertProducer(pid: number): void {
  if (!Number.isSafeInteger(pid) || pid < 0) throw new RangeError(`invalid producer id ${pid}`);
}

function checkRange(t: TxnRange): void {
  if (
    !t ||
    !Number.isSafeInteger(t.producerId) ||
    t.producerId < 0 ||
    !Number.isSafeInteger(t.firstOffset) ||
    t.firstOffset < 0 ||
    !Number.isSafeInteger(t.lastOffset) ||
    t.lastOffset < t.firstOffset
  ) {
    throw new TypeError(`corrupt transaction index snapshot entry ${JSON.stringify(t)}`);
  }
}
