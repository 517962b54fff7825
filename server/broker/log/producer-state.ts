/**
 * Per-partition producer state for the idempotent producer (KIP-98), after Kafka's
 * ProducerStateManager / ProducerAppendInfo. Pure: no I/O, time is passed in.
 *
 * For every producer id that wrote to the partition it keeps the epoch, the metadata of its last
 * 5 batches (sequence range → offsets, so a retried batch gets its original offsets back), the
 * coordinator epoch of its last marker and the first offset of its open transaction here.
 *
 * Rules for a data batch (checked in this order, as Kafka does):
 * 1. Same epoch and the same first/last sequence as a retained batch: a duplicate; nothing is
 *    written and the original offsets are returned.
 * 2. Epoch older than the partition has seen: INVALID_PRODUCER_EPOCH (a zombie).
 * 3. Sequence: an unknown producer must start at 0 (else UNKNOWN_PRODUCER_ID); a newer epoch
 *    must start at 0 (else OUT_OF_ORDER_SEQUENCE_NUMBER); within the epoch the batch must follow
 *    the last one exactly (sequences wrap from 2^31-1 to 0). A batch wholly at or behind the last
 *    sequence that is no longer retained is DUPLICATE_SEQUENCE_NUMBER (already written, offsets
 *    forgotten); anything else is OUT_OF_ORDER_SEQUENCE_NUMBER (a gap, or overlap).
 * 4. A non-transactional batch while the producer has a transaction open here: INVALID_TXN_STATE.
 * A marker (control batch) must carry an epoch >= the current one (else INVALID_PRODUCER_EPOCH)
 * and a coordinator epoch >= the last one seen (else TRANSACTION_COORDINATOR_FENCED); it
 * closes the open transaction and moves the producer to the marker's epoch, which (when it is
 * a bump) restarts sequences at 0.
 *
 * With at most 5 batches in flight per partition, a client's retry always finds its batch
 * among the retained 5, and a batch that overtakes an earlier one is refused (OUT_OF_ORDER)
 * rather than written out of order.
 *
 * Group commit: `beginPlan()` checks the batches of one coalesced database transaction in order
 * against tentative state (so the second batch of a producer in the same commit follows the
 * first), and `commit()`s the offsets once the database has assigned them, or `rollback()`s.
 */
import type { RecordBatchHeader } from "../protocol/record-batch.ts";
import type { EndTxnMarker } from "../protocol/control-records.ts";
import { TxnError } from "../errors.ts";

export const INT32_MAX = 0x7fffffff;
export const MAX_PRODUCER_EPOCH = 0x7fff;
export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
/** Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN: one per in-flight request the client may have. */
export const NUM_BATCHES_TO_RETAIN = 5;

const SEQ_MODULUS = 2 ** 31;

/** `seq + by`, wrapping from 2^31-1 to 0 as Kafka's DefaultRecordBatch.incrementSequence does. */
export function incrementSequence(seq: number, by: number): number {
  if (seq > INT32_MAX - by) return by - (INT32_MAX - seq) - 1;
  return seq + by;
}

/** Whether `next` directly follows `last` (NO_SEQUENCE is followed by 0). */
export function inSequence(last: number, next: number): boolean {
  return next === last + 1 || (next === 0 && last === INT32_MAX);
}

/** `seq` is `ref` or up to 2^30 sequences before it (modulo wrapping). */
function atOrBehind(seq: number, ref: number): boolean {
  const d = (((ref - seq) % SEQ_MODULUS) + SEQ_MODULUS) % SEQ_MODULUS;
  return d < SEQ_MODULUS / 2;
}

/** What the producer-state checks need of a batch. */
export interface BatchMeta {
  /** -1 for a batch without a producer (not idempotent): never checked. */
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  /** baseSequence + lastOffsetDelta, wrapped (see `incrementSequence`). */
  lastSequence: number;
  isTransactional: boolean;
  /** Set for an end-transaction marker (control batch); absent for data batches. */
  marker?: EndTxnMarker;
}

/** The meta of a batch from its header (pass the decoded marker for a control batch). */
export function batchMetaOf(h: RecordBatchHeader, marker?: EndTxnMarker): BatchMeta {
  return {
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    baseSequence: h.baseSequence,
    lastSequence: h.baseSequence < 0 ? NO_SEQUENCE : incrementSequence(h.baseSequence, h.lastOffsetDelta),
    isTransactional: h.isTransactional,
    marker: h.isControl ? marker : undefined,
  };
}

export interface RetainedBatch {
  firstSeq: number;
  lastSeq: number;
  baseOffset: number;
  lastOffset: number;
  timestamp: number;
}

export type AppendDecision = { kind: "append" } | { kind: "duplicate"; baseOffset: number; lastOffset: number };

/** One batch's outcome in a group-commit plan. */
export type PlannedBatch =
  /** Write it; `slot` is its position among the plan's written batches. */
  | { kind: "append"; slot: number }
  /** A retry of an already written batch: answer with these offsets, write nothing. */
  | { kind: "duplicate"; baseOffset: number; lastOffset: number }
  /** A retry of a batch written by this same plan: answer with that slot's offsets. */
  | { kind: "duplicate-pending"; slot: number };

export interface ProducerDescription {
  producerId: number;
  producerEpoch: number;
  /** Last sequence written at the current epoch; -1 when none (new epoch). */
  lastSequence: number;
  lastTimestamp: number;
  coordinatorEpoch: number;
  /** First offset of the producer's open transaction in this partition, if any. */
  currentTxnStartOffset: number | null;
}

interface Entry {
  producerId: number;
  producerEpoch: number;
  coordinatorEpoch: number;
  lastTimestamp: number;
  /** Last NUM_BATCHES_TO_RETAIN batches at producerEpoch, oldest first. */
  batches: RetainedBatch[];
  currentTxnFirstOffset: number | null;
}

export type ProducerSnapshotEntry = Entry;

export interface ProducerStateSnapshot {
  version: 1;
  producers: ProducerSnapshotEntry[];
}

/** A stored batch's columns, for rebuilding state from the log (record_batches rows). */
export interface LoggedBatch {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  baseOffset: number;
  lastOffset: number;
  isTransactional: boolean;
  isControl: boolean;
  maxTimestamp: number;
  /** The decoded marker of a control batch, if known (only its coordinator epoch is used here). */
  marker?: EndTxnMarker | null;
}

type ViewBatch =
  | { firstSeq: number; lastSeq: number; baseOffset: number; lastOffset: number; slot?: undefined }
  | { firstSeq: number; lastSeq: number; slot: number };

/** The state a check runs against: a committed entry, or one with tentative batches of a plan. */
interface View {
  producerEpoch: number;
  coordinatorEpoch: number;
  batches: readonly ViewBatch[];
  txnOpen: boolean;
}

const viewOf = (e: Entry): View => ({
  producerEpoch: e.producerEpoch,
  coordinatorEpoch: e.coordinatorEpoch,
  batches: e.batches,
  txnOpen: e.currentTxnFirstOffset !== null,
});

function invalidRecord(message: string, meta: BatchMeta): TxnError {
  return new TxnError("INVALID_RECORD", message, {
    producerId: meta.producerId,
    producerEpoch: meta.producerEpoch,
    baseSequence: meta.baseSequence,
  });
}

const isInt = (v: unknown, min: number, max: number): v is number => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

function validateMeta(meta: BatchMeta): void {
  if (meta === null || typeof meta !== "object") throw new TxnError("INVALID_RECORD", "batch metadata is missing");
  if (!Number.isSafeInteger(meta.producerId) || meta.producerId < NO_PRODUCER_ID)
    throw invalidRecord(`invalid producer id ${meta.producerId}`, meta);
  if (meta.producerId === NO_PRODUCER_ID) {
    if (meta.isTransactional || meta.marker) throw invalidRecord("a transactional batch needs a producer id", meta);
    return;
  }
  if (!isInt(meta.producerEpoch, 0, MAX_PRODUCER_EPOCH)) throw invalidRecord(`invalid producer epoch ${meta.producerEpoch}`, meta);
  if (meta.marker) {
    if (!meta.isTransactional) throw invalidRecord("an end-transaction marker must be transactional", meta);
    if (!isInt(meta.marker.coordinatorEpoch, 0, INT32_MAX))
      throw invalidRecord(`invalid coordinator epoch ${meta.marker.coordinatorEpoch}`, meta);
    return;
  }
  if (!isInt(meta.baseSequence, 0, INT32_MAX) || !isInt(meta.lastSequence, 0, INT32_MAX)) {
    throw invalidRecord(
      `producer ${meta.producerId} sent sequence range ${meta.baseSequence}..${meta.lastSequence}: sequences must be 0..${INT32_MAX}`,
      meta,
    );
  }
}

/** The check of one batch against a producer's state; throws TxnError when it must be refused. */
function decide(meta: BatchMeta, view: View | undefined): { kind: "append" } | { kind: "duplicate"; of: ViewBatch } {
  const pid = meta.producerId;
  const details = {
    producerId: pid,
    producerEpoch: meta.producerEpoch,
    baseSequence: meta.baseSequence,
    currentEpoch: view?.producerEpoch ?? null,
  };
  if (meta.marker) {
    if (view && meta.producerEpoch < view.producerEpoch) {
      throw new TxnError(
        "INVALID_PRODUCER_EPOCH",
        `marker epoch ${meta.producerEpoch} of producer ${pid} is older than the partition's epoch ${view.producerEpoch}`,
        details,
      );
    }
    if (view && meta.marker.coordinatorEpoch < view.coordinatorEpoch) {
      throw new TxnError(
        "TRANSACTION_COORDINATOR_FENCED",
        `marker of producer ${pid} has coordinator epoch ${meta.marker.coordinatorEpoch}, older than ${view.coordinatorEpoch}`,
        { ...details, coordinatorEpoch: meta.marker.coordinatorEpoch, currentCoordinatorEpoch: view.coordinatorEpoch },
      );
    }
    return { kind: "append" };
  }
  if (view && meta.producerEpoch === view.producerEpoch) {
    for (const b of view.batches) {
      if (b.firstSeq === meta.baseSequence && b.lastSeq === meta.lastSequence) return { kind: "duplicate", of: b };
    }
  }
  if (!view) {
    if (meta.baseSequence !== 0) {
      throw new TxnError(
        "UNKNOWN_PRODUCER_ID",
        `producer ${pid} has no state in this partition and sent sequence ${meta.baseSequence}; a new producer starts at 0`,
        details,
      );
    }
  } else if (meta.producerEpoch < view.producerEpoch) {
    throw new TxnError(
      "INVALID_PRODUCER_EPOCH",
      `producer ${pid} sent epoch ${meta.producerEpoch}, older than the partition's epoch ${view.producerEpoch}: it was fenced by a newer instance`,
      details,
    );
  } else if (view.producerEpoch !== NO_PRODUCER_EPOCH) {
    if (meta.producerEpoch > view.producerEpoch) {
      if (meta.baseSequence !== 0) {
        throw new TxnError(
          "OUT_OF_ORDER_SEQUENCE_NUMBER",
          `producer ${pid} sent sequence ${meta.baseSequence} for its new epoch ${meta.producerEpoch}; a new epoch starts at 0`,
          details,
        );
      }
    } else {
      const last = view.batches.length > 0 ? view.batches[view.batches.length - 1].lastSeq : NO_SEQUENCE;
      if (!inSequence(last, meta.baseSequence)) {
        if (last !== NO_SEQUENCE && atOrBehind(meta.lastSequence, last) && atOrBehind(meta.baseSequence, meta.lastSequence)) {
          throw new TxnError(
            "DUPLICATE_SEQUENCE_NUMBER",
            `producer ${pid} resent sequences ${meta.baseSequence}..${meta.lastSequence}, already written (last sequence ${last}) but too old to return their offsets`,
            { ...details, lastSequence: last },
          );
        }
        throw new TxnError(
          "OUT_OF_ORDER_SEQUENCE_NUMBER",
          `producer ${pid} sent sequence ${meta.baseSequence}, expected ${incrementSequence(last, 1)} (last written ${last})`,
          { ...details, lastSequence: last, expectedSequence: incrementSequence(last, 1) },
        );
      }
    }
  }
  if (view?.txnOpen && !meta.isTransactional) {
    throw new TxnError(
      "INVALID_TXN_STATE",
      `producer ${pid} sent a non-transactional batch while its transaction is open in this partition`,
      details,
    );
  }
  return { kind: "append" };
}

/** `view` after tentatively appending `meta` at plan slot `slot` (new objects; `view` untouched). */
function applyToView(meta: BatchMeta, view: View | undefined, slot: number): View {
  if (meta.marker) {
    const sameEpoch = view !== undefined && view.producerEpoch === meta.producerEpoch;
    return {
      producerEpoch: meta.producerEpoch,
      coordinatorEpoch: Math.max(view?.coordinatorEpoch ?? -1, meta.marker.coordinatorEpoch),
      batches: sameEpoch ? view.batches : [],
      txnOpen: false,
    };
  }
  const keep = view !== undefined && view.producerEpoch === meta.producerEpoch ? view.batches : [];
  const batches = [...keep, { firstSeq: meta.baseSequence, lastSeq: meta.lastSequence, slot }];
  if (batches.length > NUM_BATCHES_TO_RETAIN) batches.splice(0, batches.length - NUM_BATCHES_TO_RETAIN);
  return {
    producerEpoch: meta.producerEpoch,
    coordinatorEpoch: view?.coordinatorEpoch ?? -1,
    batches,
    txnOpen: (view?.txnOpen ?? false) || meta.isTransactional,
  };
}

export class ProducerStateManager {
  private readonly entries = new Map<number, Entry>();
  private openPlan: ProducerAppendPlan | null = null;

  /** Number of producers with state here. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Checks one batch against the committed state. `append`: write it, then call `onAppended`
   * with its offsets. `duplicate`: a retry; answer with the original offsets, write nothing.
   * Throws TxnError when the batch must be refused (see the module comment).
   */
  checkAndPlan(meta: BatchMeta): AppendDecision {
    this.assertNoPlan("checkAndPlan");
    validateMeta(meta);
    if (meta.producerId === NO_PRODUCER_ID) return { kind: "append" };
    const e = this.entries.get(meta.producerId);
    const d = decide(meta, e ? viewOf(e) : undefined);
    if (d.kind === "append") return d;
    const b = d.of as RetainedBatch;
    return { kind: "duplicate", baseOffset: b.baseOffset, lastOffset: b.lastOffset };
  }

  /**
   * Records a written batch (after `checkAndPlan`, or when replaying the log). Keeps the last
   * NUM_BATCHES_TO_RETAIN batches of the producer's epoch; a marker closes the open transaction
   * and moves the producer to the marker's epoch.
   */
  onAppended(meta: BatchMeta, baseOffset: number, lastOffset: number, now: number): void {
    this.assertNoPlan("onAppended");
    this.apply(meta, baseOffset, lastOffset, now);
  }

  private apply(meta: BatchMeta, baseOffset: number, lastOffset: number, now: number): void {
    if (meta.producerId < 0) return;
    let e = this.entries.get(meta.producerId);
    if (!e) {
      e = {
        producerId: meta.producerId,
        producerEpoch: meta.producerEpoch,
        coordinatorEpoch: -1,
        lastTimestamp: now,
        batches: [],
        currentTxnFirstOffset: null,
      };
      this.entries.set(meta.producerId, e);
    }
    if (e.producerEpoch !== meta.producerEpoch) {
      e.producerEpoch = meta.producerEpoch;
      e.batches = [];
    }
    e.lastTimestamp = now;
    if (meta.marker) {
      e.coordinatorEpoch = Math.max(e.coordinatorEpoch, meta.marker.coordinatorEpoch);
      e.currentTxnFirstOffset = null;
      return;
    }
    e.batches.push({ firstSeq: meta.baseSequence, lastSeq: meta.lastSequence, baseOffset, lastOffset, timestamp: now });
    if (e.batches.length > NUM_BATCHES_TO_RETAIN) e.batches.splice(0, e.batches.length - NUM_BATCHES_TO_RETAIN);
    if (meta.isTransactional && e.currentTxnFirstOffset === null) e.currentTxnFirstOffset = baseOffset;
  }

  /**
   * Raises a producer's epoch here (no-op when not higher), forgetting its retained batches so
   * the next batch must start at sequence 0 and older epochs are refused. Markers do this
   * themselves; this is for fencing a producer at a partition without writing one.
   */
  bumpEpoch(producerId: number, producerEpoch: number, now: number): void {
    this.assertNoPlan("bumpEpoch");
    if (!isInt(producerEpoch, 0, MAX_PRODUCER_EPOCH)) throw new TxnError("INVALID_REQUEST", `invalid producer epoch ${producerEpoch}`);
    const e = this.entries.get(producerId);
    if (!e) {
      this.entries.set(producerId, {
        producerId,
        producerEpoch,
        coordinatorEpoch: -1,
        lastTimestamp: now,
        batches: [],
        currentTxnFirstOffset: null,
      });
      return;
    }
    if (producerEpoch <= e.producerEpoch) return;
    e.producerEpoch = producerEpoch;
    e.batches = [];
    e.lastTimestamp = now;
  }

  /**
   * Starts checking the batches of one group commit. Only one plan may be open at a time (the
   * partition's flush loop is sequential), and the committed state may not change meanwhile.
   */
  beginPlan(): ProducerAppendPlan {
    this.assertNoPlan("beginPlan");
    const plan = new ProducerAppendPlan(this, (m) => this.entryView(m));
    this.openPlan = plan;
    return plan;
  }

  /** @internal used by ProducerAppendPlan. */
  finishPlan(plan: ProducerAppendPlan, applied: { meta: BatchMeta; baseOffset: number; lastOffset: number }[] | null, now: number): void {
    if (this.openPlan !== plan) throw new Error("this append plan is no longer open");
    this.openPlan = null;
    if (applied) for (const a of applied) this.apply(a.meta, a.baseOffset, a.lastOffset, now);
  }

  private entryView(producerId: number): View | undefined {
    const e = this.entries.get(producerId);
    return e ? viewOf(e) : undefined;
  }

  private assertNoPlan(what: string): void {
    if (this.openPlan) throw new Error(`${what} while an append plan is open: commit or roll it back first`);
  }

  /** First offset of the producer's open transaction here (null when none). */
  currentTxnFirstOffset(producerId: number): number | null {
    return this.entries.get(producerId)?.currentTxnFirstOffset ?? null;
  }

  producerEpoch(producerId: number): number | null {
    return this.entries.get(producerId)?.producerEpoch ?? null;
  }

  /** Every producer with state here, by producer id (Kafka's DescribeProducers). */
  producers(): ProducerDescription[] {
    return [...this.entries.values()]
      .sort((a, b) => a.producerId - b.producerId)
      .map((e) => ({
        producerId: e.producerId,
        producerEpoch: e.producerEpoch,
        lastSequence: e.batches.length > 0 ? e.batches[e.batches.length - 1].lastSeq : NO_SEQUENCE,
        lastTimestamp: e.lastTimestamp,
        coordinatorEpoch: e.coordinatorEpoch,
        currentTxnStartOffset: e.currentTxnFirstOffset,
      }));
  }

  /**
   * Forgets producers idle for `maxIdleMs` (Kafka's producer.id.expiration.ms) that have no
   * open transaction here; returns their ids. Their next batch must then start at sequence 0.
   */
  expireProducers(now: number, maxIdleMs: number): number[] {
    this.assertNoPlan("expireProducers");
    const out: number[] = [];
    for (const [pid, e] of this.entries) {
      if (e.currentTxnFirstOffset === null && now - e.lastTimestamp >= maxIdleMs) {
        this.entries.delete(pid);
        out.push(pid);
      }
    }
    return out;
  }

  /** Applies stored batches in offset order (rebuilding from record_batches rows). */
  replay(batches: Iterable<LoggedBatch>): void {
    this.assertNoPlan("replay");
    for (const b of batches) {
      if (b.producerId < 0) continue;
      const meta: BatchMeta = {
        producerId: b.producerId,
        producerEpoch: b.producerEpoch,
        baseSequence: b.baseSequence,
        lastSequence: b.baseSequence < 0 ? NO_SEQUENCE : incrementSequence(b.baseSequence, b.lastOffset - b.baseOffset),
        isTransactional: b.isTransactional,
        marker: b.isControl ? { commit: b.marker?.commit ?? false, coordinatorEpoch: b.marker?.coordinatorEpoch ?? -1 } : undefined,
      };
      this.apply(meta, b.baseOffset, b.lastOffset, b.maxTimestamp);
    }
  }

  /** Plain JSON of the whole state, for persisting; `restore` rebuilds it. */
  snapshot(): ProducerStateSnapshot {
    this.assertNoPlan("snapshot");
    return {
      version: 1,
      producers: [...this.entries.values()]
        .sort((a, b) => a.producerId - b.producerId)
        .map((e) => ({ ...e, batches: e.batches.map((b) => ({ ...b })) })),
    };
  }

  static restore(snapshot: ProducerStateSnapshot): ProducerStateManager {
    if (!snapshot || snapshot.version !== 1 || !Array.isArray(snapshot.producers)) {
      throw new TypeError("not a producer state snapshot (version 1)");
    }
    const m = new ProducerStateManager();
    for (const p of snapshot.producers) {
      if (
        !Number.isSafeInteger(p.producerId) ||
        p.producerId < 0 ||
        !isInt(p.producerEpoch, -1, MAX_PRODUCER_EPOCH) ||
        !Array.isArray(p.batches)
      ) {
        throw new TypeError(`corrupt producer state snapshot entry ${JSON.stringify(p)}`);
      }
      m.entries.set(p.producerId, {
        producerId: p.producerId,
        producerEpoch: p.producerEpoch,
        coordinatorEpoch: p.coordinatorEpoch ?? -1,
        lastTimestamp: p.lastTimestamp ?? 0,
        batches: p.batches.slice(-NUM_BATCHES_TO_RETAIN).map((b) => ({ ...b })),
        currentTxnFirstOffset: p.currentTxnFirstOffset ?? null,
      });
    }
    return m;
  }
}

/**
 * The checks of one group commit (one database transaction holding several callers' batches).
 * `add` plans one caller's batches, all or nothing: when one of them is refused the error is
 * thrown and none of them is planned, so the other callers' batches go ahead. After the
 * database commit, `commit` takes the offsets of the written batches (one range per `append`
 * slot, in slot order); if the database transaction fails, `rollback`.
 */
export class ProducerAppendPlan {
  private readonly overlay = new Map<number, View | undefined>();
  private readonly slots: BatchMeta[] = [];
  private closed = false;

  constructor(
    private readonly manager: ProducerStateManager,
    private readonly committedView: (producerId: number) => View | undefined,
  ) {}

  /** Number of batches to write (the `append` slots planned so far). */
  get size(): number {
    return this.slots.length;
  }

  /** The batches to write, in slot order. */
  batches(): readonly BatchMeta[] {
    return this.slots;
  }

  add(metas: readonly BatchMeta[]): PlannedBatch[] {
    if (this.closed) throw new Error("this append plan is closed");
    const local = new Map<number, View | undefined>();
    const newSlots: BatchMeta[] = [];
    const out: PlannedBatch[] = [];
    const viewFor = (pid: number) =>
      local.has(pid) ? local.get(pid) : this.overlay.has(pid) ? this.overlay.get(pid) : this.committedView(pid);
    for (const meta of metas) {
      validateMeta(meta);
      const slot = this.slots.length + newSlots.length;
      if (meta.producerId === NO_PRODUCER_ID) {
        newSlots.push(meta);
        out.push({ kind: "append", slot });
        continue;
      }
      const view = viewFor(meta.producerId);
      const d = decide(meta, view);
      if (d.kind === "duplicate") {
        out.push(
          d.of.slot !== undefined
            ? { kind: "duplicate-pending", slot: d.of.slot }
            : { kind: "duplicate", baseOffset: d.of.baseOffset, lastOffset: d.of.lastOffset },
        );
        continue;
      }
      newSlots.push(meta);
      local.set(meta.producerId, applyToView(meta, view, slot));
      out.push({ kind: "append", slot });
    }
    for (const [pid, v] of local) this.overlay.set(pid, v);
    this.slots.push(...newSlots);
    return out;
  }

  /** The written batches' offsets, one per slot in slot order; applies them to the state. */
  commit(ranges: readonly { baseOffset: number; lastOffset: number }[], now: number): void {
    if (this.closed) throw new Error("this append plan is closed");
    if (ranges.length !== this.slots.length)
      throw new Error(`append plan has ${this.slots.length} batches, got ${ranges.length} offset ranges`);
    this.closed = true;
    this.manager.finishPlan(
      this,
      this.slots.map((meta, i) => ({ meta, baseOffset: ranges[i].baseOffset, lastOffset: ranges[i].lastOffset })),
      now,
    );
  }

  rollback(): void {
    if (this.closed) return;
    this.closed = true;
    this.manager.finishPlan(this, null, 0);
  }
}
