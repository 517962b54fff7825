/**
 * A consume-transform-produce service for the exactly-once tests:
 * `node --import tsx server/testing/payments-service.ts`, settings in the environment:
 *   PAY_BASE_URL     the server
 *   PAY_INPUT        input topic (records: key = account, value = JSON {paymentId, account, amount})
 *   PAY_OUTPUT       output topic (key = account, value = JSON {paymentId, account, amount, balance})
 *   PAY_GROUP        consumer group
 *   PAY_EOS          "1": exactly-once (default); "0": at-least-once
 *   PAY_TXN_ID       transactional id (EOS; default `${PAY_GROUP}-txn`)
 *   PAY_MAX_RECORDS  records per poll (default 200)
 *
 * It keeps a running balance per account. With EOS, every batch of input records is one
 * transaction: the balance-updated events, plus the input positions (sendOffsetsToTransaction),
 * committed together; on start-up it first initialises the transactional id (which fences a
 * previous instance and aborts its open transaction), then rebuilds the balances from the
 * committed output (read_committed, up to the last stable offset), then joins the group, so
 * state, output and input positions always agree. Without EOS it produces (non-transactional),
 * then commits the input offsets: a crash between the two re-applies payments (duplicates).
 *
 * Writes one JSON object per line on stdout: {ev:"ready"|"rebuilt"|"joined"|"assigned"|
 * "revoked"|"committed"|"error"|"fenced"|"stopped", ...}. SIGTERM stops cleanly (exit 0); a
 * fenced producer exits with 3.
 */
import { Consumer, type Message } from "../client/consumer.ts";
import { callJson } from "../client/http-client.ts";
import { PartitionReader } from "../client/partition-reader.ts";
import { Producer, ProducerFencedError } from "../client/producer.ts";

const env = (name: string, fallback?: string): string => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`${name} is required`);
  return v;
};

const baseUrl = env("PAY_BASE_URL");
const input = env("PAY_INPUT", "payments");
const output = env("PAY_OUTPUT", "balance-updated");
const groupId = env("PAY_GROUP", "payments-service");
const eos = env("PAY_EOS", "1") === "1";
const transactionalId = env("PAY_TXN_ID", `${groupId}-txn`);
const maxRecords = Number(env("PAY_MAX_RECORDS", "200"));

// never outlive the test that started it (it would retry against a dead server forever)
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 1_000).unref();

const log = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify({ ...o, pid: process.pid, t: Date.now() }) + "\n");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function exitFenced(e: unknown): never {
  log({ ev: "fenced", code: (e as { code?: string }).code, message: (e as Error).message });
  process.exit(3);
}

/** Retries `fn` while the server is down or restarting (anything but a fenced producer). */
async function retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof ProducerFencedError) exitFenced(e);
      if (attempt % 10 === 0)
        log({ ev: "error", what, code: (e as { code?: string }).code ?? (e as Error).name, message: (e as Error).message });
      await sleep(200);
    }
  }
}

interface Payment {
  paymentId: string;
  account: string;
  amount: number;
}

interface BalanceUpdated extends Payment {
  balance: number;
}

const producer = new Producer(eos ? { baseUrl, transactionalId, transactionTimeoutMs: 15_000, lingerMs: 1 } : { baseUrl, lingerMs: 1 });
const balances = new Map<string, number>();

/** The balances as of the committed output: the last event per account (one partition per account, in order). */
async function rebuild(): Promise<number> {
  balances.clear();
  const isolation = eos ? "read_committed" : "read_uncommitted";
  const topic = await callJson<{ partitions: unknown[] }>(baseUrl, "GET", `/api/v1/topics/${encodeURIComponent(output)}`);
  const ends = await callJson<{ partitions: { partition: number; offset: number | null }[] }>(
    baseUrl,
    "GET",
    `/api/v1/topics/${encodeURIComponent(output)}/offsets?at=latest&isolation=${isolation}`,
  );
  let events = 0;
  for (let p = 0; p < topic.partitions.length; p++) {
    const end = ends.partitions.find((e) => e.partition === p)?.offset ?? 0;
    const reader = new PartitionReader(baseUrl, output, p, 0, isolation);
    while (reader.offset < end) {
      const r = await reader.fetch(4 << 20);
      for (const rec of r.records) {
        if (rec.offset >= end) break;
        const ev = JSON.parse(rec.value?.toString() ?? "null") as BalanceUpdated;
        balances.set(ev.account, ev.balance);
        events++;
      }
      if (r.records.length === 0 && reader.offset >= r.lastStableOffset) break;
    }
  }
  return events;
}

/** One batch's output events and the balances they leave, not applied yet. */
function transform(messages: Message[]): { events: { key: string; value: string }[]; after: Map<string, number> } {
  const after = new Map<string, number>();
  const events: { key: string; value: string }[] = [];
  for (const m of messages) {
    const p = JSON.parse(m.value?.toString() ?? "null") as Payment;
    const balance = (after.get(p.account) ?? balances.get(p.account) ?? 0) + p.amount;
    after.set(p.account, balance);
    const ev: BalanceUpdated = { paymentId: p.paymentId, account: p.account, amount: p.amount, balance };
    events.push({ key: p.account, value: JSON.stringify(ev) });
  }
  return { events, after };
}

// one transaction at a time: the consumer runs partitions' handlers concurrently
let lock: Promise<unknown> = Promise.resolve();
function serialised<T>(fn: () => Promise<T>): Promise<T> {
  const run = lock.then(fn, fn);
  lock = run.catch(() => undefined);
  return run;
}

async function abortRetrying(): Promise<void> {
  for (;;) {
    try {
      await producer.abortTransaction();
      return;
    } catch (e) {
      if (e instanceof ProducerFencedError) exitFenced(e);
      log({ ev: "error", what: "abort", code: (e as { code?: string }).code ?? (e as Error).name, message: (e as Error).message });
      await sleep(200);
    }
  }
}

if (eos) {
  await retrying("initTransactions", () => producer.initTransactions());
  log({ ev: "ready", producer: producer.producerIdentity });
}
const events = await retrying("rebuild", rebuild);
log({ ev: "rebuilt", events, accounts: balances.size });

const consumer = new Consumer({
  baseUrl,
  groupId,
  clientId: `payments-${process.pid}`,
  autoOffsetReset: "earliest",
  autoCommit: false,
  isolationLevel: "read_committed",
  maxRecords,
  waitMs: 200,
  retryBackoffMs: 100,
});
consumer.on("joined", (e) => log({ ev: "joined", memberId: e.memberId, memberEpoch: e.memberEpoch, reason: e.reason }));
consumer.on("assigned", (e) => log({ ev: "assigned", partitions: e.partitions.map((p) => p.partition), memberEpoch: e.memberEpoch }));
consumer.on("revoked", (e) => log({ ev: "revoked", partitions: e.partitions.map((p) => p.partition), reason: e.reason }));
consumer.on("error", (e) => log({ ev: "error", code: (e as { code?: string }).code ?? e.name, message: e.message }));
consumer.subscribe({ topics: [input] });

let stopping = false;
process.on("SIGTERM", () => {
  if (stopping) return;
  stopping = true;
  void consumer.stop().then(
    () => {
      log({ ev: "stopped" });
      process.exit(0);
    },
    () => process.exit(1),
  );
});

await retrying("join", () =>
  consumer.run({
    eachBatch: ({ topic, partition, messages, position, isActive }) =>
      serialised(async () => {
        if (!isActive()) throw new Error("partition no longer owned");
        const { events, after } = transform(messages);
        // the consumer's position after the batch (past any transaction markers that follow it)
        const next = position;
        if (eos) {
          producer.beginTransaction();
          try {
            await producer.sendMany(output, events);
            await producer.sendOffsetsToTransaction({ ...consumer.groupMetadata(), offsets: [{ topic, partition, offset: next }] });
            await producer.commitTransaction();
          } catch (e) {
            if (e instanceof ProducerFencedError) exitFenced(e);
            await abortRetrying();
            throw e; // the consumer hands the same records again
          }
        } else {
          await producer.sendMany(output, events);
          await consumer.commitOffsets([{ topic, partition, offset: next }]);
        }
        for (const [account, balance] of after) balances.set(account, balance);
        log({ ev: "committed", partition, from: messages[0].offset, next, n: messages.length });
      }),
  }),
);
log({ ev: "running", memberId: consumer.member.memberId });
