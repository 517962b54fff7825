/**
 * A batching producer, as Kafka's clients batch: records accumulate per partition until
 * `batchBytes` or `lingerMs`, written straight into a Kafka RecordBatch v2 buffer on the client
 * (no per-record objects kept), and are sent on the binary path (no JSON per record). Keys are
 * partitioned with Kafka's murmur2. `send` acknowledges one record, `sendMany` a list (as
 * kafkajs's `send({messages})`), each once the broker committed it.
 *
 * Transactions (KIP-98/KIP-447, as Kafka's KafkaProducer): with `transactionalId`, call
 * `initTransactions()` once (it fences an older instance with the same id and aborts its open
 * transaction), then per unit of work `beginTransaction()`, `send`/`sendMany`,
 * optionally `sendOffsetsToTransaction(...)` (a consumer's input positions), and
 * `commitTransaction()` or `abortTransaction()`. Errors:
 * - ProducerFencedError (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH): another instance took over;
 *   this producer is unusable from then on (every call throws it).
 * - TransactionAbortedError (TRANSACTION_ABORTED: the broker aborted the transaction on timeout)
 *   and any other failure inside a transaction: the transaction can only be aborted;
 *   `abortTransaction()` re-initialises the producer id when the epoch or sequences can no
 *   longer be trusted, after which `beginTransaction()` works again.
 */
import { byteLengthOf, RecordBatchWriter } from "../broker/protocol/batch-writer.ts";
import type { RecordHeader } from "../broker/protocol/record-batch.ts";
import { partitionForKey } from "../broker/protocol/murmur2.ts";
import { StickyPartitioner } from "../broker/protocol/partitioner.ts";
import { TributaryClientError } from "./http-client.ts";
import { transportOf, type ClientTransport } from "./transport.ts";
import { hasCode, isRetriable } from "../errors/tributary-error.ts";

export interface ProducerOptions {
  baseUrl: string;
  /** How requests reach the broker: the REST API at baseUrl unless given (see transport.ts). */
  transport?: ClientTransport;
  /** The client's name (Kafka's client.id), sent with every produce request: the live topology shows it. */
  clientId?: string;
  /** Send a partition's batch once it holds this many bytes (Kafka's batch.size is 16 KiB). */
  batchBytes?: number;
  /** Or once its first record waited this long (Kafka's linger.ms). */
  lingerMs?: number;
  /**
   * Requests in flight per partition: default 5 (at most 5, as in Kafka) for an idempotent
   * producer, whose sequence numbers keep the partition's order; default 1 otherwise, since a
   * partition's requests travel on separate connections and may overtake each other.
   */
  maxInFlight?: number;
  /**
   * KIP-98 idempotence, on by default (as in Kafka since 3.0): the producer gets a producer id,
   * numbers its batches per partition and retries failed or reordered requests with the same
   * bytes; the broker stores each batch once, in sequence order.
   */
  idempotent?: boolean;
  /** Retries of one batch (idempotent producers only). Default 5. */
  retries?: number;
  /**
   * Makes the producer transactional (implies idempotent): `initTransactions()` first, then
   * every send happens between `beginTransaction()` and `commitTransaction()`/`abortTransaction()`.
   */
  transactionalId?: string;
  /** transaction.timeout.ms: the broker aborts a transaction open longer than this (its default 60000). */
  transactionTimeoutMs?: number;
  /**
   * How long transaction requests (init, offsets, commit, abort) are retried while the broker is
   * unreachable or answers CONCURRENT_TRANSACTIONS. Default 30000.
   */
  transactionRetryTimeoutMs?: number;
}

/** The transactional producer's state (Kafka's TransactionManager states, simplified). */
export type TransactionState =
  | "uninitialized"
  | "ready"
  | "in-transaction"
  | "committing"
  | "aborting"
  /** Something failed inside the transaction: only abortTransaction() is allowed. */
  | "abortable-error"
  /** Fenced: the producer is unusable. */
  | "fatal-error";

/** PRODUCER_FENCED or INVALID_PRODUCER_EPOCH: a newer instance with the same transactional id exists. */
export class ProducerFencedError extends TributaryClientError {
  constructor(status: number, code: string, message: string, details?: Record<string, unknown>) {
    super(status, code, message, details);
    this.name = "ProducerFencedError";
  }
}

/** TRANSACTION_ABORTED (the broker aborted it, e.g. on timeout) or records dropped by abortTransaction(). */
export class TransactionAbortedError extends TributaryClientError {
  constructor(status: number, code: string, message: string, details?: Record<string, unknown>) {
    super(status, code, message, details);
    this.name = "TransactionAbortedError";
  }
}

/** A call that does not fit the transaction's state (client-side or the broker's INVALID_TXN_STATE). */
export class InvalidTxnStateError extends TributaryClientError {
  constructor(status: number, code: string, message: string, details?: Record<string, unknown>) {
    super(status, code, message, details);
    this.name = "InvalidTxnStateError";
  }
}

/** The typed error for a broker error met inside a transaction (others unchanged). */
function typedTxnError(e: unknown): Error {
  if (
    e instanceof TributaryClientError &&
    !(e instanceof ProducerFencedError || e instanceof TransactionAbortedError || e instanceof InvalidTxnStateError)
  ) {
    if (hasCode(e, "PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH")) return new ProducerFencedError(e.status, e.code, e.message, e.details);
    if (hasCode(e, "TRANSACTION_ABORTED")) return new TransactionAbortedError(e.status, e.code, e.message, e.details);
    if (hasCode(e, "INVALID_TXN_STATE")) return new InvalidTxnStateError(e.status, e.code, e.message, e.details);
  }
  return e instanceof Error ? e : new Error(String(e));
}

/** Codes the client gives an answer without a JSON error body: a proxy or gateway in between. */
const GATEWAY_CODES = new Set(["HTTP_502", "HTTP_503", "HTTP_504"]);

/** A network failure (fetch rejects with TypeError), a gateway's refusal, or a code the broker marks retriable. */
function isTransient(e: unknown): boolean {
  if (e instanceof TypeError || isRetriable(e)) return true;
  return e instanceof TributaryClientError && GATEWAY_CODES.has(e.code);
}

export interface TransactionOffsets {
  groupId: string;
  memberId: string;
  memberEpoch: number;
  /** The next offsets to consume (last processed + 1). */
  offsets: { topic: string; partition: number; offset: number; metadata?: string | null }[];
}

/** The current transaction of a transactional producer. */
interface OpenTxn {
  /** Every send/sendMany of it, until settled. */
  sends: Set<Promise<unknown>>;
  /** Its first failure: it can only be aborted. */
  error: Error | null;
  /** Something reached the broker (a batch or offsets): the broker has a transaction to end. */
  touched: boolean;
}

interface TxnManager {
  readonly transactionalId: string;
  state: TransactionState;
  current: OpenTxn | null;
  /** The epoch or sequences can no longer be trusted: the next abort re-initialises the producer id. */
  reinit: boolean;
  fatal: Error | null;
}

export interface ProducerRecord {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: RecordHeader[];
  timestamp?: number;
  partition?: number;
}

export interface RecordMetadata {
  partition: number;
  offset: number;
}

/** Records of a batch acknowledged together: called with the batch's base offset, or the failure. */
interface Waiter {
  done(baseOffset: number): void;
  fail(e: unknown): void;
}

interface Pending {
  writer: RecordBatchWriter;
  waiters: Waiter[];
  timer: NodeJS.Timeout | null;
  /** Lingered long enough: send as soon as a request slot is free (it keeps filling until then). */
  ready: boolean;
}

/** A record's key or value as the batch writer takes it: text is written into the batch as UTF-8 there, not copied into a Buffer first. */
const asWritten = (v: Buffer | string | null | undefined): Buffer | string | null => v ?? null;

/** Batch buffers a producer keeps for reuse at most (16 MiB of 1 MiB batches). */
const MAX_FREE_BUFFERS = 16;

export class Producer {
  private readonly batchBytes: number;
  /**
   * Batch buffers whose requests completed, for the next batches (Kafka's BufferPool): a batch
   * buffer is `batchBytes` however few records it carries, and allocating one per request made a
   * producer lingering 1 ms at 10,000 records/s allocate ~1 GB/s and spend 45% of its CPU in GC.
   */
  private readonly freeBuffers: Buffer[] = [];
  private readonly lingerMs: number;
  private readonly maxInFlight: number;
  private partitionsOf = new Map<string, number>();
  /** The open batch per partition: records are appended to it until it is sent. */
  private pending = new Map<string, Pending>();
  /** Full batches per partition waiting for a request slot, oldest first. */
  private closed = new Map<string, Pending[]>();
  private inFlight = new Map<string, number>();
  private sticky = new Map<string, StickyPartitioner>();
  private sends = new Set<Promise<void>>();

  /** Idempotence: the producer id and epoch (from POST /api/v1/producers) and the next sequence per partition. */
  private identity: Promise<{ producerId: number; producerEpoch: number }> | null = null;
  private resolvedIdentity: { producerId: number; producerEpoch: number } | null = null;
  private sequences = new Map<string, number>();
  private readonly idempotent: boolean;
  /** Set for a transactional producer. */
  private readonly txn: TxnManager | null;

  private readonly transport: ClientTransport;

  constructor(private readonly opts: ProducerOptions) {
    this.transport = transportOf(opts);
    this.batchBytes = opts.batchBytes ?? 16_384;
    this.lingerMs = opts.lingerMs ?? 5;
    if (opts.transactionalId !== undefined && opts.idempotent === false)
      throw new TypeError("a transactional producer is idempotent: leave idempotent unset or true");
    this.idempotent = opts.idempotent ?? true;
    if (this.idempotent && opts.maxInFlight !== undefined && opts.maxInFlight > 5) {
      throw new TypeError(`an idempotent producer keeps at most 5 requests in flight per partition, not ${opts.maxInFlight}`);
    }
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? (this.idempotent ? 5 : 1));
    this.txn =
      opts.transactionalId === undefined
        ? null
        : { transactionalId: opts.transactionalId, state: "uninitialized", current: null, reinit: false, fatal: null };
  }

  private metadata = new Map<string, Promise<number>>();

  /** Partition count of a topic, looked up once (concurrent sends share the lookup). */
  private partitions(topic: string): Promise<number> {
    let p = this.metadata.get(topic);
    if (!p) {
      p = this.transport.partitionCount(topic).then((n) => {
        this.partitionsOf.set(topic, n);
        return n;
      });
      p.catch(() => this.metadata.delete(topic));
      this.metadata.set(topic, p);
    }
    return p;
  }

  private partitionOf(
    topic: string,
    n: number,
    key: Buffer | string | null,
    value: Buffer | string | null,
    record: ProducerRecord,
  ): number {
    if (record.partition !== undefined) return record.partition;
    if (key !== null) return partitionForKey(typeof key === "string" ? Buffer.from(key, "utf8") : key, n);
    let s = this.sticky.get(topic);
    if (!s) this.sticky.set(topic, (s = new StickyPartitioner()));
    return s.next(n, Math.max(0, byteLengthOf(value)));
  }

  /** The map key of a topic-partition, made once per partition (not per record). */
  private idOf(topic: string, partition: number): string {
    let ids = this.ids.get(topic);
    if (!ids) this.ids.set(topic, (ids = []));
    return (ids[partition] ??= `${topic}\u0000${partition}`);
  }

  private readonly ids = new Map<string, string[]>();

  /**
   * Writes one record into its partition's open batch (closing a full one) and returns that
   * batch; the record's index in it is `batch.writer.count - 1`. No object per record.
   */
  private append(
    topic: string,
    partition: number,
    id: string,
    key: Buffer | string | null,
    value: Buffer | string | null,
    record: ProducerRecord,
    now: number,
  ): Pending {
    let batch = this.pending.get(id);
    const timestamp = record.timestamp ?? now;
    if (batch) {
      if (batch.writer.tryAppend(key, value, record.headers, timestamp)) return batch;
      this.close(id, batch);
      this.drain(topic, partition, id);
    }
    batch = { writer: new RecordBatchWriter(this.batchBytes, this.freeBuffers.pop()), waiters: [], timer: null, ready: false };
    this.pending.set(id, batch);
    batch.writer.tryAppend(key, value, record.headers, timestamp);
    return batch;
  }

  /** Sends the batch when full, or arms its linger timer. */
  private schedule(topic: string, partition: number, id: string, batch: Pending): void {
    if (this.pending.get(id) !== batch) return;
    if (!batch.writer.hasRoomFor(64)) {
      this.close(id, batch);
      this.drain(topic, partition, id);
    } else if (!batch.timer && !batch.ready) {
      batch.timer = setTimeout(() => {
        batch.timer = null;
        batch.ready = true;
        this.drain(topic, partition, id);
      }, this.lingerMs);
    }
  }

  /** Queues a record; resolves with its partition and offset once the broker committed it. */
  send(topic: string, record: ProducerRecord): Promise<RecordMetadata> {
    if (this.txn !== null) return this.sendInTransaction(topic, () => this.enqueue(topic, record));
    return this.enqueue(topic, record);
  }

  private enqueue(topic: string, record: ProducerRecord): Promise<RecordMetadata> {
    if (this.idempotent && !this.resolvedIdentity) return this.initIdentity().then(() => this.enqueue(topic, record));
    const n = this.partitionsOf.get(topic);
    if (n === undefined) return this.partitions(topic).then(() => this.enqueue(topic, record));
    const key = asWritten(record.key);
    const value = asWritten(record.value);
    const partition = this.partitionOf(topic, n, key, value, record);
    const id = this.idOf(topic, partition);
    const batch = this.append(topic, partition, id, key, value, record, Date.now());
    const index = batch.writer.count - 1;
    const result = new Promise<RecordMetadata>((resolve, reject) =>
      batch.waiters.push({ done: (base) => resolve({ partition, offset: base + index }), fail: reject }),
    );
    this.schedule(topic, partition, id, batch);
    return result;
  }

  /** Queues many records (one acknowledgement for all of them, in order). */
  sendMany(topic: string, records: readonly ProducerRecord[]): Promise<RecordMetadata[]> {
    if (this.txn !== null) return this.sendInTransaction(topic, () => this.enqueueMany(topic, records));
    return this.enqueueMany(topic, records);
  }

  /**
   * Queues many records as `sendMany` does and resolves, with nothing, once the broker committed
   * them all: for a caller that wants no record's offset (a pipeline's transaction), no metadata
   * object per record.
   */
  write(topic: string, records: readonly ProducerRecord[]): Promise<void> {
    const written = () => this.enqueueMany(topic, records, false).then(() => undefined);
    if (this.txn !== null) return this.sendInTransaction(topic, written);
    return written();
  }

  private async enqueueMany(topic: string, records: readonly ProducerRecord[], metadata = true): Promise<RecordMetadata[]> {
    if (this.idempotent && !this.resolvedIdentity) await this.initIdentity();
    const n = this.partitionsOf.get(topic) ?? (await this.partitions(topic));
    const out = new Array<RecordMetadata>(metadata ? records.length : 0);
    const acks: Promise<void>[] = [];
    // One group per batch the call writes into, with one waiter registered as the group opens
    // (before its batch can be dispatched). The call's records in one batch sit at consecutive
    // indexes there (the loop below is synchronous), at the `out` positions in `at`. Records
    // spread over partitions (round robin, or keys) thus cost no object per record here.
    type Group = { batch: Pending; partition: number; id: string; firstIndex: number; at: number[] };
    const groups = new Map<Pending, Group>();
    let last: Group | null = null;
    // one clock reading per call: the records of one send share their CreateTime unless they carry one
    const now = Date.now();
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      const key = asWritten(record.key);
      const value = asWritten(record.value);
      const partition = this.partitionOf(topic, n, key, value, record);
      const id = last !== null && last.partition === partition ? last.id : this.idOf(topic, partition);
      const batch = this.append(topic, partition, id, key, value, record, now);
      let g: Group | undefined = last !== null && last.batch === batch ? last : groups.get(batch);
      if (!g) {
        const group: Group = { batch, partition, id, firstIndex: batch.writer.count - 1, at: [] };
        groups.set(batch, group);
        acks.push(
          new Promise<void>((resolve, reject) =>
            batch.waiters.push({
              done: (base) => {
                const first = base + group.firstIndex;
                for (let j = 0; j < group.at.length; j++) out[group.at[j]] = { partition: group.partition, offset: first + j };
                resolve();
              },
              fail: reject,
            }),
          ),
        );
        g = group;
      }
      if (metadata) g.at.push(i);
      last = g;
      // a full batch goes at once; the others linger (or go) once the call has written them
      if (!batch.writer.hasRoomFor(64)) this.schedule(topic, partition, id, batch);
    }
    for (const g of groups.values()) this.schedule(topic, g.partition, g.id, g.batch);
    await Promise.all(acks);
    return out;
  }

  /** Moves the open batch to the partition's queue of batches to send. */
  private close(id: string, batch: Pending): void {
    if (this.pending.get(id) === batch) this.pending.delete(id);
    if (batch.timer) clearTimeout(batch.timer);
    batch.timer = null;
    let q = this.closed.get(id);
    if (!q) this.closed.set(id, (q = []));
    q.push(batch);
  }

  /**
   * Sends what is due while request slots are free: queued full batches first, then the open
   * batch once it lingered. As in Kafka's accumulator, a lingered batch that finds no free slot
   * stays open and keeps filling, so a busy broker gets fewer, larger requests.
   */
  private drain(topic: string, partition: number, id: string): void {
    for (;;) {
      if ((this.inFlight.get(id) ?? 0) >= this.maxInFlight) return;
      let batch = this.closed.get(id)?.shift();
      if (!batch) {
        const open = this.pending.get(id);
        if (!open?.ready) return;
        this.pending.delete(id);
        batch = open;
      }
      this.inFlight.set(id, (this.inFlight.get(id) ?? 0) + 1);
      const b = batch;
      const run = this.sendBatch(topic, partition, b).finally(() => {
        this.inFlight.set(id, (this.inFlight.get(id) ?? 1) - 1);
        this.sends.delete(run);
        this.drain(topic, partition, id);
      });
      this.sends.add(run);
    }
  }

  private initIdentity(): Promise<{ producerId: number; producerEpoch: number }> {
    if (this.txn !== null) return Promise.reject(this.stateError("send", "initTransactions() and beginTransaction() first"));
    if (!this.identity) {
      this.identity = this.transport.initProducer({}).then((id) => {
        this.resolvedIdentity = id;
        return id;
      });
      this.identity.catch(() => (this.identity = null));
    }
    return this.identity;
  }

  private async sendBatch(topic: string, partition: number, p: Pending): Promise<void> {
    const txn = this.txn?.current ?? null;
    try {
      // Sequences are assigned here, synchronously, in the order drain() sends a partition's batches.
      let opts = {};
      const id = this.resolvedIdentity;
      if (this.idempotent && id) {
        const key = `${topic}\u0000${partition}`;
        const baseSequence = this.sequences.get(key) ?? 0;
        this.sequences.set(key, (baseSequence + p.writer.count) % 2 ** 31);
        opts = { producerId: id.producerId, producerEpoch: id.producerEpoch, baseSequence, isTransactional: this.txn !== null };
      }
      const body = p.writer.finish(opts);
      const retries = this.idempotent ? (this.opts.retries ?? 5) : 0;
      const as: { clientId?: string; transactionalId?: string } = {};
      if (this.opts.clientId !== undefined) as.clientId = this.opts.clientId;
      if (this.txn !== null) {
        as.transactionalId = this.txn.transactionalId;
        if (txn) txn.touched = true;
      }
      let busy = 0;
      for (let attempt = 0; ; attempt++) {
        try {
          const r = await this.transport.produce(topic, partition, body, as);
          for (const w of p.waiters) w.done(r.baseOffset);
          return;
        } catch (e) {
          // Idempotent batches are safe to resend as they are: a network failure, or a batch that
          // overtook its predecessor on another connection (OUT_OF_ORDER), is retried.
          // a transaction still completing its previous commit: refused, not written; wait for it
          if (this.txn !== null && hasCode(e, "CONCURRENT_TRANSACTIONS") && busy++ < 100) {
            attempt--;
            await new Promise((r) => setTimeout(r, 20));
            continue;
          }
          const resend = e instanceof TypeError || hasCode(e, "OUT_OF_ORDER_SEQUENCE_NUMBER", "BROKER_NOT_AVAILABLE");
          if (attempt >= retries || !resend) throw e;
          await new Promise((r) => setTimeout(r, 10 * 2 ** attempt));
        }
      }
    } catch (e) {
      const err = this.txn !== null ? this.batchFailed(txn, e) : e;
      for (const w of p.waiters) w.fail(err);
    } finally {
      // the request is over (answered or given up): nothing reads the batch's bytes any more
      if (p.writer.buffer.length === this.batchBytes && this.freeBuffers.length < MAX_FREE_BUFFERS) this.freeBuffers.push(p.writer.buffer);
    }
  }

  /** Sends everything queued and waits for it. */
  async flush(): Promise<void> {
    for (const [id, batch] of [...this.pending]) {
      const [topic, partition] = id.split("\u0000");
      if (batch.timer) clearTimeout(batch.timer);
      batch.timer = null;
      batch.ready = true;
      this.drain(topic, Number(partition), id);
    }
    while (this.sends.size > 0 || [...this.closed.values()].some((q) => q.length > 0) || [...this.pending.values()].some((b) => b.ready)) {
      if (this.sends.size === 0) break; // nothing in flight can free a slot: cannot happen, but never spin
      await Promise.allSettled([...this.sends]);
    }
  }

  // ---- transactions ----------------------------------------------------------------------

  /** The transactional state (`uninitialized` for a producer without transactionalId too). */
  get transactionState(): TransactionState {
    return this.txn?.state ?? "uninitialized";
  }

  /** The producer id and epoch in use (null before the first send/initTransactions). */
  get producerIdentity(): { producerId: number; producerEpoch: number } | null {
    return this.resolvedIdentity ? { ...this.resolvedIdentity } : null;
  }

  private txnManager(what: string): TxnManager {
    if (this.txn === null)
      throw new InvalidTxnStateError(400, "INVALID_TXN_STATE", `${what} needs a transactional producer (the transactionalId option)`);
    if (this.txn.fatal) throw this.txn.fatal;
    return this.txn;
  }

  private stateError(what: string, why: string): InvalidTxnStateError {
    return new InvalidTxnStateError(409, "INVALID_TXN_STATE", `cannot ${what} in transaction state '${this.txn?.state ?? "none"}': ${why}`);
  }

  /** A send inside the open transaction: refused outside one; tracked so commit waits for it. */
  private sendInTransaction<T>(topic: string, enqueue: () => Promise<T>): Promise<T> {
    const t = this.txn as TxnManager;
    if (t.fatal) return Promise.reject(t.fatal);
    if (t.state !== "in-transaction" || !t.current) {
      const why =
        t.state === "abortable-error"
          ? `the transaction failed (${t.current?.error?.message ?? "see earlier error"}); abort it`
          : "call beginTransaction() first";
      return Promise.reject(t.state === "abortable-error" && t.current?.error ? t.current.error : this.stateError("send", why));
    }
    const txn = t.current;
    let p: Promise<T>;
    if (this.partitionsOf.get(topic) === undefined) {
      // look the topic up first, so the records are appended (or refused) in the state the transaction has then
      p = this.partitions(topic).then(() => {
        if (t.current !== txn || (t.state !== "in-transaction" && t.state !== "committing")) {
          throw txn.error ?? new TransactionAbortedError(409, "TRANSACTION_ABORTED", "the transaction ended before the send was queued");
        }
        return enqueue();
      });
    } else {
      p = enqueue();
    }
    txn.sends.add(p);
    p.then(
      () => txn.sends.delete(p),
      (e) => {
        txn.sends.delete(p);
        if (t.current === txn && t.state !== "aborting") this.txnFailed(txn, typedTxnError(e));
      },
    );
    return p;
  }

  /** A batch of the transaction failed: the transaction must be aborted (and the producer re-initialised). */
  private batchFailed(txn: OpenTxn | null, e: unknown): Error {
    const err = typedTxnError(e);
    const t = this.txn as TxnManager;
    if (err instanceof ProducerFencedError) this.fence(err);
    else if (txn && t.current === txn && t.state !== "aborting") this.txnFailed(txn, err);
    // the batch's sequences may or may not be stored: later batches would not follow on
    t.reinit = true;
    return err;
  }

  private txnFailed(txn: OpenTxn, err: Error): void {
    const t = this.txn as TxnManager;
    if (err instanceof ProducerFencedError) return this.fence(err);
    txn.error ??= err;
    if (err instanceof TransactionAbortedError) t.reinit = true;
    if (t.state === "in-transaction") t.state = "abortable-error";
  }

  private fence(err: Error): void {
    const t = this.txn as TxnManager;
    t.fatal ??= err;
    t.state = "fatal-error";
    this.dropQueued(err);
  }

  /** Fails every batch not yet sent (an abort, or fenced). */
  private dropQueued(err: Error): void {
    const dropped: Pending[] = [];
    for (const [id, batch] of this.pending) {
      if (batch.timer) clearTimeout(batch.timer);
      batch.timer = null;
      dropped.push(batch);
      this.pending.delete(id);
    }
    for (const q of this.closed.values()) dropped.push(...q.splice(0));
    for (const b of dropped) for (const w of b.waiters) w.fail(err);
  }

  /** A transaction request, retried while the broker is unreachable or busy; broker errors come typed. */
  private async txnCall<T>(call: (t: ClientTransport) => Promise<T>): Promise<T> {
    const deadline = Date.now() + (this.opts.transactionRetryTimeoutMs ?? 30_000);
    for (let attempt = 0; ; attempt++) {
      try {
        return await call(this.transport);
      } catch (e) {
        if (!isTransient(e) || Date.now() >= deadline) throw typedTxnError(e);
        await new Promise((r) => setTimeout(r, Math.min(20 * 2 ** attempt, 500)));
      }
    }
  }

  private who(): { producerId: number; producerEpoch: number } {
    const id = this.resolvedIdentity as { producerId: number; producerEpoch: number };
    return { producerId: id.producerId, producerEpoch: id.producerEpoch };
  }

  /**
   * Registers the transactional id with the broker (POST /api/v1/producers): gets the producer
   * id and a new epoch, which fences any older instance with the same id and aborts its open
   * transaction. Call once before the first transaction.
   */
  async initTransactions(): Promise<void> {
    const t = this.txnManager("initTransactions");
    if (t.state !== "uninitialized" && t.state !== "ready") throw this.stateError("initTransactions", "the producer is in a transaction");
    await this.reinitialise();
  }

  private async reinitialise(): Promise<void> {
    const t = this.txn as TxnManager;
    let r: { producerId: number; producerEpoch: number };
    try {
      r = await this.txnCall((tr) =>
        tr.initProducer({
          transactionalId: t.transactionalId,
          ...(this.opts.transactionTimeoutMs !== undefined ? { transactionTimeoutMs: this.opts.transactionTimeoutMs } : {}),
        }),
      );
    } catch (e) {
      if (e instanceof ProducerFencedError) this.fence(e);
      throw e;
    }
    const id = { producerId: r.producerId, producerEpoch: r.producerEpoch };
    this.resolvedIdentity = id;
    this.identity = Promise.resolve(id);
    this.sequences.clear(); // a new epoch (or producer id) numbers every partition from 0 again
    t.reinit = false;
    t.current = null;
    t.state = "ready";
  }

  /** Starts a transaction (client-side: the broker opens it with the first batch or offsets). */
  beginTransaction(): void {
    const t = this.txnManager("beginTransaction");
    if (t.state !== "ready") {
      throw this.stateError(
        "beginTransaction",
        t.state === "uninitialized" ? "call initTransactions() first" : "a transaction is already open",
      );
    }
    t.current = { sends: new Set(), error: null, touched: false };
    t.state = "in-transaction";
  }

  /**
   * Adds a consumer group's input positions to the transaction (KIP-447): they are committed to
   * the group if and only if the transaction commits. Pass the consumer's `groupMetadata()` and
   * the next offsets to consume.
   */
  async sendOffsetsToTransaction(req: TransactionOffsets): Promise<void> {
    const t = this.txnManager("sendOffsetsToTransaction");
    const txn = t.current;
    if (t.state !== "in-transaction" || !txn) {
      if (t.state === "abortable-error" && txn?.error) throw txn.error;
      throw this.stateError("sendOffsetsToTransaction", "call beginTransaction() first");
    }
    if (req.offsets.length === 0) return;
    txn.touched = true;
    try {
      await this.txnCall((tr) =>
        tr.addOffsetsToTransaction(t.transactionalId, {
          ...this.who(),
          groupId: req.groupId,
          memberId: req.memberId,
          memberEpoch: req.memberEpoch,
          offsets: req.offsets.map((o) => ({
            topic: o.topic,
            partition: o.partition,
            offset: o.offset,
            ...(o.metadata !== undefined ? { metadata: o.metadata } : {}),
          })),
        }),
      );
    } catch (e) {
      const err = typedTxnError(e);
      // fenced group member (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH...) or anything else: abortable, as in Kafka
      if (t.current === txn) this.txnFailed(txn, err);
      throw err;
    }
  }

  /** Waits until every send of the transaction has been acknowledged or has failed. */
  private async settle(txn: OpenTxn): Promise<void> {
    for (;;) {
      await this.flush();
      if (txn.sends.size === 0) return;
      await Promise.allSettled([...txn.sends]);
    }
  }

  /**
   * Sends every queued record, waits for all of them, then commits: records become visible to
   * read_committed consumers and offsets sent with the transaction are committed to their group.
   * Throws the transaction's first failure instead (it must then be aborted), or
   * ProducerFencedError.
   */
  async commitTransaction(): Promise<void> {
    const t = this.txnManager("commitTransaction");
    const txn = t.current;
    if (t.state === "abortable-error" && txn?.error) throw txn.error;
    if (t.state !== "in-transaction" || !txn) throw this.stateError("commitTransaction", "no transaction is open");
    t.state = "committing";
    await this.settle(txn);
    if (t.fatal) throw t.fatal;
    if (txn.error) {
      t.state = "abortable-error";
      throw txn.error;
    }
    if (txn.touched) {
      try {
        await this.txnCall((tr) => tr.endTransaction(t.transactionalId, this.who(), true));
      } catch (e) {
        const err = typedTxnError(e);
        if (err instanceof ProducerFencedError) {
          this.fence(err);
          throw err;
        }
        // not committed (aborted on timeout or at a broker restart...), or unknown after the retries ran out
        txn.error ??= err;
        t.reinit = true;
        t.state = "abortable-error";
        throw err;
      }
    }
    t.current = null;
    t.state = "ready";
  }

  /**
   * Aborts the transaction: queued records are dropped (their sends reject with
   * TransactionAbortedError), requests in flight are awaited, and the broker writes abort
   * markers so read_committed consumers never see the records. When the transaction failed in
   * a way that leaves the producer's epoch or sequences in doubt, the producer id is
   * initialised again. Afterwards `beginTransaction()` works again.
   */
  async abortTransaction(): Promise<void> {
    const t = this.txnManager("abortTransaction");
    if (t.state !== "in-transaction" && t.state !== "abortable-error") throw this.stateError("abortTransaction", "no transaction is open");
    const txn = t.current;
    t.state = "aborting";
    try {
      if (txn) {
        this.dropQueued(
          new TransactionAbortedError(409, "TRANSACTION_ABORTED", "the transaction was aborted before the records were sent"),
        );
        await Promise.allSettled([...this.sends]);
        await Promise.allSettled([...txn.sends]);
        if (t.fatal) throw t.fatal;
      }
      if (!t.reinit && txn?.touched) {
        try {
          await this.txnCall((tr) => tr.endTransaction(t.transactionalId, this.who(), false));
        } catch (e) {
          if (e instanceof ProducerFencedError) {
            this.fence(e);
            throw e;
          }
          // aborted already (timeout), or the broker stayed unreachable: a new epoch aborts whatever is open
          t.reinit = true;
        }
      }
      if (t.reinit) await this.reinitialise();
      t.current = null;
      t.state = "ready";
    } catch (e) {
      if (t.state === "aborting") {
        t.reinit = true;
        t.state = "abortable-error"; // call abortTransaction() again
      }
      throw e;
    }
  }
}
