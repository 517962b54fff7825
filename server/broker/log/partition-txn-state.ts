/**
 * Everything one partition knows about producers and transactions: the idempotence state
 * (`ProducerStateManager`) and the transaction index (`PartitionTxnIndex`), fed together so they
 * cannot drift apart. This is the object a `PartitionLog` holds; its group-commit flush runs each
 * batch through `beginAppend()` and commits the plan with the offsets the database assigned.
 */
import type { BatchToAppend, StoredBatch } from "../store/log-store.ts";
import { readEndTxnMarker } from "../protocol/control-records.ts";
import { PartitionTxnIndex, type CompletedTxn, type OpenTxn, type PartitionTxnIndexSnapshot } from "./partition-txn-index.ts";
import {
  incrementSequence,
  NO_SEQUENCE,
  ProducerStateManager,
  type BatchMeta,
  type PlannedBatch,
  type ProducerAppendPlan,
  type ProducerDescription,
  type ProducerStateSnapshot,
} from "./producer-state.ts";
import { TxnError } from "../errors.ts";

export interface PartitionTxnSnapshot {
  version: 1;
  /** The log end offset the snapshot covers: replay record_batches from here. */
  nextOffset: number;
  producers: ProducerStateSnapshot;
  index: PartitionTxnIndexSnapshot;
}

/** A stored batch as rebuilding needs it: the record_batches columns, plus the payload of control batches. */
export type ReplayedBatch = Omit<StoredBatch, "payload" | "recordCount" | "firstTimestamp" | "sizeBytes"> & { payload?: Buffer };

/** The check metadata of a batch about to be appended (decodes the marker of a control batch). */
export function batchMetaOfAppend(b: BatchToAppend): BatchMeta {
  if (b.isControl) {
    const m = readEndTxnMarker(b.payload);
    if (!m) throw new TxnError("INVALID_RECORD", "only end-transaction markers may be written as control batches");
    return {
      producerId: b.producerId,
      producerEpoch: b.producerEpoch,
      baseSequence: NO_SEQUENCE,
      lastSequence: NO_SEQUENCE,
      isTransactional: true,
      marker: { commit: m.commit, coordinatorEpoch: m.coordinatorEpoch },
    };
  }
  return {
    producerId: b.producerId,
    producerEpoch: b.producerEpoch,
    baseSequence: b.baseSequence,
    lastSequence: b.baseSequence < 0 ? NO_SEQUENCE : incrementSequence(b.baseSequence, b.lastOffsetDelta),
    isTransactional: b.isTransactional,
  };
}

export interface PartitionTxnDescription {
  producers: ProducerDescription[];
  openTransactions: OpenTxn[];
}

export class PartitionTxnState {
  private end: number;

  constructor(
    readonly producers: ProducerStateManager = new ProducerStateManager(),
    readonly index: PartitionTxnIndex = new PartitionTxnIndex(),
    nextOffset = index.logStartOffset,
  ) {
    this.end = nextOffset;
  }

  /** Where the state ends: the offset after the last batch it has seen. */
  get nextOffset(): number {
    return this.end;
  }

  lastStableOffset(highWatermark: number): number {
    return this.index.lastStableOffset(highWatermark);
  }

  isAborted(producerId: number, offset: number): boolean {
    return this.index.isAborted(producerId, offset);
  }

  /** Starts checking one group commit's batches; see `PartitionAppendPlan`. */
  beginAppend(): PartitionAppendPlan {
    return new PartitionAppendPlan(this.producers.beginPlan(), this.index, (next) => {
      this.end = Math.max(this.end, next);
    });
  }

  describe(): PartitionTxnDescription {
    return { producers: this.producers.producers(), openTransactions: this.index.openTransactions() };
  }

  truncateBefore(logStartOffset: number): void {
    this.index.truncateBefore(logStartOffset);
    this.end = Math.max(this.end, logStartOffset);
  }

  /**
   * Applies stored batches in offset order. A control batch needs its payload (for the marker's
   * outcome), other batches only their columns; batches without a producer id may be left out.
   * `nextOffset`: the log end the rows were read up to (the high watermark of the scan).
   */
  replay(batches: Iterable<ReplayedBatch>, nextOffset?: number): void {
    const rows = Array.isArray(batches) ? (batches as ReplayedBatch[]) : [...batches];
    const markers = rows.map((b) => {
      if (!b.isControl) return undefined;
      if (!b.payload) throw new TypeError(`control batch at offset ${b.baseOffset} needs its payload to be replayed`);
      return readEndTxnMarker(b.payload);
    });
    this.producers.replay(rows.map((b, i) => ({ ...b, marker: markers[i] })));
    this.index.replay(rows.map((b, i) => ({ ...b, commit: b.isControl ? (markers[i]?.commit ?? null) : undefined })));
    if (rows.length > 0) this.end = Math.max(this.end, rows[rows.length - 1].lastOffset + 1);
    if (nextOffset !== undefined) this.end = Math.max(this.end, nextOffset);
  }

  static rebuild(batches: Iterable<ReplayedBatch>, logStartOffset = 0, nextOffset?: number): PartitionTxnState {
    const s = new PartitionTxnState(new ProducerStateManager(), new PartitionTxnIndex(logStartOffset), logStartOffset);
    s.replay(batches, nextOffset);
    return s;
  }

  snapshot(): PartitionTxnSnapshot {
    return { version: 1, nextOffset: this.end, producers: this.producers.snapshot(), index: this.index.snapshot() };
  }

  static restore(snapshot: PartitionTxnSnapshot): PartitionTxnState {
    if (!snapshot || snapshot.version !== 1 || !Number.isSafeInteger(snapshot.nextOffset)) {
      throw new TypeError("not a partition transaction state snapshot (version 1)");
    }
    return new PartitionTxnState(
      ProducerStateManager.restore(snapshot.producers),
      PartitionTxnIndex.restore(snapshot.index, snapshot.nextOffset),
      snapshot.nextOffset,
    );
  }
}

/**
 * One group commit's checks across both halves: `add` each caller's batches (all or nothing
 * per call), write the `append` slots, then `commit` their offsets (or `rollback`).
 */
export class PartitionAppendPlan {
  constructor(
    private readonly plan: ProducerAppendPlan,
    private readonly index: PartitionTxnIndex,
    private readonly onEnd: (nextOffset: number) => void,
  ) {}

  get size(): number {
    return this.plan.size;
  }

  add(metas: readonly BatchMeta[]): PlannedBatch[] {
    return this.plan.add(metas);
  }

  /** Applies the written batches' offsets (one range per slot); returns the transactions markers completed. */
  commit(ranges: readonly { baseOffset: number; lastOffset: number }[], now: number): CompletedTxn[] {
    const metas = [...this.plan.batches()];
    this.plan.commit(ranges, now);
    const done: CompletedTxn[] = [];
    for (let i = 0; i < metas.length; i++) {
      const m = metas[i];
      const { baseOffset, lastOffset } = ranges[i];
      if (m.marker) {
        const c = this.index.onMarker(m.producerId, baseOffset, m.marker.commit);
        if (c) done.push(c);
      } else if (m.isTransactional) {
        this.index.onTransactionalAppend(m.producerId, baseOffset, lastOffset);
      } else {
        this.index.onAppend(baseOffset, lastOffset);
      }
    }
    if (ranges.length > 0) this.onEnd(ranges[ranges.length - 1].lastOffset + 1);
    return done;
  }

  rollback(): void {
    this.plan.rollback();
  }
}
