/**
 * The transaction coordinator (KIP-98, KIP-447), in memory and pure: no I/O and no timers, time
 * is passed in as `now` (ms). It decides; the broker executes its plans (writes markers, commits
 * group offsets) and persists its state (`entrySnapshot`; transaction-service.ts says when).
 *
 * Per transactional id it keeps the producer id and epoch, the transaction's partitions and
 * pending group offsets, and a state from txn-states.ts; every state change goes through the
 * transition table.
 *
 * Epochs (Kafka's rules before KIP-890):
 * - initProducerId bumps the epoch of an existing id; requests with any other epoch are fenced
 *   (PRODUCER_FENCED). An open transaction of the previous instance is aborted: the abort
 *   markers carry epoch+1, so the partitions fence the old instance too.
 * - A transaction past its timeout is aborted by the coordinator with epoch+1 as well; its
 *   producer then gets TRANSACTION_ABORTED (not PRODUCER_FENCED) and may re-initialise.
 * - Epochs handed to clients stay <= 32766 so a fencing bump always fits in an int16; an id
 *   whose epoch would pass that gets a fresh producer id at epoch 0.
 * - A client commit or abort writes markers at the producer's current epoch; the producer keeps
 *   its epoch (and sequences) for its next transaction.
 *
 * Lifecycle of a plan: prepareEnd (or initProducerId / expire / recover) moves the id to
 * PrepareCommit/PrepareAbort and returns an `EndTxnPlan`. The broker persists the entry, writes
 * a marker into every listed partition and (commit only) the group offsets, then calls
 * completeEnd. Markers are idempotent to redo, so after a crash `recover` returns every
 * unfinished plan again.
 */
import { compareTopicPartitions, keyOf, type TopicPartition } from "../group/topic-partitions.ts";
import { invalidTxnRequest, TxnError } from "../errors.ts";
import { assertTransition, IDLE_STATES, PREPARE_STATES, TXN_STATES, type TxnState } from "./txn-states.ts";

import type { EndReason, EndTxnPlan, GroupOffsetsToCommit, StoredTransaction, TxnOffset } from "../store/transaction-store.ts";

export type { TopicPartition } from "../group/topic-partitions.ts";
export type { EndReason, EndTxnPlan, GroupOffsetsToCommit, TxnOffset };

export interface TransactionCoordinatorConfig {
  /** Used when initProducerId names no timeout (the Java client's transaction.timeout.ms default). */
  defaultTransactionTimeoutMs: number;
  /** Kafka's transaction.max.timeout.ms: larger requested timeouts are INVALID_TRANSACTION_TIMEOUT. */
  maxTransactionTimeoutMs: number;
  /** Kafka's transactional.id.expiration.ms: idle ids older than this are removed. */
  transactionalIdExpirationMs: number;
  /** Written into every marker; raise it when another coordinator instance takes over. */
  coordinatorEpoch: number;
}

export const DEFAULT_TXN_COORDINATOR_CONFIG: Readonly<TransactionCoordinatorConfig> = {
  defaultTransactionTimeoutMs: 60_000,
  maxTransactionTimeoutMs: 900_000,
  transactionalIdExpirationMs: 7 * 24 * 60 * 60 * 1000,
  coordinatorEpoch: 0,
};

/** Highest epoch handed to a client; one more is kept for fencing it. */
export const MAX_CLIENT_EPOCH = 0x7fff - 1;
/** Kafka's protocol STRING limit. */
const MAX_ID_BYTES = 0x7fff;

/** Source of fresh producer ids (the broker: blocks reserved from a database sequence). */
export interface ProducerIdAllocator {
  next(): number;
}

/**
 * Hands out ids from reserved blocks, so the synchronous coordinator never waits on the database:
 * the broker tops it up (`addBlock`) while `available` runs low, before calling initProducerId.
 */
export class BlockProducerIdAllocator implements ProducerIdAllocator {
  private readonly blocks: { next: number; end: number }[] = [];

  addBlock(start: number, size: number): void {
    if (!Number.isSafeInteger(start) || start < 0 || !Number.isSafeInteger(size) || size <= 0 || !Number.isSafeInteger(start + size)) {
      throw new RangeError(`invalid producer id block ${start}+${size}`);
    }
    this.blocks.push({ next: start, end: start + size });
  }

  get available(): number {
    return this.blocks.reduce((n, b) => n + (b.end - b.next), 0);
  }

  next(): number {
    while (this.blocks.length > 0 && this.blocks[0].next >= this.blocks[0].end) this.blocks.shift();
    const b = this.blocks[0];
    if (!b) throw new Error("no producer ids left: reserve another block before initProducerId");
    return b.next++;
  }
}

/**
 * A transaction began (Ongoing) or ended (CompleteCommit / CompleteAbort), for listeners such as
 * a topology view; `partitions` are the transaction's (the end plan's for an end).
 */
export type TxnChangeEvent =
  | { type: "begun"; transactionalId: string; producerId: number; producerEpoch: number }
  | {
      type: "committed" | "aborted";
      transactionalId: string;
      producerId: number;
      producerEpoch: number;
      reason: EndReason;
      partitions: TopicPartition[];
    };

export interface InitProducerIdRequest {
  /** Absent/null: an idempotent producer without transactions (a fresh producer id every time). */
  transactionalId?: string | null;
  transactionTimeoutMs?: number;
  /** KIP-360: a producer re-initialising with its current id/epoch (e.g. after its txn timed out). */
  producerId?: number;
  producerEpoch?: number;
}

export interface InitProducerIdResult {
  producerId: number;
  producerEpoch: number;
  /**
   * The previous instance's open transaction, to abort before replying: write its markers, then
   * completeEnd. Until then the id answers CONCURRENT_TRANSACTIONS.
   */
  abort: EndTxnPlan | null;
}

export interface TransactionDescription {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  state: TxnState;
  timeoutMs: number;
  partitions: TopicPartition[];
  /** Groups with offsets pending in the transaction. */
  groups: string[];
  /** When the current transaction started (null when idle). */
  startedAt: number | null;
  ageMs: number | null;
  lastUpdatedAt: number;
  /** The decided outcome while markers are being written. */
  pending: { commit: boolean; reason: EndReason } | null;
  lastResult: { commit: boolean; reason: EndReason; completedAt: number } | null;
}

/** One transactional id's persisted state (plain JSON): the stored record with a state of the transition table. */
export interface TxnEntrySnapshot extends StoredTransaction {
  state: TxnState;
}

/** Every id's state; `restore` takes stored records as read back (their states are checked there). */
export interface TxnCoordinatorSnapshot {
  version: 1;
  transactions: StoredTransaction[];
}

interface TxnMeta {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  timeoutMs: number;
  state: TxnState;
  partitions: Map<string, TopicPartition>;
  /** groupId → partition key → offset */
  pendingOffsets: Map<string, Map<string, TxnOffset>>;
  startedAt: number | null;
  lastUpdatedAt: number;
  pendingEnd: EndTxnPlan | null;
  fencedByTimeout: { producerId: number; producerEpoch: number } | null;
  lastResult: { commit: boolean; reason: EndReason; completedAt: number } | null;
}

const isInt = (v: unknown, min: number, max: number): v is number =>
  Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;

function validateTransactionalId(id: unknown): string {
  if (typeof id !== "string" || id.length === 0)
    throw invalidTxnRequest("transactionalId must be a non-empty string", { transactionalId: id });
  if (Buffer.byteLength(id, "utf8") > MAX_ID_BYTES) throw invalidTxnRequest(`transactionalId is longer than ${MAX_ID_BYTES} bytes`);
  return id;
}

function validateProducer(producerId: unknown, producerEpoch: unknown): void {
  if (!isInt(producerId, 0, Number.MAX_SAFE_INTEGER))
    throw invalidTxnRequest(`producerId must be an integer >= 0, got ${String(producerId)}`);
  if (!isInt(producerEpoch, 0, 0x7fff)) throw invalidTxnRequest(`producerEpoch must be an integer 0..32767, got ${String(producerEpoch)}`);
}

function validateTopicPartition(tp: unknown, what: string): TopicPartition {
  const t = tp as TopicPartition;
  if (t === null || typeof t !== "object" || typeof t.topic !== "string" || t.topic.length === 0 || !isInt(t.partition, 0, 0x7fffffff)) {
    throw invalidTxnRequest(`${what} must be {topic: non-empty string, partition: integer >= 0}, got ${JSON.stringify(tp)}`);
  }
  return { topic: t.topic, partition: t.partition };
}

function validateGroupId(groupId: unknown): string {
  if (typeof groupId !== "string" || groupId.length === 0) throw invalidTxnRequest("groupId must be a non-empty string", { groupId });
  return groupId;
}

export class TransactionCoordinator {
  private readonly txns = new Map<string, TxnMeta>();
  readonly config: Readonly<TransactionCoordinatorConfig>;

  constructor(
    private readonly allocator: ProducerIdAllocator,
    config: Partial<TransactionCoordinatorConfig> = {},
    /** Told of begun and ended transactions, after the call that changed them returned. */
    private readonly onChange?: (event: TxnChangeEvent) => void,
  ) {
    const c = { ...DEFAULT_TXN_COORDINATOR_CONFIG, ...config };
    if (!isInt(c.maxTransactionTimeoutMs, 1, 2 ** 31 - 1))
      throw new RangeError(`invalid maxTransactionTimeoutMs ${c.maxTransactionTimeoutMs}`);
    if (!isInt(c.defaultTransactionTimeoutMs, 1, c.maxTransactionTimeoutMs))
      throw new RangeError(`invalid defaultTransactionTimeoutMs ${c.defaultTransactionTimeoutMs}`);
    if (!isInt(c.transactionalIdExpirationMs, 1, Number.MAX_SAFE_INTEGER))
      throw new RangeError(`invalid transactionalIdExpirationMs ${c.transactionalIdExpirationMs}`);
    if (!isInt(c.coordinatorEpoch, 0, 0x7fffffff)) throw new RangeError(`invalid coordinatorEpoch ${c.coordinatorEpoch}`);
    this.config = c;
  }

  private newProducerId(): number {
    const id = this.allocator.next();
    if (!Number.isSafeInteger(id) || id < 0) throw new Error(`producer id allocator returned ${id}`);
    return id;
  }

  private transition(meta: TxnMeta, to: TxnState): void {
    const from = meta.state;
    if (from !== to) assertTransition(from, to);
    meta.state = to;
    if (this.onChange && from !== to) this.announce(meta, to);
  }

  /** Delivered in a microtask: a listener never sees (or changes) the coordinator mid-call. */
  private announce(meta: TxnMeta, to: TxnState): void {
    const onChange = this.onChange!;
    const { transactionalId, producerId, producerEpoch } = meta;
    let event: TxnChangeEvent;
    if (to === "Ongoing") event = { type: "begun", transactionalId, producerId, producerEpoch };
    else if ((to === "CompleteCommit" || to === "CompleteAbort") && meta.pendingEnd) {
      const plan = meta.pendingEnd;
      event = {
        type: to === "CompleteCommit" ? "committed" : "aborted",
        transactionalId,
        producerId: plan.producerId,
        producerEpoch: plan.producerEpoch,
        reason: plan.reason,
        partitions: [...plan.partitions],
      };
    } else return;
    queueMicrotask(() => onChange(event));
  }

  // ---- InitProducerId ------------------------------------------------------------------

  /**
   * A producer id and epoch for a producer. Without a transactional id: a fresh id at epoch 0.
   * With one: a new id at epoch 0 the first time, afterwards the same id with the epoch bumped
   * (fencing every older instance); an open transaction of the previous instance comes back as
   * `abort`, which the broker must finish before replying.
   */
  initProducerId(req: InitProducerIdRequest, now: number): InitProducerIdResult {
    if (req === null || typeof req !== "object") throw invalidTxnRequest("initProducerId needs a request object");
    if (req.transactionalId === undefined || req.transactionalId === null) {
      return { producerId: this.newProducerId(), producerEpoch: 0, abort: null };
    }
    const id = validateTransactionalId(req.transactionalId);
    const timeoutMs = req.transactionTimeoutMs ?? this.config.defaultTransactionTimeoutMs;
    if (!isInt(timeoutMs, 1, this.config.maxTransactionTimeoutMs)) {
      throw new TxnError(
        "INVALID_TRANSACTION_TIMEOUT",
        `transaction timeout must be 1..${this.config.maxTransactionTimeoutMs} ms (transaction.max.timeout.ms), got ${String(req.transactionTimeoutMs)}`,
        { transactionTimeoutMs: req.transactionTimeoutMs, maxTransactionTimeoutMs: this.config.maxTransactionTimeoutMs },
      );
    }
    const recovering = req.producerId !== undefined || req.producerEpoch !== undefined;
    if (recovering) validateProducer(req.producerId, req.producerEpoch);
    const meta = this.txns.get(id);
    if (!meta) {
      if (recovering)
        throw new TxnError("INVALID_PRODUCER_ID_MAPPING", `transactional id '${id}' has no producer id to recover`, {
          transactionalId: id,
        });
      const fresh: TxnMeta = {
        transactionalId: id,
        producerId: this.newProducerId(),
        producerEpoch: 0,
        timeoutMs,
        state: "Empty",
        partitions: new Map(),
        pendingOffsets: new Map(),
        startedAt: null,
        lastUpdatedAt: now,
        pendingEnd: null,
        fencedByTimeout: null,
        lastResult: null,
      };
      this.txns.set(id, fresh);
      return { producerId: fresh.producerId, producerEpoch: 0, abort: null };
    }
    if (recovering) {
      const matches = (p: { producerId: number; producerEpoch: number } | null) =>
        p !== null && p.producerId === req.producerId && p.producerEpoch === req.producerEpoch;
      if (!matches(meta) && !matches(meta.fencedByTimeout)) {
        if (meta.producerId !== req.producerId && meta.fencedByTimeout?.producerId !== req.producerId) {
          throw new TxnError("INVALID_PRODUCER_ID_MAPPING", `producer id ${req.producerId} is not the one of transactional id '${id}'`, {
            transactionalId: id,
          });
        }
        throw this.fenced(meta, req.producerEpoch as number);
      }
    }
    if (PREPARE_STATES.has(meta.state)) throw this.concurrent(meta);
    meta.timeoutMs = timeoutMs;
    meta.lastUpdatedAt = now;
    meta.fencedByTimeout = null;
    if (meta.state === "Ongoing") {
      const abort = this.beginFencingAbort(meta, "fenced");
      return { producerId: meta.producerId, producerEpoch: meta.producerEpoch, abort };
    }
    this.transition(meta, "Empty");
    this.clearTxn(meta);
    this.bumpClientEpoch(meta, meta.producerEpoch + 1);
    return { producerId: meta.producerId, producerEpoch: meta.producerEpoch, abort: null };
  }

  /** Gives the id's next client `epoch`, or a fresh producer id at epoch 0 once epochs run out. */
  private bumpClientEpoch(meta: TxnMeta, epoch: number): void {
    if (epoch <= MAX_CLIENT_EPOCH) {
      meta.producerEpoch = epoch;
    } else {
      meta.producerId = this.newProducerId();
      meta.producerEpoch = 0;
    }
  }

  /** Ongoing → PrepareAbort with the epoch bumped, so the markers fence the current instance. */
  private beginFencingAbort(meta: TxnMeta, reason: EndReason): EndTxnPlan {
    const markerEpoch = meta.producerEpoch + 1;
    const plan = this.plan(meta, false, reason, markerEpoch);
    this.transition(meta, "PrepareAbort");
    meta.pendingEnd = plan;
    this.bumpClientEpoch(meta, markerEpoch);
    return plan;
  }

  private plan(meta: TxnMeta, commit: boolean, reason: EndReason, markerEpoch: number): EndTxnPlan {
    return {
      transactionalId: meta.transactionalId,
      producerId: meta.producerId,
      producerEpoch: markerEpoch,
      coordinatorEpoch: this.config.coordinatorEpoch,
      commit,
      reason,
      partitions: [...meta.partitions.values()].sort(compareTopicPartitions),
      groupOffsets: commit ? offsetsOf(meta) : [],
      alreadyComplete: false,
    };
  }

  private clearTxn(meta: TxnMeta): void {
    meta.partitions = new Map();
    meta.pendingOffsets = new Map();
    meta.startedAt = null;
    meta.pendingEnd = null;
  }

  // ---- producer checks -----------------------------------------------------------------

  private fenced(meta: TxnMeta, epoch: number): TxnError {
    return new TxnError(
      "PRODUCER_FENCED",
      `producer epoch ${epoch} of transactional id '${meta.transactionalId}' is not current (${meta.producerEpoch}): another instance initialised it`,
      { transactionalId: meta.transactionalId, producerId: meta.producerId, producerEpoch: epoch, currentEpoch: meta.producerEpoch },
    );
  }

  private concurrent(meta: TxnMeta): TxnError {
    return new TxnError(
      "CONCURRENT_TRANSACTIONS",
      `transactional id '${meta.transactionalId}' is completing its transaction (${meta.state}); retry shortly`,
      {
        transactionalId: meta.transactionalId,
        state: meta.state,
      },
    );
  }

  /** The entry, if (producerId, epoch) is its current producer; the matching error otherwise. */
  private checkProducer(transactionalId: unknown, producerId: unknown, producerEpoch: unknown): TxnMeta {
    const id = validateTransactionalId(transactionalId);
    validateProducer(producerId, producerEpoch);
    const meta = this.txns.get(id);
    if (!meta) {
      throw new TxnError("INVALID_PRODUCER_ID_MAPPING", `transactional id '${id}' has no producer: call initProducerId first`, {
        transactionalId: id,
      });
    }
    const f = meta.fencedByTimeout;
    if (f && f.producerId === producerId && f.producerEpoch === producerEpoch) {
      const reason = meta.pendingEnd?.reason ?? meta.lastResult?.reason ?? "timeout";
      const why =
        reason === "recovery"
          ? "the broker restarted while it was open"
          : reason === "operator"
            ? "an operator aborted it"
            : `it ran past its timeout of ${meta.timeoutMs} ms`;
      throw new TxnError("TRANSACTION_ABORTED", `the transaction of '${id}' was aborted because ${why}; initialise the producer again`, {
        transactionalId: id,
        producerId,
        producerEpoch,
        timeoutMs: meta.timeoutMs,
        reason,
      });
    }
    if (meta.producerId !== producerId) {
      throw new TxnError("INVALID_PRODUCER_ID_MAPPING", `producer id ${producerId} is not the one of transactional id '${id}'`, {
        transactionalId: id,
        producerId,
      });
    }
    if (meta.producerEpoch !== producerEpoch) throw this.fenced(meta, producerEpoch as number);
    return meta;
  }

  /** Throws unless (producerId, producerEpoch) is the id's current producer (fenced, unknown, timed out). */
  assertProducer(transactionalId: string, producerId: number, producerEpoch: number): void {
    this.checkProducer(transactionalId, producerId, producerEpoch);
  }

  /** Starts a transaction on an idle id (Empty/Complete* → Ongoing); Prepare* must wait. */
  private ensureOngoing(meta: TxnMeta, now: number): void {
    if (PREPARE_STATES.has(meta.state)) throw this.concurrent(meta);
    if (meta.state === "Ongoing") return;
    this.transition(meta, "Ongoing");
    this.clearTxn(meta);
    meta.startedAt = now;
  }

  // ---- AddPartitionsToTxn / AddOffsetsToTxn + TxnOffsetCommit --------------------------

  /**
   * Adds partitions to the producer's transaction, starting one if none is open (the broker
   * calls this before every transactional produce). Returns the partitions that were new.
   */
  addPartitions(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    partitions: readonly TopicPartition[],
    now: number,
  ): { state: TxnState; added: TopicPartition[] } {
    if (!Array.isArray(partitions) || partitions.length === 0) throw invalidTxnRequest("partitions must be a non-empty array");
    const tps = partitions.map((tp, i) => validateTopicPartition(tp, `partitions[${i}]`));
    const meta = this.checkProducer(transactionalId, producerId, producerEpoch);
    this.ensureOngoing(meta, now);
    const added: TopicPartition[] = [];
    for (const tp of tps) {
      const k = keyOf(tp.topic, tp.partition);
      if (meta.partitions.has(k)) continue;
      meta.partitions.set(k, tp);
      added.push(tp);
    }
    meta.lastUpdatedAt = now;
    return { state: meta.state, added: added.sort(compareTopicPartitions) };
  }

  /**
   * Adds consumer-group offsets to the transaction (sendOffsetsToTransaction): committed with it,
   * discarded if it aborts. The broker checks the group generation/member (KIP-447 fencing) with
   * its group coordinator before calling. A later offset for the same partition replaces an
   * earlier one.
   */
  addOffsets(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    groupId: string,
    offsets: readonly TxnOffset[],
    now: number,
  ): { state: TxnState } {
    const gid = validateGroupId(groupId);
    if (!Array.isArray(offsets)) throw invalidTxnRequest("offsets must be an array");
    const checked = offsets.map((o, i) => {
      const tp = validateTopicPartition(o, `offsets[${i}]`);
      if (!isInt(o.offset, 0, Number.MAX_SAFE_INTEGER))
        throw invalidTxnRequest(`offsets[${i}].offset must be an integer >= 0, got ${String(o.offset)}`);
      if (o.metadata !== undefined && o.metadata !== null && typeof o.metadata !== "string")
        throw invalidTxnRequest(`offsets[${i}].metadata must be a string or null`);
      return { ...tp, offset: o.offset, metadata: o.metadata ?? null };
    });
    const meta = this.checkProducer(transactionalId, producerId, producerEpoch);
    this.ensureOngoing(meta, now);
    let group = meta.pendingOffsets.get(gid);
    if (!group) meta.pendingOffsets.set(gid, (group = new Map()));
    for (const o of checked) group.set(keyOf(o.topic, o.partition), o);
    meta.lastUpdatedAt = now;
    return { state: meta.state };
  }

  // ---- EndTxn --------------------------------------------------------------------------

  /**
   * Decides the producer's transaction: Ongoing → PrepareCommit/PrepareAbort and the plan to
   * carry out. A retry of an end that already completed the same way returns a plan with
   * `alreadyComplete` (nothing to write); the opposite decision is INVALID_TXN_STATE.
   */
  prepareEnd(transactionalId: string, producerId: number, producerEpoch: number, commit: boolean, now: number): EndTxnPlan {
    if (typeof commit !== "boolean") throw invalidTxnRequest("commit must be a boolean");
    const meta = this.checkProducer(transactionalId, producerId, producerEpoch);
    const want = commit ? "commit" : "abort";
    switch (meta.state) {
      case "Ongoing": {
        const plan = this.plan(meta, commit, "client", meta.producerEpoch);
        this.transition(meta, commit ? "PrepareCommit" : "PrepareAbort");
        meta.pendingEnd = plan;
        meta.lastUpdatedAt = now;
        return plan;
      }
      case "CompleteCommit":
      case "CompleteAbort":
        if ((meta.state === "CompleteCommit") === commit) {
          return { ...this.plan(meta, commit, "client", meta.producerEpoch), partitions: [], groupOffsets: [], alreadyComplete: true };
        }
        throw this.invalidState(meta, want);
      case "PrepareCommit":
      case "PrepareAbort":
        if ((meta.state === "PrepareCommit") === commit) throw this.concurrent(meta);
        throw this.invalidState(meta, want);
      default:
        throw this.invalidState(meta, want);
    }
  }

  private invalidState(meta: TxnMeta, want: string): TxnError {
    const why =
      meta.state === "Empty"
        ? "it has no transaction in progress"
        : IDLE_STATES.has(meta.state)
          ? `it has no transaction in progress (the last one ended: ${meta.state})`
          : `its transaction is ${meta.state}`;
    return new TxnError("INVALID_TXN_STATE", `cannot ${want} the transaction of '${meta.transactionalId}': ${why}`, {
      transactionalId: meta.transactionalId,
      state: meta.state,
    });
  }

  /**
   * Every marker of the pending plan is written (and, on commit, its group offsets are stored):
   * PrepareCommit/PrepareAbort → CompleteCommit/CompleteAbort. Pass the plan to check that it is
   * still the pending one.
   */
  completeEnd(transactionalId: string, now: number, plan?: EndTxnPlan): TransactionDescription {
    const id = validateTransactionalId(transactionalId);
    const meta = this.txns.get(id);
    if (!meta) throw new TxnError("TRANSACTIONAL_ID_NOT_FOUND", `transactional id '${id}' does not exist`, { transactionalId: id });
    const pending = meta.pendingEnd;
    if (!PREPARE_STATES.has(meta.state) || !pending) {
      throw new TxnError("INVALID_TXN_STATE", `transactional id '${id}' has no transaction to complete (${meta.state})`, {
        transactionalId: id,
        state: meta.state,
      });
    }
    if (
      plan &&
      (plan.producerId !== pending.producerId || plan.producerEpoch !== pending.producerEpoch || plan.commit !== pending.commit)
    ) {
      throw new TxnError("INVALID_TXN_STATE", `the plan to complete is not the pending one of '${id}'`, { transactionalId: id });
    }
    this.transition(meta, pending.commit ? "CompleteCommit" : "CompleteAbort");
    meta.lastResult = { commit: pending.commit, reason: pending.reason, completedAt: now };
    this.clearTxn(meta);
    meta.lastUpdatedAt = now;
    return this.describeMeta(meta, now);
  }

  // ---- timeouts, recovery, expiry ------------------------------------------------------

  /**
   * Aborts every transaction that has been open longer than its timeout (Kafka:
   * start + timeout < now), bumping the epoch so its producer is fenced. Returns the plans.
   */
  expire(now: number): EndTxnPlan[] {
    const out: EndTxnPlan[] = [];
    for (const meta of this.txns.values()) {
      if (meta.state !== "Ongoing" || meta.startedAt === null || meta.startedAt + meta.timeoutMs >= now) continue;
      const timedOut = { producerId: meta.producerId, producerEpoch: meta.producerEpoch };
      out.push(this.beginFencingAbort(meta, "timeout"));
      meta.fencedByTimeout = timedOut;
      meta.lastUpdatedAt = now;
    }
    return out;
  }

  /**
   * An operator aborts the id's open transaction (Kafka's `kafka-transactions.sh forceTerminate`):
   * as on a timeout, the epoch is bumped so the markers fence its producer, which is then told
   * TRANSACTION_ABORTED and may re-initialise. Only an Ongoing transaction can be aborted so:
   * TRANSACTIONAL_ID_NOT_FOUND for an unknown id, INVALID_TXN_STATE for any other state.
   */
  forceAbort(transactionalId: string, now: number): EndTxnPlan {
    const id = validateTransactionalId(transactionalId);
    const meta = this.txns.get(id);
    if (!meta) throw new TxnError("TRANSACTIONAL_ID_NOT_FOUND", `transactional id '${id}' does not exist`, { transactionalId: id });
    if (meta.state !== "Ongoing") throw this.invalidState(meta, "abort");
    const aborted = { producerId: meta.producerId, producerEpoch: meta.producerEpoch };
    const plan = this.beginFencingAbort(meta, "operator");
    meta.fencedByTimeout = aborted;
    meta.lastUpdatedAt = now;
    return clonePlan(plan);
  }

  /** The plans of every decided but unfinished transaction (to retry failed marker writes). */
  pendingEnds(): EndTxnPlan[] {
    const out: EndTxnPlan[] = [];
    for (const meta of this.txns.values()) {
      if (PREPARE_STATES.has(meta.state) && meta.pendingEnd) out.push(clonePlan(meta.pendingEnd));
    }
    return out;
  }

  /**
   * After a restart (`restore`): aborts transactions left Ongoing (their producers were this
   * process's, or must start over) and returns every plan still to carry out, Prepare* ones
   * included, all re-stamped with the current coordinator epoch.
   */
  recover(now: number): EndTxnPlan[] {
    for (const meta of this.txns.values()) {
      if (meta.state === "Ongoing") {
        // its producer did nothing wrong: like a timeout, it is told TRANSACTION_ABORTED and may re-initialise
        const aborted = { producerId: meta.producerId, producerEpoch: meta.producerEpoch };
        this.beginFencingAbort(meta, "recovery");
        meta.fencedByTimeout = aborted;
        meta.lastUpdatedAt = now;
      }
      if (meta.pendingEnd) meta.pendingEnd = { ...meta.pendingEnd, coordinatorEpoch: this.config.coordinatorEpoch };
    }
    return this.pendingEnds();
  }

  /**
   * Removes idle transactional ids not used for transactionalIdExpirationMs (→ Dead); returns
   * them so the broker deletes their rows. Their producer ids are not reused.
   */
  expireTransactionalIds(now: number): string[] {
    const out: string[] = [];
    for (const [id, meta] of this.txns) {
      if (!IDLE_STATES.has(meta.state) || meta.lastUpdatedAt + this.config.transactionalIdExpirationMs >= now) continue;
      this.transition(meta, "Dead");
      this.txns.delete(id);
      out.push(id);
    }
    return out;
  }

  // ---- inspection ----------------------------------------------------------------------

  describe(transactionalId: string, now: number): TransactionDescription {
    const id = validateTransactionalId(transactionalId);
    const meta = this.txns.get(id);
    if (!meta) throw new TxnError("TRANSACTIONAL_ID_NOT_FOUND", `transactional id '${id}' does not exist`, { transactionalId: id });
    return this.describeMeta(meta, now);
  }

  /** Every transactional id, by id; `states` narrows it (e.g. open ones: Ongoing, Prepare*). */
  list(now: number, states?: readonly TxnState[]): TransactionDescription[] {
    return [...this.txns.values()]
      .filter((m) => !states || states.includes(m.state))
      .sort((a, b) => (a.transactionalId < b.transactionalId ? -1 : a.transactionalId > b.transactionalId ? 1 : 0))
      .map((m) => this.describeMeta(m, now));
  }

  /**
   * Partitions of `groupId` with transactional offsets not yet committed or aborted (KIP-447:
   * a fetch of committed offsets that requires stability answers UNSTABLE_OFFSET_COMMIT for them).
   */
  pendingGroupOffsets(groupId: string): { transactionalId: string; topic: string; partition: number }[] {
    const out: { transactionalId: string; topic: string; partition: number }[] = [];
    for (const meta of this.txns.values()) {
      if (meta.state !== "Ongoing" && meta.state !== "PrepareCommit") continue;
      for (const o of meta.pendingOffsets.get(groupId)?.values() ?? [])
        out.push({ transactionalId: meta.transactionalId, topic: o.topic, partition: o.partition });
    }
    return out;
  }

  /** KIP-447: whether an open transaction holds offsets of the group for this partition (its owner starts after it ends). */
  hasPendingOffsets(groupId: string, topic: string, partition: number): boolean {
    return this.pendingGroupOffsets(groupId).some((o) => o.topic === topic && o.partition === partition);
  }

  private describeMeta(meta: TxnMeta, now: number): TransactionDescription {
    return {
      transactionalId: meta.transactionalId,
      producerId: meta.producerId,
      producerEpoch: meta.producerEpoch,
      state: meta.state,
      timeoutMs: meta.timeoutMs,
      partitions: [...meta.partitions.values()].sort(compareTopicPartitions),
      groups: [...meta.pendingOffsets.keys()].sort(),
      startedAt: meta.startedAt,
      ageMs: meta.startedAt === null ? null : Math.max(0, now - meta.startedAt),
      lastUpdatedAt: meta.lastUpdatedAt,
      pending: meta.pendingEnd ? { commit: meta.pendingEnd.commit, reason: meta.pendingEnd.reason } : null,
      lastResult: meta.lastResult ? { ...meta.lastResult } : null,
    };
  }

  // ---- persistence ---------------------------------------------------------------------

  /** One id's state as plain JSON (persist it after every mutating call); null when unknown. */
  entrySnapshot(transactionalId: string): TxnEntrySnapshot | null {
    const meta = this.txns.get(transactionalId);
    return meta ? toSnapshot(meta) : null;
  }

  snapshot(): TxnCoordinatorSnapshot {
    return { version: 1, transactions: [...this.txns.values()].map(toSnapshot) };
  }

  /** Replaces all state (start-up); follow with `recover`. */
  restore(snapshot: TxnCoordinatorSnapshot): void {
    if (!snapshot || snapshot.version !== 1 || !Array.isArray(snapshot.transactions)) {
      throw new TypeError("not a transaction coordinator snapshot (version 1)");
    }
    const loaded = snapshot.transactions.map(fromSnapshot);
    this.txns.clear();
    for (const m of loaded) this.txns.set(m.transactionalId, m);
  }

  /**
   * Puts one id's state back as it was (null: remove it), e.g. when persisting a change failed:
   * take `entrySnapshot` before the call, and restore it if the write does not commit.
   */
  replaceEntry(transactionalId: string, entry: StoredTransaction | null): void {
    if (entry === null) {
      this.txns.delete(transactionalId);
      return;
    }
    if (entry.transactionalId !== transactionalId) throw new TypeError("entry belongs to another transactional id");
    this.txns.set(transactionalId, fromSnapshot(entry));
  }
}

function offsetsOf(meta: TxnMeta): GroupOffsetsToCommit[] {
  return [...meta.pendingOffsets]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([groupId, m]) => ({ groupId, offsets: [...m.values()].sort(compareTopicPartitions).map((o) => ({ ...o })) }));
}

function clonePlan(p: EndTxnPlan): EndTxnPlan {
  return {
    ...p,
    partitions: p.partitions.map((tp) => ({ ...tp })),
    groupOffsets: p.groupOffsets.map((g) => ({ groupId: g.groupId, offsets: g.offsets.map((o) => ({ ...o })) })),
  };
}

function toSnapshot(meta: TxnMeta): TxnEntrySnapshot {
  return {
    transactionalId: meta.transactionalId,
    producerId: meta.producerId,
    producerEpoch: meta.producerEpoch,
    timeoutMs: meta.timeoutMs,
    state: meta.state,
    partitions: [...meta.partitions.values()].sort(compareTopicPartitions).map((tp) => ({ ...tp })),
    pendingOffsets: offsetsOf(meta),
    startedAt: meta.startedAt,
    lastUpdatedAt: meta.lastUpdatedAt,
    pendingEnd: meta.pendingEnd ? clonePlan(meta.pendingEnd) : null,
    fencedByTimeout: meta.fencedByTimeout ? { ...meta.fencedByTimeout } : null,
    lastResult: meta.lastResult ? { ...meta.lastResult } : null,
  };
}

function fromSnapshot(s: StoredTransaction): TxnMeta {
  if (
    !s ||
    typeof s.transactionalId !== "string" ||
    s.transactionalId.length === 0 ||
    !isInt(s.producerId, 0, Number.MAX_SAFE_INTEGER) ||
    !isInt(s.producerEpoch, 0, 0x7fff) ||
    !(TXN_STATES as readonly string[]).includes(s.state) ||
    s.state === "Dead" ||
    !Array.isArray(s.partitions) ||
    !Array.isArray(s.pendingOffsets) ||
    (PREPARE_STATES.has(s.state as TxnState) && !s.pendingEnd)
  ) {
    throw new TypeError(`corrupt transaction snapshot entry ${JSON.stringify(s)?.slice(0, 200)}`);
  }
  const partitions = new Map<string, TopicPartition>();
  for (const tp of s.partitions) partitions.set(keyOf(tp.topic, tp.partition), { topic: tp.topic, partition: tp.partition });
  const pendingOffsets = new Map<string, Map<string, TxnOffset>>();
  for (const g of s.pendingOffsets) pendingOffsets.set(g.groupId, new Map(g.offsets.map((o) => [keyOf(o.topic, o.partition), { ...o }])));
  return {
    transactionalId: s.transactionalId,
    producerId: s.producerId,
    producerEpoch: s.producerEpoch,
    timeoutMs: s.timeoutMs,
    state: s.state as TxnState, // one of TXN_STATES (checked above)
    partitions,
    pendingOffsets,
    startedAt: s.startedAt ?? null,
    lastUpdatedAt: s.lastUpdatedAt ?? 0,
    pendingEnd: s.pendingEnd ? clonePlan(s.pendingEnd) : null,
    fencedByTimeout: s.fencedByTimeout ? { ...s.fencedByTimeout } : null,
    lastResult: s.lastResult ? { ...s.lastResult } : null,
  };
}
