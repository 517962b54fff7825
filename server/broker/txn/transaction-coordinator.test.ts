import { describe, expect, it } from "vitest";
import {
  BlockProducerIdAllocator,
  TransactionCoordinator,
  type EndTxnPlan,
  type ProducerIdAllocator,
  type TransactionCoordinatorConfig,
} from "./transaction-coordinator.ts";
import { isTxnError } from "../errors.ts";

const T0 = 1_000_000;

function counter(start = 1000): ProducerIdAllocator {
  let n = start;
  return { next: () => n++ };
}

function coordinator(config: Partial<TransactionCoordinatorConfig> = {}) {
  return new TransactionCoordinator(counter(), config);
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isTxnError(e)) return e.code;
    throw e;
  }
  return "none";
}

const tp = (topic: string, partition: number) => ({ topic, partition });

describe("TransactionCoordinator: producer ids", () => {
  it("gives idempotent producers a fresh id at epoch 0 each time", () => {
    const c = coordinator();
    expect(c.initProducerId({}, T0)).toEqual({ producerId: 1000, producerEpoch: 0, abort: null });
    expect(c.initProducerId({ transactionalId: null }, T0)).toEqual({ producerId: 1001, producerEpoch: 0, abort: null });
    expect(c.list(T0)).toEqual([]);
  });

  it("keeps a transactional id's producer id and bumps its epoch on every init", () => {
    const c = coordinator();
    expect(c.initProducerId({ transactionalId: "tx" }, T0)).toEqual({ producerId: 1000, producerEpoch: 0, abort: null });
    expect(c.initProducerId({ transactionalId: "tx", transactionTimeoutMs: 5000 }, T0 + 1)).toEqual({
      producerId: 1000,
      producerEpoch: 1,
      abort: null,
    });
    expect(c.describe("tx", T0 + 2)).toMatchObject({
      producerId: 1000,
      producerEpoch: 1,
      state: "Empty",
      timeoutMs: 5000,
      startedAt: null,
      ageMs: null,
    });
    expect(c.initProducerId({ transactionalId: "other" }, T0)).toMatchObject({ producerId: 1001, producerEpoch: 0 });
  });

  it("moves to a fresh producer id when the epoch would pass 32766", () => {
    const c = coordinator();
    c.initProducerId({ transactionalId: "tx" }, T0);
    const snap = c.entrySnapshot("tx");
    c.replaceEntry("tx", { ...snap!, producerEpoch: 32766 });
    expect(c.initProducerId({ transactionalId: "tx" }, T0)).toEqual({ producerId: 1001, producerEpoch: 0, abort: null });
  });

  it("BlockProducerIdAllocator hands out reserved blocks in order", () => {
    const a = new BlockProducerIdAllocator();
    expect(() => a.next()).toThrow(/no producer ids/);
    a.addBlock(10, 2);
    a.addBlock(100, 1);
    expect(a.available).toBe(3);
    expect([a.next(), a.next(), a.next()]).toEqual([10, 11, 100]);
    expect(a.available).toBe(0);
    expect(() => a.addBlock(-1, 5)).toThrow(RangeError);
    expect(() => a.addBlock(1, 0)).toThrow(RangeError);
  });
});

describe("TransactionCoordinator: commit and abort", () => {
  it("runs a transaction: Empty → Ongoing → PrepareCommit → CompleteCommit, with its partitions and group offsets", () => {
    const c = coordinator();
    const { producerId: pid, producerEpoch: ep } = c.initProducerId({ transactionalId: "tx" }, T0);
    expect(c.addPartitions("tx", pid, ep, [tp("b", 1), tp("a", 0)], T0 + 10)).toEqual({
      state: "Ongoing",
      added: [tp("a", 0), tp("b", 1)],
    });
    expect(c.addPartitions("tx", pid, ep, [tp("a", 0), tp("a", 2)], T0 + 20)).toEqual({ state: "Ongoing", added: [tp("a", 2)] });
    c.addOffsets("tx", pid, ep, "g1", [{ topic: "in", partition: 0, offset: 5, metadata: null }], T0 + 30);
    c.addOffsets("tx", pid, ep, "g1", [{ topic: "in", partition: 0, offset: 7, metadata: "m" }], T0 + 31);
    expect(c.describe("tx", T0 + 40)).toMatchObject({ state: "Ongoing", startedAt: T0 + 10, ageMs: 30, groups: ["g1"] });
    expect(c.pendingGroupOffsets("g1")).toEqual([{ transactionalId: "tx", topic: "in", partition: 0 }]);
    const plan = c.prepareEnd("tx", pid, ep, true, T0 + 50);
    expect(plan).toEqual({
      transactionalId: "tx",
      producerId: pid,
      producerEpoch: ep,
      coordinatorEpoch: 0,
      commit: true,
      reason: "client",
      partitions: [tp("a", 0), tp("a", 2), tp("b", 1)],
      groupOffsets: [{ groupId: "g1", offsets: [{ topic: "in", partition: 0, offset: 7, metadata: "m" }] }],
      alreadyComplete: false,
    } satisfies EndTxnPlan);
    expect(c.describe("tx", T0 + 51)).toMatchObject({ state: "PrepareCommit", pending: { commit: true, reason: "client" } });
    expect(c.pendingEnds()).toEqual([plan]);
    const done = c.completeEnd("tx", T0 + 60, plan);
    expect(done).toMatchObject({
      state: "CompleteCommit",
      partitions: [],
      groups: [],
      startedAt: null,
      pending: null,
      lastResult: { commit: true, reason: "client", completedAt: T0 + 60 },
    });
    expect(c.pendingGroupOffsets("g1")).toEqual([]);
    // the producer keeps its epoch for the next transaction
    expect(c.addPartitions("tx", pid, ep, [tp("a", 0)], T0 + 70).state).toBe("Ongoing");
  });

  it("an abort discards the group offsets", () => {
    const c = coordinator();
    const { producerId: pid } = c.initProducerId({ transactionalId: "tx" }, T0);
    c.addOffsets("tx", pid, 0, "g", [{ topic: "in", partition: 1, offset: 3, metadata: null }], T0);
    const plan = c.prepareEnd("tx", pid, 0, false, T0);
    expect(plan).toMatchObject({ commit: false, reason: "client", producerEpoch: 0, partitions: [], groupOffsets: [] });
    expect(c.completeEnd("tx", T0).state).toBe("CompleteAbort");
  });

  it("answers EndTxn retries and wrong decisions as Kafka does", () => {
    const c = coordinator();
    const { producerId: pid } = c.initProducerId({ transactionalId: "tx" }, T0);
    expect(codeOf(() => c.prepareEnd("tx", pid, 0, true, T0))).toBe("INVALID_TXN_STATE"); // Empty
    c.addPartitions("tx", pid, 0, [tp("a", 0)], T0);
    c.prepareEnd("tx", pid, 0, true, T0);
    expect(codeOf(() => c.prepareEnd("tx", pid, 0, true, T0))).toBe("CONCURRENT_TRANSACTIONS");
    expect(codeOf(() => c.prepareEnd("tx", pid, 0, false, T0))).toBe("INVALID_TXN_STATE");
    expect(codeOf(() => c.addPartitions("tx", pid, 0, [tp("a", 1)], T0))).toBe("CONCURRENT_TRANSACTIONS");
    expect(codeOf(() => c.initProducerId({ transactionalId: "tx" }, T0))).toBe("CONCURRENT_TRANSACTIONS");
    c.completeEnd("tx", T0);
    expect(c.prepareEnd("tx", pid, 0, true, T0)).toMatchObject({ alreadyComplete: true, partitions: [], groupOffsets: [] });
    expect(codeOf(() => c.prepareEnd("tx", pid, 0, false, T0))).toBe("INVALID_TXN_STATE");
    expect(codeOf(() => c.completeEnd("tx", T0))).toBe("INVALID_TXN_STATE");
  });

  it("CONCURRENT_TRANSACTIONS is retriable; fencing errors are not", () => {
    const c = coordinator();
    const { producerId: pid } = c.initProducerId({ transactionalId: "tx" }, T0);
    c.addPartitions("tx", pid, 0, [tp("a", 0)], T0);
    c.prepareEnd("tx", pid, 0, true, T0);
    expect(() => c.addPartitions("tx", pid, 0, [tp("a", 0)], T0)).toThrow(
      expect.objectContaining({ isBrokerError: true, code: "CONCURRENT_TRANSACTIONS", retriable: true, name: "TxnError" }),
    );
    c.completeEnd("tx", T0);
    expect(() => c.addPartitions("tx", pid, 1, [tp("a", 0)], T0)).toThrow(
      expect.objectContaining({ code: "PRODUCER_FENCED", retriable: false }),
    );
  });
});

describe("TransactionCoordinator: fencing zombies", () => {
  it("a second init fences the first instance and aborts its open transaction with epoch+1", () => {
    const c = coordinator();
    const a = c.initProducerId({ transactionalId: "tx" }, T0);
    c.addPartitions("tx", a.producerId, a.producerEpoch, [tp("out", 0), tp("out", 1)], T0);
    c.addOffsets("tx", a.producerId, a.producerEpoch, "g", [{ topic: "in", partition: 0, offset: 9, metadata: null }], T0);
    const b = c.initProducerId({ transactionalId: "tx" }, T0 + 5);
    expect(b.producerId).toBe(a.producerId);
    expect(b.producerEpoch).toBe(1);
    expect(b.abort).toEqual({
      transactionalId: "tx",
      producerId: a.producerId,
      producerEpoch: 1,
      coordinatorEpoch: 0,
      commit: false,
      reason: "fenced",
      partitions: [tp("out", 0), tp("out", 1)],
      groupOffsets: [],
      alreadyComplete: false,
    });
    // until the broker has written the abort markers, the id is busy
    expect(codeOf(() => c.addPartitions("tx", b.producerId, b.producerEpoch, [tp("out", 0)], T0))).toBe("CONCURRENT_TRANSACTIONS");
    c.completeEnd("tx", T0 + 6, b.abort!);
    // A, the zombie, is fenced on every coordinator request
    expect(codeOf(() => c.addPartitions("tx", a.producerId, a.producerEpoch, [tp("out", 2)], T0))).toBe("PRODUCER_FENCED");
    expect(codeOf(() => c.addOffsets("tx", a.producerId, a.producerEpoch, "g", [], T0))).toBe("PRODUCER_FENCED");
    expect(codeOf(() => c.prepareEnd("tx", a.producerId, a.producerEpoch, true, T0))).toBe("PRODUCER_FENCED");
    // B works; its transaction starts clean
    expect(c.addPartitions("tx", b.producerId, b.producerEpoch, [tp("out", 2)], T0 + 7)).toEqual({
      state: "Ongoing",
      added: [tp("out", 2)],
    });
    expect(c.prepareEnd("tx", b.producerId, b.producerEpoch, true, T0 + 8)).toMatchObject({ partitions: [tp("out", 2)], groupOffsets: [] });
  });

  it("an init while Ongoing at the last epoch aborts with 32767 and hands out a fresh producer id", () => {
    const c = coordinator();
    c.initProducerId({ transactionalId: "tx" }, T0);
    c.replaceEntry("tx", { ...c.entrySnapshot("tx")!, producerEpoch: 32766 });
    c.addPartitions("tx", 1000, 32766, [tp("a", 0)], T0);
    const r = c.initProducerId({ transactionalId: "tx" }, T0);
    expect(r).toMatchObject({ producerId: 1001, producerEpoch: 0, abort: { producerId: 1000, producerEpoch: 32767 } });
    c.completeEnd("tx", T0);
    expect(codeOf(() => c.addPartitions("tx", 1000, 32766, [tp("a", 0)], T0))).toBe("INVALID_PRODUCER_ID_MAPPING");
  });

  it("rejects unknown ids and producer ids that do not match", () => {
    const c = coordinator();
    expect(codeOf(() => c.addPartitions("nope", 1, 0, [tp("a", 0)], T0))).toBe("INVALID_PRODUCER_ID_MAPPING");
    const { producerId } = c.initProducerId({ transactionalId: "tx" }, T0);
    expect(codeOf(() => c.addPartitions("tx", producerId + 1, 0, [tp("a", 0)], T0))).toBe("INVALID_PRODUCER_ID_MAPPING");
    expect(codeOf(() => c.addPartitions("tx", producerId, 1, [tp("a", 0)], T0))).toBe("PRODUCER_FENCED"); // a future epoch too
  });
});

describe("TransactionCoordinator: timeouts", () => {
  it("aborts a transaction past transaction.timeout.ms, fencing its producer with TRANSACTION_ABORTED", () => {
    const c = coordinator();
    const a = c.initProducerId({ transactionalId: "tx", transactionTimeoutMs: 1000 }, T0);
    c.addPartitions("tx", a.producerId, 0, [tp("a", 0)], T0 + 100);
    expect(c.expire(T0 + 1100)).toEqual([]); // start + timeout is not yet past
    const [plan] = c.expire(T0 + 1101);
    expect(plan).toMatchObject({ transactionalId: "tx", commit: false, reason: "timeout", producerEpoch: 1, partitions: [tp("a", 0)] });
    expect(c.expire(T0 + 5000)).toEqual([]); // already aborting
    c.completeEnd("tx", T0 + 1200);
    expect(c.describe("tx", T0 + 1200).lastResult).toMatchObject({ commit: false, reason: "timeout" });
    expect(codeOf(() => c.addPartitions("tx", a.producerId, 0, [tp("a", 0)], T0))).toBe("TRANSACTION_ABORTED");
    expect(codeOf(() => c.prepareEnd("tx", a.producerId, 0, true, T0))).toBe("TRANSACTION_ABORTED");
    // KIP-360: the same producer may re-initialise with its old id/epoch and carry on
    expect(
      c.initProducerId({ transactionalId: "tx", producerId: a.producerId, producerEpoch: 0, transactionTimeoutMs: 1000 }, T0 + 1300),
    ).toMatchObject({
      producerId: a.producerId,
      producerEpoch: 2,
      abort: null,
    });
    expect(codeOf(() => c.addPartitions("tx", a.producerId, 0, [tp("a", 0)], T0))).toBe("PRODUCER_FENCED");
    expect(codeOf(() => c.initProducerId({ transactionalId: "tx", producerId: a.producerId, producerEpoch: 0 }, T0))).toBe(
      "PRODUCER_FENCED",
    );
    expect(codeOf(() => c.initProducerId({ transactionalId: "tx", producerId: 5, producerEpoch: 2 }, T0))).toBe(
      "INVALID_PRODUCER_ID_MAPPING",
    );
    expect(codeOf(() => c.initProducerId({ transactionalId: "new", producerId: 5, producerEpoch: 2 }, T0))).toBe(
      "INVALID_PRODUCER_ID_MAPPING",
    );
  });

  it("only Ongoing transactions time out; the clock starts at the first partition", () => {
    const c = coordinator({ defaultTransactionTimeoutMs: 50 });
    const { producerId } = c.initProducerId({ transactionalId: "tx" }, T0);
    expect(c.expire(T0 + 10_000)).toEqual([]);
    c.addPartitions("tx", producerId, 0, [tp("a", 0)], T0 + 10_000);
    expect(c.expire(T0 + 10_050)).toEqual([]);
    expect(c.expire(T0 + 10_051)).toHaveLength(1);
  });

  it("expires idle transactional ids after transactional.id.expiration.ms", () => {
    const c = coordinator({ transactionalIdExpirationMs: 1000 });
    const { producerId } = c.initProducerId({ transactionalId: "idle" }, T0);
    c.initProducerId({ transactionalId: "busy" }, T0);
    c.addPartitions("busy", producerId + 1, 0, [tp("a", 0)], T0);
    expect(c.expireTransactionalIds(T0 + 1000)).toEqual([]);
    expect(c.expireTransactionalIds(T0 + 1001)).toEqual(["idle"]);
    expect(c.list(T0 + 1001).map((t) => t.transactionalId)).toEqual(["busy"]);
    expect(codeOf(() => c.describe("idle", T0))).toBe("TRANSACTIONAL_ID_NOT_FOUND");
  });
});

describe("TransactionCoordinator: persistence and crash recovery", () => {
  it("restores from a JSON snapshot and finishes what was left: Prepare* redone, Ongoing aborted", () => {
    const c = coordinator();
    const a = c.initProducerId({ transactionalId: "committing" }, T0);
    c.addPartitions("committing", a.producerId, 0, [tp("x", 0)], T0);
    c.addOffsets("committing", a.producerId, 0, "g", [{ topic: "in", partition: 0, offset: 4, metadata: null }], T0);
    const commitPlan = c.prepareEnd("committing", a.producerId, 0, true, T0);
    const b = c.initProducerId({ transactionalId: "open" }, T0);
    c.addPartitions("open", b.producerId, 0, [tp("y", 1)], T0);
    c.initProducerId({ transactionalId: "idle" }, T0);
    const json = JSON.parse(JSON.stringify(c.snapshot()));

    const after = new TransactionCoordinator(counter(5000), { coordinatorEpoch: 1 });
    after.restore(json);
    expect(after.snapshot()).toEqual(c.snapshot());
    const plans = after.recover(T0 + 100);
    expect(plans).toHaveLength(2);
    expect(plans.find((p) => p.transactionalId === "committing")).toEqual({ ...commitPlan, coordinatorEpoch: 1 });
    expect(plans.find((p) => p.transactionalId === "open")).toMatchObject({
      commit: false,
      reason: "recovery",
      producerId: b.producerId,
      producerEpoch: 1,
      partitions: [tp("y", 1)],
    });
    for (const p of plans) after.completeEnd(p.transactionalId, T0 + 200, p);
    expect(after.list(T0 + 200).map((t) => [t.transactionalId, t.state])).toEqual([
      ["committing", "CompleteCommit"],
      ["idle", "Empty"],
      ["open", "CompleteAbort"],
    ]);
    // the producer of the aborted transaction is told so (it may re-initialise); an older epoch is fenced
    expect(codeOf(() => after.addPartitions("open", b.producerId, 0, [tp("y", 1)], T0))).toBe("TRANSACTION_ABORTED");
    expect(after.initProducerId({ transactionalId: "open", producerId: b.producerId, producerEpoch: 0 }, T0 + 250).producerEpoch).toBe(2);
    expect(codeOf(() => after.addPartitions("open", b.producerId, 0, [tp("y", 1)], T0))).toBe("PRODUCER_FENCED");
    expect(after.recover(T0 + 300)).toEqual([]);
  });

  it("puts an entry back when persisting a change failed", () => {
    const c = coordinator();
    const { producerId } = c.initProducerId({ transactionalId: "tx" }, T0);
    const before = c.entrySnapshot("tx");
    c.addPartitions("tx", producerId, 0, [tp("a", 0)], T0);
    c.replaceEntry("tx", before);
    expect(c.describe("tx", T0)).toMatchObject({ state: "Empty", partitions: [] });
    c.replaceEntry("tx", null);
    expect(c.entrySnapshot("tx")).toBeNull();
    expect(() => c.replaceEntry("other", before)).toThrow(TypeError);
  });

  it("refuses corrupt snapshots", () => {
    const c = coordinator();
    expect(() => c.restore({ version: 2 } as never)).toThrow(TypeError);
    const ok = {
      transactionalId: "t",
      producerId: 1,
      producerEpoch: 0,
      timeoutMs: 1000,
      state: "Empty",
      partitions: [],
      pendingOffsets: [],
      startedAt: null,
      lastUpdatedAt: 0,
      pendingEnd: null,
      fencedByTimeout: null,
      lastResult: null,
    };
    expect(() => c.restore({ version: 1, transactions: [{ ...ok, state: "Bogus" }] } as never)).toThrow(TypeError);
    expect(() => c.restore({ version: 1, transactions: [{ ...ok, state: "PrepareCommit" }] } as never)).toThrow(TypeError);
    expect(() => c.restore({ version: 1, transactions: [{ ...ok, producerEpoch: -1 }] } as never)).toThrow(TypeError);
    c.restore({ version: 1, transactions: [ok] } as never);
    expect(c.list(0)).toHaveLength(1);
  });
});

describe("TransactionCoordinator: bad inputs", () => {
  it.each([0, -5, 900_001, 1.5, Number.NaN, "100" as unknown as number])("initProducerId refuses timeout %s", (t) => {
    expect(codeOf(() => coordinator().initProducerId({ transactionalId: "tx", transactionTimeoutMs: t }, T0))).toBe(
      "INVALID_TRANSACTION_TIMEOUT",
    );
  });

  it("accepts the bounds of the timeout and defaults to 60 s", () => {
    const c = coordinator();
    c.initProducerId({ transactionalId: "a", transactionTimeoutMs: 1 }, T0);
    c.initProducerId({ transactionalId: "b", transactionTimeoutMs: 900_000 }, T0);
    c.initProducerId({ transactionalId: "c" }, T0);
    expect(c.list(T0).map((t) => t.timeoutMs)).toEqual([1, 900_000, 60_000]);
  });

  it.each<[string, (c: TransactionCoordinator) => unknown]>([
    ["an empty transactional id", (c) => c.initProducerId({ transactionalId: "" }, T0)],
    ["a non-string transactional id", (c) => c.initProducerId({ transactionalId: 7 as unknown as string }, T0)],
    ["a missing request", (c) => c.initProducerId(null as never, T0)],
    ["only half of a producer id/epoch", (c) => c.initProducerId({ transactionalId: "tx", producerId: 1 }, T0)],
    ["no partitions", (c) => c.addPartitions("tx", 1000, 0, [], T0)],
    ["a partition without topic", (c) => c.addPartitions("tx", 1000, 0, [{ topic: "", partition: 0 }], T0)],
    ["a negative partition", (c) => c.addPartitions("tx", 1000, 0, [tp("a", -1)], T0)],
    ["a fractional producer id", (c) => c.addPartitions("tx", 1.5, 0, [tp("a", 0)], T0)],
    ["an epoch beyond int16", (c) => c.addPartitions("tx", 1000, 40_000, [tp("a", 0)], T0)],
    ["an empty group id", (c) => c.addOffsets("tx", 1000, 0, "", [], T0)],
    ["offsets that are not an array", (c) => c.addOffsets("tx", 1000, 0, "g", {} as never, T0)],
    ["a negative offset", (c) => c.addOffsets("tx", 1000, 0, "g", [{ topic: "a", partition: 0, offset: -1, metadata: null }], T0)],
    ["non-string metadata", (c) => c.addOffsets("tx", 1000, 0, "g", [{ topic: "a", partition: 0, offset: 1, metadata: 5 as never }], T0)],
    ["a non-boolean commit", (c) => c.prepareEnd("tx", 1000, 0, "yes" as never, T0)],
  ])("refuses %s with INVALID_REQUEST", (_what, call) => {
    const c = coordinator();
    c.initProducerId({ transactionalId: "tx" }, T0);
    expect(codeOf(() => call(c))).toBe("INVALID_REQUEST");
  });

  it("completeEnd checks the id, the state and the plan", () => {
    const c = coordinator();
    expect(codeOf(() => c.completeEnd("nope", T0))).toBe("TRANSACTIONAL_ID_NOT_FOUND");
    const { producerId } = c.initProducerId({ transactionalId: "tx" }, T0);
    c.addPartitions("tx", producerId, 0, [tp("a", 0)], T0);
    expect(codeOf(() => c.completeEnd("tx", T0))).toBe("INVALID_TXN_STATE");
    const plan = c.prepareEnd("tx", producerId, 0, false, T0);
    expect(codeOf(() => c.completeEnd("tx", T0, { ...plan, commit: true }))).toBe("INVALID_TXN_STATE");
    expect(c.completeEnd("tx", T0, plan).state).toBe("CompleteAbort");
  });

  it("refuses a bad configuration or allocator", () => {
    expect(() => coordinator({ maxTransactionTimeoutMs: 0 })).toThrow(RangeError);
    expect(() => coordinator({ defaultTransactionTimeoutMs: 1000, maxTransactionTimeoutMs: 500 })).toThrow(RangeError);
    expect(() => coordinator({ coordinatorEpoch: -1 })).toThrow(RangeError);
    expect(() => coordinator({ transactionalIdExpirationMs: 0 })).toThrow(RangeError);
    const bad = new TransactionCoordinator({ next: () => -3 });
    expect(() => bad.initProducerId({}, T0)).toThrow(/allocator/);
  });
});
