/**
 * The transaction coordinator at work: the pure `TransactionCoordinator` decides, this service
 * carries its decisions out and makes them durable.
 *
 * - A transactional id's entry is written to the `transactions` table (writes are serialised
 *   per id; each writes the latest snapshot) before any change the store must know after a crash
 *   is acted on: a new producer id or epoch before it is handed out, a partition added to the
 *   transaction before the first transactional batch is appended to it (so after a crash the
 *   coordinator knows every partition to put an abort marker into), the decision to end before
 *   any marker. Offsets sent to a transaction stay in memory until the decision (the end plan
 *   holds them): a transaction left open by a crash is aborted at the next start, so they could
 *   never be used.
 * - Ending a transaction: persist the decision (Prepare*), wait for the id's produce calls still
 *   in flight, write a marker into every partition and commit the group offsets (commit only),
 *   all at once, then answer; Complete* is persisted after the answer, and not at once: a write
 *   of the id asked for within COMPLETE_WRITE_DELAY_MS (a producer's next transaction adding its
 *   partitions) writes the newer entry in its place, one write instead of two before that
 *   transaction's first append. Until an entry after the decision lands, a restart redoes the
 *   end, which is harmless. A failure leaves the decision pending; the timer retries it.
 * - A timer aborts transactions past their timeout, retries pending ends and forgets idle ids.
 * - Start-up: entries are loaded, transactions left open by the previous process are aborted at
 *   once and unfinished ends are completed (markers are idempotent to redo).
 *
 * Coordination lives in one process (as group membership does): two Tributary processes on one
 * database must not both take transactional ids.
 */
import type { BatchToAppend } from "../store/log-store.ts";
import type { TransactionStore } from "../store/transaction-store.ts";
import { endTxnMarkerBatchToAppend } from "../protocol/control-records.ts";
import {
  BlockProducerIdAllocator,
  DEFAULT_TXN_COORDINATOR_CONFIG,
  TransactionCoordinator,
  type EndTxnPlan,
  type TopicPartition,
  type TransactionCoordinatorConfig,
  type TransactionDescription,
  type TxnChangeEvent,
  type TxnOffset,
} from "./transaction-coordinator.ts";
import { TxnError } from "../errors.ts";
import { hasCode } from "../../errors/tributary-error.ts";
import type { TxnState } from "./txn-states.ts";

/** How the service reaches partitions (the broker's logs). */
export interface TxnPartitionAccess {
  /** Appends a marker; false when the partition no longer exists (topic deleted). */
  appendMarker(topic: string, partition: number, batch: BatchToAppend): Promise<boolean>;
}

/** How the service reaches consumer groups (KIP-447); the group runtime is one as it is. */
export interface TxnGroupAccess {
  /** Throws unless `memberId` at `memberEpoch` is a current member of the group owning these partitions. */
  validateTransactionalOffsets(groupId: string, memberId: string, memberEpoch: number, offsets: readonly TxnOffset[]): Promise<void>;
  /** Stores offsets as committed (the transaction committed). */
  commitTransactionalOffsets(groupId: string, offsets: readonly TxnOffset[]): Promise<void>;
}

export interface TransactionServiceOptions {
  /** How often timeouts and pending ends are checked; 0 disables the timer. */
  checkIntervalMs?: number;
}

const ID_BLOCK = 16;

/**
 * How long the write of a Complete* entry waits for a newer write of its id to take its place
 * (see the header). A pipeline task begins its next transaction within a few milliseconds of the
 * last one's end.
 */
export const COMPLETE_WRITE_DELAY_MS = 50;

/** An entry write of an id that has not begun: it writes the entry as it is when it begins. */
interface QueuedWrite {
  begin(): void;
  done: Promise<void>;
}

/** A transaction coordinator and the producer-id allocator it draws from, for a `TransactionService`. */
export function transactionCoordinator(
  config: Partial<TransactionCoordinatorConfig> = {},
  onChange?: (event: TxnChangeEvent) => void,
): { coordinator: TransactionCoordinator; allocator: BlockProducerIdAllocator } {
  const allocator = new BlockProducerIdAllocator();
  return { coordinator: new TransactionCoordinator(allocator, { ...DEFAULT_TXN_COORDINATOR_CONFIG, ...config }, onChange), allocator };
}

export class TransactionService {
  /** Per id: the chain of entry writes. */
  private readonly writes = new Map<string, Promise<void>>();
  /** Per id: the last write of its chain while it has not begun (a later write joins it). */
  private readonly queued = new Map<string, QueuedWrite>();
  /** Per id: transactional produce calls between their partition check and their append. */
  private readonly inflight = new Map<string, Set<Promise<void>>>();
  /** Per id: the end being carried out. */
  private readonly finishing = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;

  /**
   * `coordinator` decides, drawing producer ids from `allocator`, which this service refills from
   * the store; both are made first (`transactionCoordinator`) because the group runtime asks the
   * coordinator which offsets a transaction holds.
   */
  constructor(
    private readonly store: TransactionStore,
    readonly coordinator: TransactionCoordinator,
    private readonly allocator: BlockProducerIdAllocator,
    private readonly partitions: TxnPartitionAccess,
    private readonly groups: TxnGroupAccess | null,
    private readonly options: TransactionServiceOptions = {},
  ) {}

  /** Loads the stored entries, aborts what the last process left open, and starts the timer. */
  async start(): Promise<void> {
    const entries = await this.store.findEntries();
    this.coordinator.restore({ version: 1, transactions: entries });
    const plans = this.coordinator.recover(Date.now());
    for (const plan of plans) {
      try {
        await this.finish(plan);
      } catch (e) {
        console.error(`transactions: recovery of '${plan.transactionalId}' failed, retrying on the timer:`, e);
      }
    }
    const every = this.options.checkIntervalMs ?? 1000;
    if (every > 0) {
      this.timer = setInterval(() => void this.tick(), every);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const q of this.queued.values()) q.begin();
    await Promise.allSettled([...this.finishing.values(), ...this.writes.values()]);
  }

  /** One pass of the timer: abort timed-out transactions, retry pending ends, forget idle ids. */
  async tick(now = Date.now()): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const plans = [...this.coordinator.expire(now), ...this.coordinator.pendingEnds()];
      await Promise.allSettled(plans.map((p) => this.finish(p)));
      for (const id of this.coordinator.expireTransactionalIds(now)) await this.persist(id).catch(() => undefined);
    } finally {
      this.ticking = false;
    }
  }

  /** InitProducerId: a plain idempotent producer, or a transactional id's producer (fencing the previous one). */
  async initProducer(req: {
    transactionalId?: string;
    transactionTimeoutMs?: number;
  }): Promise<{ producerId: number; producerEpoch: number }> {
    if (this.allocator.available < 2) {
      for (const id of await this.store.reserveProducerIds(ID_BLOCK)) this.allocator.addBlock(id, 1);
    }
    const id = req.transactionalId;
    if (id !== undefined) await this.finishing.get(id)?.catch(() => undefined);
    const r = this.coordinator.initProducerId(req, Date.now());
    if (id !== undefined) {
      if (r.abort) {
        await this.finish(r.abort);
        // this instance's epoch, read before anything else may run (a concurrent init bumps it again)
        const d = this.coordinator.describe(id, Date.now());
        // and durable before the producer uses it (the end's last write is not waited for)
        await this.persist(id);
        return { producerId: d.producerId, producerEpoch: d.producerEpoch };
      }
      await this.persist(id);
    }
    return { producerId: r.producerId, producerEpoch: r.producerEpoch };
  }

  /**
   * Before a transactional append: adds the partitions to the transaction (starting one when
   * none is open) and makes that durable. Call the returned `done` once the append settled; an
   * end of this transaction waits for it.
   */
  async beginProduce(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    partitions: readonly TopicPartition[],
  ): Promise<() => void> {
    const { added } = this.coordinator.addPartitions(transactionalId, producerId, producerEpoch, partitions, Date.now());
    let done!: () => void;
    const settled = new Promise<void>((resolve) => (done = resolve));
    let set = this.inflight.get(transactionalId);
    if (!set) this.inflight.set(transactionalId, (set = new Set()));
    set.add(settled);
    const release = () => {
      done();
      set.delete(settled);
      if (set.size === 0 && this.inflight.get(transactionalId) === set) this.inflight.delete(transactionalId);
    };
    try {
      // Requests after one that added a partition wait for its write too: they must not reach
      // the partitions before it (a producer's batches are numbered in send order), nor before
      // the partition is durably part of the transaction.
      const pending = this.writes.get(transactionalId);
      if (added.length > 0) await this.persist(transactionalId);
      else if (pending) await pending.catch(() => this.persist(transactionalId));
    } catch (e) {
      release();
      throw e;
    }
    return release;
  }

  /** sendOffsetsToTransaction: fenced by the group member (KIP-447), committed with the transaction. */
  async addOffsets(
    transactionalId: string,
    req: { producerId: number; producerEpoch: number; groupId: string; memberId: string; memberEpoch: number; offsets: TxnOffset[] },
  ): Promise<{ transactionalId: string; state: TxnState }> {
    if (!this.groups) throw new TxnError("INVALID_REQUEST", "consumer groups are not enabled on this broker");
    // the producer first, so a zombie producer is told it is fenced whatever its group says
    this.coordinator.assertProducer(transactionalId, req.producerId, req.producerEpoch);
    await this.groups.validateTransactionalOffsets(req.groupId, req.memberId, req.memberEpoch, req.offsets);
    // in memory only: the offsets reach the store with the decision to commit (the end plan holds
    // them), and a transaction still open when the process dies is aborted at the next start, so
    // pending offsets written here could never be used (Kafka writes them as transactional
    // records of __consumer_offsets, which its abort markers then void; ours live in the plan)
    const { state } = this.coordinator.addOffsets(transactionalId, req.producerId, req.producerEpoch, req.groupId, req.offsets, Date.now());
    return { transactionalId, state };
  }

  /** EndTxn: commit or abort the producer's transaction; resolves once every marker is written. */
  async endTransaction(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    commit: boolean,
  ): Promise<TransactionDescription> {
    const plan = this.coordinator.prepareEnd(transactionalId, producerId, producerEpoch, commit, Date.now());
    if (!plan.alreadyComplete) await this.finish(plan);
    return this.coordinator.describe(transactionalId, Date.now());
  }

  /** An operator's abort of the id's open transaction: fences its producer, resolves once every abort marker is written. */
  async forceAbort(transactionalId: string): Promise<TransactionDescription> {
    await this.finishing.get(transactionalId)?.catch(() => undefined);
    await this.finish(this.coordinator.forceAbort(transactionalId, Date.now()));
    return this.coordinator.describe(transactionalId, Date.now());
  }

  describe(transactionalId: string): TransactionDescription {
    return this.coordinator.describe(transactionalId, Date.now());
  }

  list(states?: readonly TxnState[]): TransactionDescription[] {
    return this.coordinator.list(Date.now(), states);
  }

  /** Carries out an end plan once per id at a time (a second caller joins the first). */
  private finish(plan: EndTxnPlan): Promise<void> {
    const id = plan.transactionalId;
    const running = this.finishing.get(id);
    if (running) return running;
    const run = this.carryOut(plan).finally(() => {
      if (this.finishing.get(id) === run) this.finishing.delete(id);
    });
    this.finishing.set(id, run);
    return run;
  }

  private async carryOut(plan: EndTxnPlan): Promise<void> {
    const id = plan.transactionalId;
    await this.persist(id); // the decision first: a crash from here on redoes it
    await Promise.allSettled([...(this.inflight.get(id) ?? [])]);
    const now = Date.now();
    const markers = Promise.all(
      plan.partitions.map(async (tp) => {
        const marker = endTxnMarkerBatchToAppend({
          producerId: plan.producerId,
          producerEpoch: plan.producerEpoch,
          commit: plan.commit,
          coordinatorEpoch: plan.coordinatorEpoch,
          timestamp: now,
        });
        try {
          await this.partitions.appendMarker(tp.topic, tp.partition, marker);
        } catch (e) {
          // a partition that refuses the marker for good (a newer epoch or coordinator wrote
          // there) already has this producer's transaction closed: nothing left to end there
          if (hasCode(e, "INVALID_PRODUCER_EPOCH", "TRANSACTION_COORDINATOR_FENCED")) {
            console.error(`transactions: marker of '${id}' refused by ${tp.topic}-${tp.partition}: ${e.message}`);
            return;
          }
          throw e;
        }
      }),
    );
    await markers;
    // the group offsets only once every marker is written: a reader that sees the offsets (a
    // group's lag 0) can read what the transaction wrote. Written together (as Kafka's
    // coordinator writes its markers to the offsets topic and the data partitions at once), the
    // offsets could show first, and a read up to the last stable offset then missed the
    // transaction's records. Both are redone after a crash from the stored decision, and redoing
    // either is harmless (markers are idempotent to redo, an offset commit writes the same
    // offsets again).
    if (plan.commit && this.groups)
      await Promise.all(plan.groupOffsets.map((g) => this.groups!.commitTransactionalOffsets(g.groupId, g.offsets)));
    this.coordinator.completeEnd(id, Date.now(), plan);
    // not waited for: the transaction ended when its markers and offsets were written; until this
    // write lands the store still holds the decision, which a restart would only redo. Begun after
    // COMPLETE_WRITE_DELAY_MS, unless the id's next write (its next transaction's partitions) comes
    // first and writes the newer entry instead.
    void this.persist(id, COMPLETE_WRITE_DELAY_MS).catch((e: Error) =>
      console.error(`transactions: recording the end of '${id}' failed (redone at restart):`, e.message),
    );
  }

  /**
   * Writes the id's entry as it is when the write begins (or deletes its row), after the id's
   * earlier writes; begun `delayMs` after the call, or at once when a write without delay joins
   * it. A call while the id's last write has not begun joins that write.
   */
  private persist(transactionalId: string, delayMs = 0): Promise<void> {
    const waiting = this.queued.get(transactionalId);
    if (waiting) {
      if (delayMs === 0) waiting.begin();
      return waiting.done;
    }
    const prev = this.writes.get(transactionalId) ?? Promise.resolve();
    let begin!: () => void;
    const begun = new Promise<void>((resolve) => (begin = resolve));
    const q: QueuedWrite = { begin, done: Promise.resolve() };
    const next = Promise.all([prev.catch(() => undefined), begun]).then(async () => {
      if (this.queued.get(transactionalId) === q) this.queued.delete(transactionalId);
      const entry = this.coordinator.entrySnapshot(transactionalId);
      if (entry) await this.store.saveEntry(entry);
      else await this.store.deleteEntry(transactionalId);
    });
    q.done = next;
    this.queued.set(transactionalId, q);
    if (delayMs > 0) setTimeout(begin, delayMs).unref();
    else begin();
    this.writes.set(transactionalId, next);
    void next
      .finally(() => {
        if (this.writes.get(transactionalId) === next) this.writes.delete(transactionalId);
      })
      .catch(() => undefined);
    return next;
  }
}
