/**
 * The payment/balance processor of the exactly-once scenario: a consume-transform-produce loop
 * over the public client (a group `Consumer`, a `Producer`) against this server's own address.
 * It reads payments (key = account, value `{paymentId, account, amount}`), deducts each from the
 * account's balance and writes a balance-updated event (`{paymentId, account, amount, balance}`).
 *
 * - `at-least-once`: produce the batch's events, then commit the input offsets — two steps.
 * - `exactly-once`: a transactional producer; the events and the input offsets
 *   (`sendOffsetsToTransaction`) commit in one transaction; the input read with read_committed.
 *
 * Its balances live in memory and are rebuilt at every (re)start from its own output — the last
 * event per account, read_committed for exactly-once — as a real service rebuilds its state.
 *
 * Crash injection: `crashNextBatch()` makes the next batch stop after its events were produced
 * and before anything is committed, as a process dying there: the consumer is abandoned (no
 * commit, no leave: the broker expires it after the session timeout) and the producer dropped
 * with its transaction open. A new instance starts at once: same group, same transactional id
 * (its `initTransactions` fences the old producer and aborts the open transaction), balances
 * rebuilt, and it reads from the group's committed offsets once the dead member has expired.
 */
import { Admin } from "../../client/admin.ts";
import { Consumer, type Message } from "../../client/consumer.ts";
import type { Isolation } from "../../client/partition-reader.ts";
import { Producer } from "../../client/producer.ts";
import { readAll } from "./scenario-script.ts";

export type DeliveryMode = "at-least-once" | "exactly-once";

export interface Payment {
  paymentId: string;
  account: string;
  amount: number;
}

export interface BalanceUpdated extends Payment {
  balance: number;
}

export interface PaymentProcessorOptions {
  baseUrl: string;
  mode: DeliveryMode;
  input: string;
  output: string;
  groupId: string;
  /** Client ids of its instances are `${clientId}-<instance>`; the transactional id is `${clientId}-txn`. */
  clientId: string;
  openingBalance: number;
  /** Records per poll: a crash re-applies at most one batch. */
  maxRecords: number;
}

/** Thrown inside the batch handler where the process "dies". */
class Crash extends Error {
  constructor() {
    super("crash injected between produce and commit");
  }
}

interface Instance {
  n: number;
  consumer: Consumer;
  producer: Producer;
  dead: boolean;
}

export class PaymentProcessor {
  /** Batches committed (over all instances). */
  committedBatches = 0;
  crashes = 0;
  instances = 0;
  lastError: string | null = null;
  private current: Instance | null = null;
  private crashArmed = false;
  private stopped = false;
  private balances = new Map<string, number>();
  /** One batch at a time: the consumer runs partitions' handlers concurrently. */
  private lock: Promise<unknown> = Promise.resolve();
  private starting: Promise<void> | null = null;

  constructor(private readonly opts: PaymentProcessorOptions) {}

  get transactionalId(): string {
    return `${this.opts.clientId}-txn`;
  }

  /** The client id of the running instance. */
  get instanceClientId(): string {
    return `${this.opts.clientId}-${this.instances}`;
  }

  /** Starts an instance (after a crash: a new one, as a supervisor restarts a process). */
  start(): Promise<void> {
    this.starting ??= this.startInstance().finally(() => (this.starting = null));
    return this.starting;
  }

  /** The next batch with records dies between produce and commit. */
  crashNextBatch(): void {
    this.crashArmed = true;
  }

  get crashPending(): boolean {
    return this.crashArmed;
  }

  /** Stops the running instance cleanly (reset): leaves the group, aborts an open transaction. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.starting?.catch(() => undefined);
    const inst = this.current;
    this.current = null;
    if (!inst) return;
    inst.dead = true;
    await inst.consumer.stop().catch(() => undefined);
    if (["in-transaction", "abortable-error"].includes(inst.producer.transactionState))
      await inst.producer.abortTransaction().catch(() => undefined);
  }

  private async startInstance(): Promise<void> {
    const { baseUrl, mode, groupId } = this.opts;
    const eos = mode === "exactly-once";
    const n = ++this.instances;
    const clientId = `${this.opts.clientId}-${n}`;
    const producer = new Producer(
      eos
        ? { baseUrl, clientId, transactionalId: this.transactionalId, transactionTimeoutMs: 60_000, lingerMs: 1 }
        : { baseUrl, clientId, lingerMs: 1 },
    );
    // fences the crashed instance's producer and aborts the transaction it left open
    if (eos) await producer.initTransactions();
    await this.rebuild(eos ? "read_committed" : "read_uncommitted");
    if (this.stopped) return;
    const consumer = new Consumer({
      baseUrl,
      groupId,
      clientId,
      autoOffsetReset: "earliest",
      autoCommit: false,
      isolationLevel: "read_committed",
      maxRecords: this.opts.maxRecords,
      waitMs: 200,
      retryBackoffMs: 200,
    });
    const inst: Instance = { n, consumer, producer, dead: false };
    this.current = inst;
    consumer.on("error", (e) => {
      if (!(e instanceof Crash)) this.lastError = e.message;
    });
    consumer.subscribe({ topics: [this.opts.input] });
    await consumer.run({
      eachBatch: ({ topic, partition, messages, position }) =>
        this.serialised(() => this.process(inst, topic, partition, messages, position)),
    });
  }

  private serialised<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** The balances as this instance's output left them: the last event per account. */
  private async rebuild(isolation: Isolation): Promise<void> {
    const partitions = await this.partitionsOf(this.opts.output);
    const balances = new Map<string, number>();
    for (const r of await readAll(this.opts.baseUrl, this.opts.output, partitions, isolation)) {
      const ev = JSON.parse(r.value) as BalanceUpdated;
      balances.set(ev.account, ev.balance);
    }
    this.balances = balances;
  }

  private async partitionsOf(topic: string): Promise<number> {
    return (await new Admin({ baseUrl: this.opts.baseUrl }).describeTopic(topic)).partitions.length;
  }

  private async process(inst: Instance, topic: string, partition: number, messages: Message[], position: number): Promise<void> {
    if (inst.dead) throw new Crash();
    const after = new Map<string, number>();
    const events: { key: string; value: string }[] = [];
    for (const m of messages) {
      const p = JSON.parse(m.value?.toString() ?? "null") as Payment;
      const balance = (after.get(p.account) ?? this.balances.get(p.account) ?? this.opts.openingBalance) - p.amount;
      after.set(p.account, balance);
      const ev: BalanceUpdated = { paymentId: p.paymentId, account: p.account, amount: p.amount, balance };
      events.push({ key: p.account, value: JSON.stringify(ev) });
    }
    const offsets = [{ topic, partition, offset: position }];
    if (this.opts.mode === "exactly-once") {
      inst.producer.beginTransaction();
      try {
        await inst.producer.sendMany(this.opts.output, events);
        this.crashHere(inst, messages.length);
        await inst.producer.sendOffsetsToTransaction({ ...inst.consumer.groupMetadata(), offsets });
        await inst.producer.commitTransaction();
      } catch (e) {
        if (e instanceof Crash) throw e; // a dead process aborts nothing: its successor's initTransactions does
        await inst.producer.abortTransaction().catch(() => undefined);
        throw e; // the consumer hands the same records again
      }
    } else {
      await inst.producer.sendMany(this.opts.output, events);
      this.crashHere(inst, messages.length);
      await inst.consumer.commitOffsets(offsets);
    }
    for (const [account, balance] of after) this.balances.set(account, balance);
    this.committedBatches++;
  }

  /** Where the injected crash happens: the events are written, nothing is committed. */
  private crashHere(inst: Instance, records: number): void {
    if (!this.crashArmed || records === 0) return;
    this.crashArmed = false;
    this.crashes++;
    inst.dead = true;
    inst.consumer.abandon();
    if (this.current === inst) this.current = null;
    // the supervisor starts a new instance
    setTimeout(() => {
      if (!this.stopped) void this.start().catch((e: unknown) => (this.lastError = e instanceof Error ? e.message : String(e)));
    }, 200).unref();
    throw new Crash();
  }
}
