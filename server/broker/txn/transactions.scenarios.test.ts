/**
 * Transactions through the Broker façade on both database kinds (embedded PGlite and a real
 * PostgreSQL): visibility under both isolation levels, markers, long-polls woken by a commit,
 * restarts with open and aborted transactions, timeouts, fencing and the raw batch fetch.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Broker, FetchedRecord, ProduceAs } from "../broker.ts";
import { DATABASE_KINDS } from "../../testing/databases.ts";
import { withBroker, type BrokerHarness } from "../../testing/broker-fixture.ts";
import { decodeRecords, readBatchHeader } from "../protocol/record-batch.ts";

const buf = (s: string) => Buffer.from(s, "utf8");
const values = (rs: FetchedRecord[]) => rs.map((r) => r.value?.toString("utf8"));
const BIG = { maxRecords: 100_000, maxBytes: 16 * 1024 * 1024 };

/** Every visible record from 0 up to the isolation level's end, following nextOffset. */
async function readAll(
  b: Broker,
  topic: string,
  partition: number,
  isolation: "read_committed" | "read_uncommitted",
): Promise<{ records: FetchedRecord[]; end: number }> {
  let offset = 0;
  const records: FetchedRecord[] = [];
  for (let i = 0; i < 100; i++) {
    const r = await b.fetch(topic, partition, { offset, ...BIG, isolation });
    records.push(...r.records);
    const end = isolation === "read_committed" ? r.lastStableOffset : r.highWatermark;
    if (r.nextOffset >= end) return { records, end };
    if (r.nextOffset === offset) throw new Error(`no progress at ${offset}`);
    offset = r.nextOffset;
  }
  throw new Error("too many rounds");
}

class TxnProducer {
  private seq = new Map<string, number>();
  constructor(
    private readonly b: () => Broker,
    readonly transactionalId: string,
    public producerId: number,
    public producerEpoch: number,
  ) {}

  static async init(b: () => Broker, transactionalId: string, transactionTimeoutMs?: number): Promise<TxnProducer> {
    const r = await b().initProducer({ transactionalId, transactionTimeoutMs });
    return new TxnProducer(b, transactionalId, r.producerId, r.producerEpoch);
  }

  async send(topic: string, partition: number, ...vals: string[]): Promise<number> {
    const k = `${topic}/${partition}`;
    const baseSequence = this.seq.get(k) ?? 0;
    const as: ProduceAs = {
      producerId: this.producerId,
      producerEpoch: this.producerEpoch,
      baseSequence,
      transactionalId: this.transactionalId,
    };
    const out = await this.b().produce(
      topic,
      vals.map((v) => ({ key: null, value: buf(v), partition })),
      as,
    );
    this.seq.set(k, baseSequence + vals.length);
    return out[0].offset;
  }

  commit() {
    return this.b().endTransaction(this.transactionalId, this.producerId, this.producerEpoch, true);
  }

  abort() {
    return this.b().endTransaction(this.transactionalId, this.producerId, this.producerEpoch, false);
  }
}

describe.each(DATABASE_KINDS)("transactions on %s", (kind) => {
  let h: BrokerHarness;
  const b = () => h.broker;

  beforeAll(async () => {
    h = await withBroker(kind, { txnCheckIntervalMs: 50 });
    await h.broker.createTopic({ name: "orders", partitions: 2 });
    await h.broker.createTopic({ name: "audit", partitions: 1 });
  }, 60_000);
  afterAll(() => h?.close());

  it("commit makes a multi-topic transaction visible at once; abort hides it; markers take an offset each", async () => {
    const p = await TxnProducer.init(b, "scenario-1");
    await p.send("orders", 0, "o1", "o2");
    await p.send("orders", 1, "o3");
    await p.send("audit", 0, "a1");
    await b().produce("orders", [{ key: null, value: buf("plain"), partition: 0 }]);

    // open: read_committed stops at the transaction's first offset; read_uncommitted sees it all
    const open = await b().fetch("orders", 0, { offset: 0, ...BIG, isolation: "read_committed" });
    expect(open).toMatchObject({ highWatermark: 3, lastStableOffset: 0, nextOffset: 0, records: [] });
    expect(values((await readAll(b(), "orders", 0, "read_uncommitted")).records)).toEqual(["o1", "o2", "plain"]);
    expect((await b().describeTopic("orders")).partitions[0].openTransactions).toEqual([
      { producerId: p.producerId, firstOffset: 0, lastOffset: 1 },
    ]);
    expect(await b().listOffsets("orders", "latest", undefined, "read_committed")).toEqual([
      { partition: 0, offset: 0, timestamp: null },
      { partition: 1, offset: 0, timestamp: null },
    ]);

    const done = await p.commit();
    expect(done.state).toBe("CompleteCommit");
    const after = await readAll(b(), "orders", 0, "read_committed");
    expect(values(after.records)).toEqual(["o1", "o2", "plain"]);
    expect(after.end).toBe(4); // 3 records + the commit marker
    expect(values((await readAll(b(), "orders", 1, "read_committed")).records)).toEqual(["o3"]);
    expect(values((await readAll(b(), "audit", 0, "read_committed")).records)).toEqual(["a1"]);

    await p.send("orders", 0, "x1");
    await p.send("audit", 0, "x2");
    await p.abort();
    await b().produce("orders", [{ key: null, value: buf("after-abort"), partition: 0 }]);
    expect(values((await readAll(b(), "orders", 0, "read_committed")).records)).toEqual(["o1", "o2", "plain", "after-abort"]);
    expect(values((await readAll(b(), "orders", 0, "read_uncommitted")).records)).toEqual(["o1", "o2", "plain", "x1", "after-abort"]);
    expect(values((await readAll(b(), "audit", 0, "read_committed")).records)).toEqual(["a1"]);
    const w = await b().watermarksOf("orders", 0);
    expect(w.highWatermark).toBe(7); // o1 o2 plain commit x1 abort after-abort
    expect(w.lastStableOffset).toBe(7);
  });

  it("the raw batch fetch under read_committed leaves out aborted batches and markers", async () => {
    await b().createTopic({ name: "raw", partitions: 1 });
    const p = await TxnProducer.init(b, "scenario-raw");
    await p.send("raw", 0, "keep");
    await p.commit();
    await p.send("raw", 0, "drop");
    await p.abort();
    const r = await b().fetchBatches("raw", 0, { offset: 0, maxBytes: 1 << 20, isolation: "read_committed" });
    const vals = r.batches.flatMap((x) => [...decodeRecords(x.payload, readBatchHeader(x.payload))].map((rec) => rec.value?.toString()));
    expect(vals).toEqual(["keep"]);
    expect(r.batches.every((x) => !x.isControl)).toBe(true);
    expect(r.nextOffset).toBe(4);
    const all = await b().fetchBatches("raw", 0, { offset: 0, maxBytes: 1 << 20 });
    expect(all.batches).toHaveLength(4);
  });

  it("a read_committed long-poll waits through an open transaction and wakes on its commit", async () => {
    await b().createTopic({ name: "poll", partitions: 1 });
    const p = await TxnProducer.init(b, "scenario-poll");
    await p.send("poll", 0, "late");
    let answered = false;
    const polled = b()
      .fetch("poll", 0, { offset: 0, ...BIG, waitMs: 10_000, isolation: "read_committed" })
      .then((r) => {
        answered = true;
        return r;
      });
    await new Promise((r) => setTimeout(r, 300));
    expect(answered).toBe(false); // data is there, but not stable yet
    await p.commit();
    const r = await polled;
    expect(values(r.records)).toEqual(["late"]);
  });

  it("a restart aborts transactions left open, and aborted data stays hidden after it", async () => {
    await b().createTopic({ name: "crash", partitions: 2 });
    const aborted = await TxnProducer.init(b, "scenario-crash-a");
    await aborted.send("crash", 0, "aborted-before");
    await aborted.abort();
    const open = await TxnProducer.init(b, "scenario-crash-b");
    await open.send("crash", 0, "open-1");
    await open.send("crash", 1, "open-2");
    await b().produce("crash", [{ key: null, value: buf("committed-plain"), partition: 1 }]);

    await h.reopen();

    const t = b().describeTransaction("scenario-crash-b");
    expect(t).toMatchObject({ state: "CompleteAbort", lastResult: { commit: false, reason: "recovery" } });
    expect(t.producerEpoch).toBeGreaterThan(open.producerEpoch);
    for (const partition of [0, 1]) {
      const { records, end } = await readAll(b(), "crash", partition, "read_committed");
      const w = await b().watermarksOf("crash", partition);
      expect(end).toBe(w.highWatermark);
      expect(values(records)).toEqual(partition === 0 ? [] : ["committed-plain"]);
    }
    // the old instance is told its transaction was aborted (not that another instance fenced it), and may initialise again
    await expect(open.send("crash", 0, "zombie")).rejects.toMatchObject({ code: "TRANSACTION_ABORTED" });
    // a new instance of the id works
    const again = await TxnProducer.init(b, "scenario-crash-b");
    await again.send("crash", 0, "new");
    await again.commit();
    expect(values((await readAll(b(), "crash", 0, "read_committed")).records)).toEqual(["new"]);
  });

  it("a transaction past its timeout is aborted by the broker and its producer is told so", async () => {
    await b().createTopic({ name: "slow", partitions: 1 });
    const p = await TxnProducer.init(b, "scenario-timeout", 300);
    await p.send("slow", 0, "too-late");
    const deadline = Date.now() + 10_000;
    while (b().describeTransaction("scenario-timeout").state !== "CompleteAbort") {
      if (Date.now() > deadline) throw new Error("the transaction was not aborted by its timeout");
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(b().describeTransaction("scenario-timeout").lastResult).toMatchObject({ commit: false, reason: "timeout" });
    const { records, end } = await readAll(b(), "slow", 0, "read_committed");
    expect(records).toEqual([]);
    expect(end).toBe(2);
    await expect(p.commit()).rejects.toMatchObject({ code: "TRANSACTION_ABORTED" });
    await expect(p.send("slow", 0, "more")).rejects.toMatchObject({
      code: expect.stringMatching(/TRANSACTION_ABORTED|INVALID_PRODUCER_EPOCH/),
    });
  });

  it("a second init of a transactional id fences the first and aborts its transaction", async () => {
    await b().createTopic({ name: "fence", partitions: 1 });
    const a = await TxnProducer.init(b, "scenario-fence");
    await a.send("fence", 0, "from-a");
    const c = await TxnProducer.init(b, "scenario-fence");
    expect(c.producerEpoch).toBe(a.producerEpoch + 1);
    await expect(a.send("fence", 0, "a-again")).rejects.toMatchObject({ code: "PRODUCER_FENCED" });
    await expect(a.commit()).rejects.toMatchObject({ code: "PRODUCER_FENCED" });
    await c.send("fence", 0, "from-c");
    await c.commit();
    expect(values((await readAll(b(), "fence", 0, "read_committed")).records)).toEqual(["from-c"]);
    expect(values((await readAll(b(), "fence", 0, "read_uncommitted")).records)).toEqual(["from-a", "from-c"]);
  });

  it("KIP-447: offsets in a transaction commit with it, and a new owner waits for it instead of re-reading", async () => {
    await b().createTopic({ name: "in447", partitions: 1 });
    await b().createTopic({ name: "out447", partitions: 1 });
    await b().produce(
      "in447",
      ["p1", "p2", "p3"].map((v) => ({ key: null, value: buf(v), partition: 0 })),
    );
    const join = { subscribedTopicNames: ["in447"], memberEpoch: 0 } as const;
    const a = await b().heartbeatGroup("g447", join, { autoOffsetReset: "earliest", isolationLevel: "read_committed" });
    expect(a.assignment).toEqual([{ topic: "in447", partitions: [0] }]);
    const polled = await b().pollGroup("g447", a.memberId, { maxRecords: 100, maxBytes: 1 << 20, waitMs: 0 });
    expect(values(polled.records)).toEqual(["p1", "p2", "p3"]);

    const p = await TxnProducer.init(b, "scenario-447");
    await p.send("out447", 0, "applied-p1-p3");
    const offsets = [{ topic: "in447", partition: 0, offset: 3, metadata: null }];
    await expect(
      b().addOffsetsToTransaction("scenario-447", {
        producerId: p.producerId,
        producerEpoch: p.producerEpoch,
        groupId: "g447",
        memberId: a.memberId,
        memberEpoch: a.memberEpoch + 5,
        offsets,
      }),
    ).rejects.toMatchObject({ code: expect.stringMatching(/STALE_MEMBER_EPOCH|FENCED_MEMBER_EPOCH/) });
    await expect(
      b().addOffsetsToTransaction("scenario-447", {
        producerId: p.producerId,
        producerEpoch: p.producerEpoch,
        groupId: "g447",
        memberId: "not-a-member",
        memberEpoch: 1,
        offsets,
      }),
    ).rejects.toMatchObject({ code: "UNKNOWN_MEMBER_ID" });
    await b().addOffsetsToTransaction("scenario-447", {
      producerId: p.producerId,
      producerEpoch: p.producerEpoch,
      groupId: "g447",
      memberId: a.memberId,
      memberEpoch: a.memberEpoch,
      offsets,
    });
    expect(b().describeTransaction("scenario-447").groups).toEqual(["g447"]);

    // the member goes away before the commit; the next owner must not start from "earliest"
    b().leaveGroup("g447", a.memberId);
    const c = await b().heartbeatGroup("g447", join, { autoOffsetReset: "earliest", isolationLevel: "read_committed" });
    expect(c.assignment).toEqual([{ topic: "in447", partitions: [0] }]);
    const early = await b().pollGroup("g447", c.memberId, { maxRecords: 100, maxBytes: 1 << 20, waitMs: 300 });
    expect(early.records).toEqual([]);

    await p.commit();
    const view = await b().describeGroup("g447");
    expect(view.offsets.find((o) => o.topic === "in447" && o.partition === 0)).toMatchObject({ committedOffset: 3 });
    await b().produce("in447", [{ key: null, value: buf("p4"), partition: 0 }]);
    const next = await b().pollGroup("g447", c.memberId, { maxRecords: 100, maxBytes: 1 << 20, waitMs: 2000 });
    expect(values(next.records)).toEqual(["p4"]);
  });

  it("a group's offsets committed in a transaction show only once a read_committed reader can read its records", async () => {
    // many partitions written: their markers take a while, so offsets written beside them would show first
    const OUT = 16;
    await b().createTopic({ name: "in-seen", partitions: 1 });
    await b().createTopic({ name: "out-seen", partitions: OUT });
    await b().produce("in-seen", [{ key: null, value: buf("i1"), partition: 0 }]);
    const join = { subscribedTopicNames: ["in-seen"], memberEpoch: 0 } as const;
    const m = await b().heartbeatGroup("g-seen", join, { autoOffsetReset: "earliest", isolationLevel: "read_committed" });
    await b().pollGroup("g-seen", m.memberId, { maxRecords: 100, maxBytes: 1 << 20, waitMs: 0 });
    const p = await TxnProducer.init(b, "scenario-seen");
    for (let q = 0; q < OUT; q++) await p.send("out-seen", q, `o${q}`);
    await b().addOffsetsToTransaction("scenario-seen", {
      producerId: p.producerId,
      producerEpoch: p.producerEpoch,
      groupId: "g-seen",
      memberId: m.memberId,
      memberEpoch: m.memberEpoch,
      offsets: [{ topic: "in-seen", partition: 0, offset: 1, metadata: null }],
    });

    // while the commit goes on: as soon as the group shows the offset, every output is readable
    const commit = p.commit();
    const shows = async () => (await b().describeGroup("g-seen")).offsets.some((o) => o.topic === "in-seen" && o.committedOffset === 1);
    while (!(await shows())) await new Promise((r) => setImmediate(r));
    const unreadable: number[] = [];
    for (let q = 0; q < OUT; q++)
      if ((await b().fetch("out-seen", q, { offset: 0, ...BIG, isolation: "read_committed" })).records.length !== 1) unreadable.push(q);
    await commit;
    expect(unreadable).toEqual([]);
  });

  it("compaction: an aborted write never replaces a committed value, and open transactions are left alone", async () => {
    await b().createTopic({ name: "compacted-txn", partitions: 1, configs: { "cleanup.policy": "compact" } });
    const kv = (k: string, v: string) => ({ key: buf(k), value: buf(v), partition: 0 });
    await b().produce("compacted-txn", [kv("k", "v1-committed"), kv("j", "j1")]);
    const p = await TxnProducer.init(b, "scenario-compact");
    const as = (seq: number) => ({
      producerId: p.producerId,
      producerEpoch: p.producerEpoch,
      baseSequence: seq,
      transactionalId: p.transactionalId,
    });
    await b().produce("compacted-txn", [kv("k", "v2-aborted")], as(0));
    await p.abort();
    await b().produce("compacted-txn", [kv("j", "j2")]);
    await b().produce("compacted-txn", [kv("j", "j3-open")], as(1)); // a new transaction, left open
    await b().runCleaner();
    const committed = await readAll(b(), "compacted-txn", 0, "read_committed");
    expect(committed.records.map((r) => `${r.key}=${r.value}`)).toEqual(["k=v1-committed", "j=j2"]);
    // the aborted record is gone; the open transaction's record is still there
    const all = await readAll(b(), "compacted-txn", 0, "read_uncommitted");
    expect(all.records.map((r) => `${r.key}=${r.value}`)).toEqual(["k=v1-committed", "j=j2", "j=j3-open"]);
    await p.commit();
    await b().runCleaner();
    expect((await readAll(b(), "compacted-txn", 0, "read_committed")).records.map((r) => `${r.key}=${r.value}`)).toEqual([
      "k=v1-committed",
      "j=j3-open",
    ]);
  });

  it("refuses what does not fit: a producer batch to two partitions, a commit with nothing open, unknown ids", async () => {
    await b().createTopic({ name: "bad", partitions: 2 });
    const p = await TxnProducer.init(b, "scenario-bad");
    await expect(
      b().produce(
        "bad",
        [
          { key: null, value: buf("a"), partition: 0 },
          { key: null, value: buf("b"), partition: 1 },
        ],
        {
          producerId: p.producerId,
          producerEpoch: p.producerEpoch,
          baseSequence: 0,
          transactionalId: p.transactionalId,
        },
      ),
    ).rejects.toMatchObject({ code: "INVALID_REQUEST" });
    await expect(p.commit()).rejects.toMatchObject({ code: "INVALID_TXN_STATE" });
    await expect(b().endTransaction("no-such-id", 1, 0, true)).rejects.toMatchObject({ code: "INVALID_PRODUCER_ID_MAPPING" });
    expect(() => b().describeTransaction("no-such-id")).toThrow(expect.objectContaining({ code: "TRANSACTIONAL_ID_NOT_FOUND" }));
    // nothing was written by the refused calls
    expect((await b().watermarksOf("bad", 0)).highWatermark).toBe(0);
  });
});
