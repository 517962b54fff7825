import { describe, expect, it } from "vitest";
import { encodeRecordBatch, readBatchHeader } from "../protocol/record-batch.ts";
import { batchMetaOf, incrementSequence, inSequence, INT32_MAX, ProducerStateManager, type BatchMeta } from "./producer-state.ts";
import { isTxnError } from "../errors.ts";

const NOW = 1_000_000;

function meta(producerId: number, producerEpoch: number, baseSequence: number, count = 1, isTransactional = false): BatchMeta {
  return { producerId, producerEpoch, baseSequence, lastSequence: incrementSequence(baseSequence, count - 1), isTransactional };
}

const marker = (producerId: number, producerEpoch: number, commit = true, coordinatorEpoch = 0): BatchMeta => ({
  producerId,
  producerEpoch,
  baseSequence: -1,
  lastSequence: -1,
  isTransactional: true,
  marker: { commit, coordinatorEpoch },
});

/** A tiny log: appends what the manager accepts, at the next offsets. */
class Log {
  next = 0;
  constructor(readonly psm = new ProducerStateManager()) {}
  produce(m: BatchMeta, count = m.marker ? 1 : ((m.lastSequence - m.baseSequence + 2 ** 31) % 2 ** 31) + 1) {
    const d = this.psm.checkAndPlan(m);
    if (d.kind === "duplicate") return { ...d };
    const base = this.next;
    this.next += count;
    this.psm.onAppended(m, base, this.next - 1, NOW);
    return { kind: "append" as const, baseOffset: base, lastOffset: this.next - 1 };
  }
}

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    if (!isTxnError(e)) throw e;
    expect(e.code).toBe(code);
    expect(e.retriable).toBe(false);
    return;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

describe("sequence arithmetic", () => {
  it("wraps from Int32.MAX to 0 like Kafka's incrementSequence", () => {
    expect(incrementSequence(5, 3)).toBe(8);
    expect(incrementSequence(INT32_MAX, 1)).toBe(0);
    expect(incrementSequence(INT32_MAX - 1, 3)).toBe(1);
    expect(inSequence(-1, 0)).toBe(true);
    expect(inSequence(4, 5)).toBe(true);
    expect(inSequence(INT32_MAX, 0)).toBe(true);
    expect(inSequence(4, 6)).toBe(false);
    expect(inSequence(4, 4)).toBe(false);
  });

  it("batchMetaOf reads producer fields from a batch header", () => {
    const b = encodeRecordBatch({
      baseOffset: 0,
      producerId: 9,
      producerEpoch: 2,
      baseSequence: INT32_MAX,
      isTransactional: true,
      records: [0, 1, 2].map((i) => ({ key: null, value: Buffer.from([i]), headers: [], timestamp: 1 })),
    });
    expect(batchMetaOf(readBatchHeader(b))).toEqual({
      producerId: 9,
      producerEpoch: 2,
      baseSequence: INT32_MAX,
      lastSequence: 1,
      isTransactional: true,
      marker: undefined,
    });
  });
});

describe("ProducerStateManager: idempotence", () => {
  it("appends in-sequence batches and answers a retry with the original offsets, writing nothing", () => {
    const log = new Log();
    expect(log.produce(meta(1, 0, 0, 3))).toEqual({ kind: "append", baseOffset: 0, lastOffset: 2 });
    expect(log.produce(meta(1, 0, 3, 2))).toEqual({ kind: "append", baseOffset: 3, lastOffset: 4 });
    expect(log.produce(meta(1, 0, 0, 3))).toEqual({ kind: "duplicate", baseOffset: 0, lastOffset: 2 });
    expect(log.produce(meta(1, 0, 3, 2))).toEqual({ kind: "duplicate", baseOffset: 3, lastOffset: 4 });
    expect(log.next).toBe(5);
  });

  it("remembers the last 5 batches: an older retry is DUPLICATE_SEQUENCE_NUMBER, never a second copy", () => {
    const log = new Log();
    for (let s = 0; s < 7; s++) log.produce(meta(1, 0, s));
    expect(log.produce(meta(1, 0, 2))).toEqual({ kind: "duplicate", baseOffset: 2, lastOffset: 2 });
    expectCode(() => log.produce(meta(1, 0, 1)), "DUPLICATE_SEQUENCE_NUMBER");
    expectCode(() => log.produce(meta(1, 0, 0)), "DUPLICATE_SEQUENCE_NUMBER");
    expect(log.next).toBe(7);
  });

  it("refuses a gap or an overlap with OUT_OF_ORDER_SEQUENCE_NUMBER", () => {
    const log = new Log();
    log.produce(meta(1, 0, 0, 2));
    expectCode(() => log.produce(meta(1, 0, 3)), "OUT_OF_ORDER_SEQUENCE_NUMBER");
    expectCode(() => log.produce(meta(1, 0, 1, 3)), "OUT_OF_ORDER_SEQUENCE_NUMBER");
    expect(log.produce(meta(1, 0, 2)).kind).toBe("append");
  });

  it("an unknown producer must start at sequence 0", () => {
    const log = new Log();
    expectCode(() => log.produce(meta(8, 0, 5)), "UNKNOWN_PRODUCER_ID");
    expect(log.produce(meta(8, 0, 0)).kind).toBe("append");
  });

  it("fences an older epoch and makes a newer epoch start at 0", () => {
    const log = new Log();
    log.produce(meta(1, 0, 0));
    log.produce(meta(1, 0, 1));
    expectCode(() => log.produce(meta(1, 1, 2)), "OUT_OF_ORDER_SEQUENCE_NUMBER");
    expect(log.produce(meta(1, 1, 0)).kind).toBe("append");
    expectCode(() => log.produce(meta(1, 0, 2)), "INVALID_PRODUCER_EPOCH");
    // a retry of an old-epoch batch is no duplicate any more either
    expectCode(() => log.produce(meta(1, 0, 1)), "INVALID_PRODUCER_EPOCH");
  });

  it("continues across the Int32.MAX wrap", () => {
    const psm = ProducerStateManager.restore({
      version: 1,
      producers: [
        {
          producerId: 1,
          producerEpoch: 0,
          coordinatorEpoch: -1,
          lastTimestamp: 0,
          currentTxnFirstOffset: null,
          batches: [{ firstSeq: INT32_MAX - 4, lastSeq: INT32_MAX - 1, baseOffset: 0, lastOffset: 3, timestamp: 0 }],
        },
      ],
    });
    const log = new Log(psm);
    log.next = 4;
    expect(log.produce(meta(1, 0, INT32_MAX, 3))).toEqual({ kind: "append", baseOffset: 4, lastOffset: 6 });
    expect(log.produce(meta(1, 0, 2, 1))).toEqual({ kind: "append", baseOffset: 7, lastOffset: 7 });
    expect(log.produce(meta(1, 0, INT32_MAX, 3))).toEqual({ kind: "duplicate", baseOffset: 4, lastOffset: 6 });
    expect(log.produce(meta(1, 0, INT32_MAX - 4, 4))).toEqual({ kind: "duplicate", baseOffset: 0, lastOffset: 3 });
    expectCode(() => log.produce(meta(1, 0, 5)), "OUT_OF_ORDER_SEQUENCE_NUMBER");
    for (let s = 3; s < 8; s++) log.produce(meta(1, 0, s));
    // pushed out of the last 5, on the far side of the wrap: still recognised as already written
    expectCode(() => log.produce(meta(1, 0, INT32_MAX, 3)), "DUPLICATE_SEQUENCE_NUMBER");
    expectCode(() => log.produce(meta(1, 0, INT32_MAX - 4, 4)), "DUPLICATE_SEQUENCE_NUMBER");
    expectCode(() => log.produce(meta(1, 0, 9)), "OUT_OF_ORDER_SEQUENCE_NUMBER");
  });

  it("never checks batches without a producer id", () => {
    const log = new Log();
    const anon: BatchMeta = { producerId: -1, producerEpoch: -1, baseSequence: -1, lastSequence: -1, isTransactional: false };
    expect(log.produce(anon, 2).kind).toBe("append");
    expect(log.produce(anon, 2).kind).toBe("append");
    expect(log.psm.size).toBe(0);
  });

  it.each<[string, BatchMeta]>([
    ["a fractional producer id", { producerId: 1.5, producerEpoch: 0, baseSequence: 0, lastSequence: 0, isTransactional: false }],
    ["producer id below -1", { producerId: -2, producerEpoch: 0, baseSequence: 0, lastSequence: 0, isTransactional: false }],
    [
      "a transactional batch without producer",
      { producerId: -1, producerEpoch: -1, baseSequence: -1, lastSequence: -1, isTransactional: true },
    ],
    ["a negative epoch", { producerId: 1, producerEpoch: -1, baseSequence: 0, lastSequence: 0, isTransactional: false }],
    ["an epoch beyond int16", { producerId: 1, producerEpoch: 40000, baseSequence: 0, lastSequence: 0, isTransactional: false }],
    ["no sequence with a producer id", { producerId: 1, producerEpoch: 0, baseSequence: -1, lastSequence: -1, isTransactional: false }],
    ["a sequence beyond int32", { producerId: 1, producerEpoch: 0, baseSequence: 2 ** 31, lastSequence: 2 ** 31, isTransactional: false }],
    [
      "a non-transactional marker",
      {
        producerId: 1,
        producerEpoch: 0,
        baseSequence: -1,
        lastSequence: -1,
        isTransactional: false,
        marker: { commit: true, coordinatorEpoch: 0 },
      },
    ],
    ["a negative coordinator epoch", { ...marker(1, 0), marker: { commit: true, coordinatorEpoch: -1 } }],
  ])("rejects %s as INVALID_RECORD", (_what, m) => {
    expectCode(() => new ProducerStateManager().checkAndPlan(m), "INVALID_RECORD");
  });
});

describe("ProducerStateManager: transactions and markers", () => {
  it("tracks the open transaction; a non-transactional batch inside it is INVALID_TXN_STATE", () => {
    const log = new Log();
    log.produce(meta(1, 0, 0, 2, true));
    log.produce(meta(1, 0, 2, 1, true));
    expect(log.psm.currentTxnFirstOffset(1)).toBe(0);
    expectCode(() => log.produce(meta(1, 0, 3, 1, false)), "INVALID_TXN_STATE");
    log.produce(marker(1, 0));
    expect(log.psm.currentTxnFirstOffset(1)).toBeNull();
    // markers keep the epoch: sequences continue into the next transaction (Kafka before KIP-890)
    expect(log.produce(meta(1, 0, 3, 1, false))).toEqual({ kind: "append", baseOffset: 4, lastOffset: 4 });
  });

  it("a marker with a bumped epoch fences the old epoch and restarts sequences at 0", () => {
    const log = new Log();
    log.produce(meta(1, 4, 0, 1, true));
    log.produce(marker(1, 5, false));
    expectCode(() => log.produce(meta(1, 4, 1, 1, true)), "INVALID_PRODUCER_EPOCH");
    expectCode(() => log.produce(meta(1, 5, 1, 1, true)), "OUT_OF_ORDER_SEQUENCE_NUMBER");
    expect(log.produce(meta(1, 5, 0, 1, true)).kind).toBe("append");
  });

  it("refuses markers with an older producer epoch or coordinator epoch", () => {
    const log = new Log();
    log.produce(meta(1, 3, 0, 1, true));
    log.produce(marker(1, 3, true, 7));
    expectCode(() => log.produce(marker(1, 2)), "INVALID_PRODUCER_EPOCH");
    expectCode(() => log.produce(marker(1, 3, true, 6)), "TRANSACTION_COORDINATOR_FENCED");
    expect(log.produce(marker(1, 3, true, 7)).kind).toBe("append"); // a redone marker is fine
  });

  it("bumpEpoch fences without a marker and only ever raises", () => {
    const log = new Log();
    log.produce(meta(1, 0, 0));
    log.psm.bumpEpoch(1, 2, NOW);
    log.psm.bumpEpoch(1, 1, NOW);
    expect(log.psm.producerEpoch(1)).toBe(2);
    expectCode(() => log.produce(meta(1, 0, 1)), "INVALID_PRODUCER_EPOCH");
    expect(log.produce(meta(1, 2, 0)).kind).toBe("append");
    expectCode(() => log.psm.bumpEpoch(1, -3, NOW), "INVALID_REQUEST");
  });

  it("lists producers and expires idle ones without an open transaction", () => {
    const psm = new ProducerStateManager();
    psm.onAppended(meta(1, 0, 0, 2), 0, 1, 100);
    psm.onAppended(meta(2, 3, 0, 1, true), 2, 2, 200);
    expect(psm.producers()).toEqual([
      { producerId: 1, producerEpoch: 0, lastSequence: 1, lastTimestamp: 100, coordinatorEpoch: -1, currentTxnStartOffset: null },
      { producerId: 2, producerEpoch: 3, lastSequence: 0, lastTimestamp: 200, coordinatorEpoch: -1, currentTxnStartOffset: 2 },
    ]);
    expect(psm.expireProducers(10_000, 1000)).toEqual([1]);
    expect(psm.producers().map((p) => p.producerId)).toEqual([2]);
  });
});

describe("ProducerStateManager: group-commit plans", () => {
  it("checks each batch against the tentative state of the ones before it, then commits their offsets", () => {
    const psm = new ProducerStateManager();
    const plan = psm.beginPlan();
    expect(plan.add([meta(1, 0, 0, 2)])).toEqual([{ kind: "append", slot: 0 }]);
    expect(plan.add([meta(2, 0, 0)])).toEqual([{ kind: "append", slot: 1 }]);
    expect(plan.add([meta(1, 0, 2), meta(1, 0, 3)])).toEqual([
      { kind: "append", slot: 2 },
      { kind: "append", slot: 3 },
    ]);
    // a retry of a batch in this same commit resolves to that slot's offsets
    expect(plan.add([meta(1, 0, 0, 2)])).toEqual([{ kind: "duplicate-pending", slot: 0 }]);
    expect(plan.size).toBe(4);
    plan.commit(
      [
        { baseOffset: 10, lastOffset: 11 },
        { baseOffset: 12, lastOffset: 12 },
        { baseOffset: 13, lastOffset: 13 },
        { baseOffset: 14, lastOffset: 14 },
      ],
      NOW,
    );
    expect(psm.checkAndPlan(meta(1, 0, 0, 2))).toEqual({ kind: "duplicate", baseOffset: 10, lastOffset: 11 });
    expect(psm.checkAndPlan(meta(1, 0, 4)).kind).toBe("append");
  });

  it("plans one caller's batches all or nothing", () => {
    const psm = new ProducerStateManager();
    const plan = psm.beginPlan();
    expect(() => plan.add([meta(1, 0, 0), meta(1, 0, 5)])).toThrow(expect.objectContaining({ code: "OUT_OF_ORDER_SEQUENCE_NUMBER" }));
    expect(plan.size).toBe(0);
    // the failed caller's first batch left no trace: a new producer still starts at 0
    expect(plan.add([meta(1, 0, 0)])).toEqual([{ kind: "append", slot: 0 }]);
    plan.commit([{ baseOffset: 0, lastOffset: 0 }], NOW);
  });

  it("rolls back: nothing of a failed database commit remains", () => {
    const psm = new ProducerStateManager();
    psm.onAppended(meta(1, 0, 0), 0, 0, NOW);
    const plan = psm.beginPlan();
    plan.add([meta(1, 0, 1), meta(1, 0, 2)]);
    plan.rollback();
    expect(psm.checkAndPlan(meta(1, 0, 1)).kind).toBe("append");
    expect(() => plan.add([meta(1, 0, 1)])).toThrow(/closed/);
  });

  it("allows one plan at a time and no direct changes while it is open", () => {
    const psm = new ProducerStateManager();
    const plan = psm.beginPlan();
    expect(() => psm.beginPlan()).toThrow(/plan is open/);
    expect(() => psm.checkAndPlan(meta(1, 0, 0))).toThrow(/plan is open/);
    expect(() => psm.onAppended(meta(1, 0, 0), 0, 0, NOW)).toThrow(/plan is open/);
    expect(() => plan.commit([{ baseOffset: 0, lastOffset: 0 }], NOW)).toThrow(/0 batches/);
    plan.rollback();
    expect(() => psm.beginPlan().rollback()).not.toThrow();
  });

  it("a marker in the plan closes the transaction for the batches after it", () => {
    const psm = new ProducerStateManager();
    psm.onAppended(meta(1, 0, 0, 1, true), 0, 0, NOW);
    const plan = psm.beginPlan();
    expect(() => plan.add([meta(1, 0, 1)])).toThrow(expect.objectContaining({ code: "INVALID_TXN_STATE" }));
    plan.add([marker(1, 1, false)]);
    expect(() => plan.add([meta(1, 0, 1)])).toThrow(expect.objectContaining({ code: "INVALID_PRODUCER_EPOCH" }));
    expect(plan.add([meta(1, 1, 0)])).toEqual([{ kind: "append", slot: 1 }]);
    plan.commit(
      [
        { baseOffset: 1, lastOffset: 1 },
        { baseOffset: 2, lastOffset: 2 },
      ],
      NOW,
    );
    expect(psm.producers()[0]).toMatchObject({ producerEpoch: 1, lastSequence: 0, currentTxnStartOffset: null });
  });
});

describe("ProducerStateManager: snapshot and replay", () => {
  it("snapshot → JSON → restore gives the same answers", () => {
    const log = new Log();
    for (let s = 0; s < 8; s++) log.produce(meta(1, 0, s, 1, s >= 6));
    log.produce(meta(2, 5, 0, 3));
    const json = JSON.parse(JSON.stringify(log.psm.snapshot()));
    const restored = ProducerStateManager.restore(json);
    expect(restored.snapshot()).toEqual(log.psm.snapshot());
    expect(restored.checkAndPlan(meta(1, 0, 5))).toEqual({ kind: "duplicate", baseOffset: 5, lastOffset: 5 });
    expect(restored.currentTxnFirstOffset(1)).toBe(6);
  });

  it("replaying record_batches columns rebuilds the state", () => {
    const rows = [
      {
        producerId: 1,
        producerEpoch: 0,
        baseSequence: 0,
        baseOffset: 0,
        lastOffset: 2,
        isTransactional: false,
        isControl: false,
        maxTimestamp: 10,
      },
      {
        producerId: -1,
        producerEpoch: -1,
        baseSequence: -1,
        baseOffset: 3,
        lastOffset: 3,
        isTransactional: false,
        isControl: false,
        maxTimestamp: 11,
      },
      {
        producerId: 1,
        producerEpoch: 0,
        baseSequence: 3,
        baseOffset: 4,
        lastOffset: 4,
        isTransactional: true,
        isControl: false,
        maxTimestamp: 12,
      },
      {
        producerId: 1,
        producerEpoch: 1,
        baseSequence: -1,
        baseOffset: 5,
        lastOffset: 5,
        isTransactional: true,
        isControl: true,
        maxTimestamp: 13,
        marker: { commit: false, coordinatorEpoch: 2 },
      },
      {
        producerId: 2,
        producerEpoch: 0,
        baseSequence: 0,
        baseOffset: 6,
        lastOffset: 7,
        isTransactional: true,
        isControl: false,
        maxTimestamp: 14,
      },
    ];
    const psm = new ProducerStateManager();
    psm.replay(rows);
    expect(psm.producers()).toEqual([
      { producerId: 1, producerEpoch: 1, lastSequence: -1, lastTimestamp: 13, coordinatorEpoch: 2, currentTxnStartOffset: null },
      { producerId: 2, producerEpoch: 0, lastSequence: 1, lastTimestamp: 14, coordinatorEpoch: -1, currentTxnStartOffset: 6 },
    ]);
    expect(psm.checkAndPlan(meta(2, 0, 0, 2, true))).toEqual({ kind: "duplicate", baseOffset: 6, lastOffset: 7 });
  });

  it("refuses a corrupt snapshot", () => {
    expect(() => ProducerStateManager.restore({ version: 2 } as never)).toThrow(TypeError);
    expect(() => ProducerStateManager.restore({ version: 1, producers: [{ producerId: -5 }] } as never)).toThrow(TypeError);
  });
});
