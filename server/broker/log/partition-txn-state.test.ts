import { describe, expect, it } from "vitest";
import { encodeRecordBatch, readBatchHeader } from "../protocol/record-batch.ts";
import type { BatchToAppend } from "../store/log-store.ts";
import { endTxnMarkerBatchToAppend } from "../protocol/control-records.ts";
import { batchMetaOfAppend, PartitionTxnState, type ReplayedBatch } from "./partition-txn-state.ts";

const T = 1_700_000_000_000;

function dataBatch(producerId: number, producerEpoch: number, baseSequence: number, n: number, isTransactional: boolean): BatchToAppend {
  const payload = encodeRecordBatch({
    baseOffset: 0,
    producerId,
    producerEpoch,
    baseSequence,
    isTransactional,
    records: Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.from([i]), headers: [], timestamp: T })),
  });
  const h = readBatchHeader(payload);
  return {
    payload,
    recordCount: n,
    lastOffsetDelta: h.lastOffsetDelta,
    firstTimestamp: T,
    maxTimestamp: T,
    producerId,
    producerEpoch,
    baseSequence,
    isTransactional,
    isControl: false,
  };
}

/** A partition log in miniature: group commits through the plan, as PartitionLog.flush would. */
class MiniLog {
  next = 0;
  rows: ReplayedBatch[] = [];
  constructor(public state = new PartitionTxnState()) {}

  commit(requests: BatchToAppend[][], dbFails = false) {
    const plan = this.state.beginAppend();
    const answers = requests.map((batches) => {
      try {
        return plan.add(batches.map(batchMetaOfAppend));
      } catch (e) {
        return e as Error;
      }
    });
    const toWrite: BatchToAppend[] = [];
    for (let r = 0; r < requests.length; r++) {
      const a = answers[r];
      if (a instanceof Error) continue;
      a.forEach((p, i) => {
        if (p.kind === "append") toWrite[p.slot] = requests[r][i];
      });
    }
    if (dbFails) {
      plan.rollback();
      return { answers, ranges: [], completed: [] };
    }
    const ranges = toWrite.map((b) => {
      const base = this.next;
      this.next += b.lastOffsetDelta + 1;
      const h = readBatchHeader(b.payload);
      this.rows.push({ ...b, baseOffset: base, lastOffset: base + b.lastOffsetDelta, payload: b.payload, maxTimestamp: h.maxTimestamp });
      return { baseOffset: base, lastOffset: base + b.lastOffsetDelta };
    });
    const completed = plan.commit(ranges, T);
    return { answers, ranges, completed };
  }
}

describe("PartitionTxnState", () => {
  it("feeds producer state and transaction index from one group commit", () => {
    const log = new MiniLog();
    const r = log.commit([[dataBatch(1, 0, 0, 2, true)], [dataBatch(2, 0, 0, 1, false)], [dataBatch(3, 0, 0, 3, true)]]);
    expect(r.ranges).toEqual([
      { baseOffset: 0, lastOffset: 1 },
      { baseOffset: 2, lastOffset: 2 },
      { baseOffset: 3, lastOffset: 5 },
    ]);
    expect(log.state.lastStableOffset(6)).toBe(0);
    const m = log.commit([
      [endTxnMarkerBatchToAppend({ producerId: 1, producerEpoch: 0, commit: false, coordinatorEpoch: 0, timestamp: T })],
      [dataBatch(1, 0, 0, 2, true)],
    ]);
    // the retry of producer 1's first batch is recognised although a marker now follows it
    expect(m.answers[1]).toEqual([{ kind: "duplicate", baseOffset: 0, lastOffset: 1 }]);
    expect(m.completed).toEqual([{ producerId: 1, firstOffset: 0, lastOffset: 6, commit: false }]);
    expect(log.state.lastStableOffset(7)).toBe(3);
    expect(log.state.isAborted(1, 0)).toBe(true);
    expect(log.state.describe()).toEqual({
      producers: [
        { producerId: 1, producerEpoch: 0, lastSequence: 1, lastTimestamp: T, coordinatorEpoch: 0, currentTxnStartOffset: null },
        { producerId: 2, producerEpoch: 0, lastSequence: 0, lastTimestamp: T, coordinatorEpoch: -1, currentTxnStartOffset: null },
        { producerId: 3, producerEpoch: 0, lastSequence: 2, lastTimestamp: T, coordinatorEpoch: -1, currentTxnStartOffset: 3 },
      ],
      openTransactions: [{ producerId: 3, firstOffset: 3, lastOffset: 5 }],
    });
    expect(log.state.nextOffset).toBe(7);
  });

  it("a refused request leaves the others of the group commit alone; a failed commit leaves no trace", () => {
    const log = new MiniLog();
    const r = log.commit([[dataBatch(1, 0, 0, 1, true)], [dataBatch(2, 0, 4, 1, false)], [dataBatch(3, 0, 0, 1, false)]]);
    expect((r.answers[1] as { code?: string }).code).toBe("UNKNOWN_PRODUCER_ID");
    expect(r.ranges).toHaveLength(2);
    log.commit([[dataBatch(3, 0, 1, 1, true)]], true);
    expect(log.state.lastStableOffset(2)).toBe(0);
    expect(log.state.index.openTransaction(3)).toBeNull();
    expect(log.commit([[dataBatch(3, 0, 1, 1, false)]]).answers[0]).toEqual([{ kind: "append", slot: 0 }]);
  });

  it("refuses control batches that are not end-transaction markers", () => {
    const bogus: BatchToAppend = { ...dataBatch(1, 0, 0, 1, true), isControl: true };
    bogus.payload = encodeRecordBatch({
      baseOffset: 0,
      isControl: true,
      isTransactional: true,
      producerId: 1,
      producerEpoch: 0,
      records: [{ key: Buffer.from("00000002", "hex"), value: null, headers: [], timestamp: T }],
    });
    expect(() => batchMetaOfAppend(bogus)).toThrow(expect.objectContaining({ code: "INVALID_RECORD" }));
  });

  it("rebuilds from stored rows (control payloads decoded) and from snapshots", () => {
    const log = new MiniLog();
    log.commit([[dataBatch(1, 0, 0, 2, true)], [dataBatch(2, 0, 0, 1, true)]]);
    log.commit([[endTxnMarkerBatchToAppend({ producerId: 1, producerEpoch: 1, commit: false, coordinatorEpoch: 3, timestamp: T })]]);
    log.commit([[dataBatch(1, 1, 0, 1, false)], [dataBatch(4, 0, 0, 1, false)]]);
    const rebuilt = PartitionTxnState.rebuild(log.rows);
    expect(rebuilt.snapshot()).toEqual(log.state.snapshot());
    const restored = PartitionTxnState.restore(JSON.parse(JSON.stringify(log.state.snapshot())));
    expect(restored.snapshot()).toEqual(log.state.snapshot());
    // the restored state keeps fencing and deduplicating
    const again = new MiniLog(restored);
    again.next = log.next;
    const r = again.commit([[dataBatch(1, 0, 2, 1, true)], [dataBatch(1, 1, 0, 1, false)], [dataBatch(2, 0, 1, 1, true)]]);
    expect((r.answers[0] as { code?: string }).code).toBe("INVALID_PRODUCER_EPOCH");
    expect(r.answers[1]).toEqual([{ kind: "duplicate", baseOffset: 4, lastOffset: 4 }]);
    expect(r.answers[2]).toEqual([{ kind: "append", slot: 0 }]);
    expect(() => PartitionTxnState.rebuild([{ ...log.rows[2], payload: undefined }])).toThrow(/payload/);
    // rows without a producer id may be skipped by the scan; the caller passes the end it read to
    const scanned = PartitionTxnState.rebuild(log.rows.slice(0, 2), 0, 40);
    expect(scanned.nextOffset).toBe(40);
    expect(scanned.lastStableOffset(40)).toBe(0);
    expect(() => PartitionTxnState.restore({ version: 3 } as never)).toThrow(TypeError);
  });

  it("retention moves the log start of the index", () => {
    const log = new MiniLog();
    log.commit([[dataBatch(1, 0, 0, 1, true)]]);
    log.commit([[endTxnMarkerBatchToAppend({ producerId: 1, producerEpoch: 0, commit: false, coordinatorEpoch: 0, timestamp: T })]]);
    log.state.truncateBefore(2);
    expect(log.state.index.abortedCount).toBe(0);
    expect(log.state.lastStableOffset(2)).toBe(2);
  });
});
