import { describe, expect, it } from "vitest";
import { rng } from "../../testing/prng.ts";
import { PartitionTxnIndex, type AbortedTxn } from "./partition-txn-index.ts";

describe("PartitionTxnIndex", () => {
  it("holds the last stable offset at the oldest open transaction", () => {
    const ix = new PartitionTxnIndex();
    expect(ix.lastStableOffset(0)).toBe(0);
    ix.onAppend(0, 4); // non-transactional
    expect(ix.lastStableOffset(5)).toBe(5);
    ix.onTransactionalAppend(1, 5, 6);
    ix.onTransactionalAppend(2, 7, 7);
    ix.onTransactionalAppend(1, 8, 9);
    expect(ix.lastStableOffset(10)).toBe(5);
    expect(ix.openTransactions()).toEqual([
      { producerId: 1, firstOffset: 5, lastOffset: 9 },
      { producerId: 2, firstOffset: 7, lastOffset: 7 },
    ]);
    expect(ix.onMarker(1, 10, true)).toEqual({ producerId: 1, firstOffset: 5, lastOffset: 10, commit: true });
    expect(ix.lastStableOffset(11)).toBe(7);
    expect(ix.onMarker(2, 11, false)).toEqual({ producerId: 2, firstOffset: 7, lastOffset: 11, commit: false });
    expect(ix.lastStableOffset(12)).toBe(12);
    expect(ix.openTransaction(1)).toBeNull();
  });

  it("indexes aborted transactions for read_committed readers", () => {
    const ix = new PartitionTxnIndex();
    ix.onTransactionalAppend(1, 0, 1);
    ix.onTransactionalAppend(2, 2, 2);
    ix.onMarker(1, 3, false); // aborted 0..3
    ix.onTransactionalAppend(1, 4, 4);
    ix.onMarker(2, 5, true);
    ix.onMarker(1, 6, false); // aborted 4..6
    expect(ix.isAborted(1, 0)).toBe(true);
    expect(ix.isAborted(1, 4)).toBe(true);
    expect(ix.isAborted(2, 2)).toBe(false);
    expect(ix.isAborted(3, 0)).toBe(false);
    expect(ix.isAborted(1, 7)).toBe(false);
    expect(ix.abortedRanges(0, 10)).toEqual([
      { producerId: 1, firstOffset: 0, lastOffset: 3 },
      { producerId: 1, firstOffset: 4, lastOffset: 6 },
    ]);
    expect(ix.abortedRanges(4, 10)).toEqual([{ producerId: 1, firstOffset: 4, lastOffset: 6 }]);
    expect(ix.abortedRanges(0, 2)).toEqual([{ producerId: 1, firstOffset: 0, lastOffset: 3 }]);
    expect(ix.abortedRanges(7, 10)).toEqual([]);
  });

  it("ignores a marker for a producer with no data here", () => {
    const ix = new PartitionTxnIndex();
    expect(ix.onMarker(5, 0, false)).toBeNull();
    expect(ix.abortedCount).toBe(0);
    expect(ix.lastStableOffset(1)).toBe(1);
  });

  it("drops aborted transactions below the log start; the LSO never falls below it", () => {
    const ix = new PartitionTxnIndex();
    ix.onTransactionalAppend(1, 0, 0);
    ix.onMarker(1, 1, false);
    ix.onTransactionalAppend(2, 2, 2);
    ix.onMarker(2, 3, false);
    ix.onTransactionalAppend(3, 4, 4); // open
    ix.truncateBefore(2);
    expect(ix.abortedRanges(0, 10)).toEqual([{ producerId: 2, firstOffset: 2, lastOffset: 3 }]);
    expect(ix.isAborted(1, 0)).toBe(false);
    ix.truncateBefore(6);
    expect(ix.abortedCount).toBe(0);
    expect(ix.lastStableOffset(7)).toBe(6);
    ix.truncateBefore(3); // never moves back
    expect(ix.logStartOffset).toBe(6);
  });

  it("refuses offsets out of order and bad input", () => {
    const ix = new PartitionTxnIndex();
    ix.onTransactionalAppend(1, 0, 3);
    expect(() => ix.onTransactionalAppend(2, 2, 2)).toThrow(RangeError);
    expect(() => ix.onMarker(1, 3, true)).toThrow(RangeError);
    expect(() => ix.onTransactionalAppend(-1, 4, 4)).toThrow(RangeError);
    expect(() => ix.onTransactionalAppend(1, 5, 4)).toThrow(RangeError);
    expect(() => ix.onAppend(1.5, 2)).toThrow(RangeError);
    expect(() => new PartitionTxnIndex(-1)).toThrow(RangeError);
  });

  it("rebuilds from a log scan and round-trips snapshots", () => {
    const rows = [
      { producerId: 1, baseOffset: 0, lastOffset: 1, isTransactional: true, isControl: false },
      { producerId: -1, baseOffset: 2, lastOffset: 2, isTransactional: false, isControl: false },
      { producerId: 2, baseOffset: 3, lastOffset: 3, isTransactional: true, isControl: false },
      { producerId: 1, baseOffset: 4, lastOffset: 4, isTransactional: true, isControl: true, commit: false },
      { producerId: 3, baseOffset: 5, lastOffset: 5, isTransactional: true, isControl: false },
    ];
    const ix = PartitionTxnIndex.rebuild(rows);
    expect(ix.lastStableOffset(6)).toBe(3);
    expect(ix.isAborted(1, 1)).toBe(true);
    const snap = JSON.parse(JSON.stringify(ix.snapshot()));
    const back = PartitionTxnIndex.restore(snap);
    expect(back.snapshot()).toEqual(ix.snapshot());
    expect(() => back.onTransactionalAppend(4, 5, 5)).toThrow(RangeError); // resumes after the snapshot's end
    back.onMarker(2, 6, true);
    expect(back.lastStableOffset(7)).toBe(5);
    expect(() =>
      PartitionTxnIndex.restore({ version: 1, logStartOffset: 0, open: [], aborted: [{ producerId: 1, firstOffset: 5, lastOffset: 2 }] }),
    ).toThrow(TypeError);
    expect(() => PartitionTxnIndex.restore({ version: 7 } as never)).toThrow(TypeError);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: random interleavings of transactional appends, commits and aborts of several
// producers, non-transactional appends, retention, snapshots and rebuilds.

interface LogBatch {
  producerId: number;
  baseOffset: number;
  lastOffset: number;
  isTransactional: boolean;
  isControl: boolean;
  commit?: boolean;
  /** The transaction a transactional data batch belongs to. */
  txn?: number;
}

/** What Kafka's consumer does with a fetch response's aborted transactions (CompletedFetch). */
function clientReadCommitted(batches: LogBatch[], aborted: AbortedTxn[]): number[] {
  const queue = [...aborted].sort((a, b) => a.firstOffset - b.firstOffset);
  const abortedProducers = new Set<number>();
  const out: number[] = [];
  for (const b of batches) {
    if (b.producerId >= 0) {
      while (queue.length > 0 && queue[0].firstOffset <= b.lastOffset) abortedProducers.add((queue.shift() as AbortedTxn).producerId);
      if (b.isControl) {
        if (b.commit === false) abortedProducers.delete(b.producerId);
        continue;
      }
      if (b.isTransactional && abortedProducers.has(b.producerId)) continue;
    }
    if (!b.isControl) for (let o = b.baseOffset; o <= b.lastOffset; o++) out.push(o);
  }
  return out;
}

const PROPERTY_SEEDS = Number(process.env.TXN_PROPERTY_SEEDS ?? 150);

describe("PartitionTxnIndex (property)", () => {
  it(`read_committed sees exactly the committed records, over ${PROPERTY_SEEDS} seeded runs`, () => {
    for (let seed = 1; seed <= PROPERTY_SEEDS; seed++) {
      const rand = rng(seed);
      const fail = (step: number, msg: string): never => {
        throw new Error(`seed ${seed} step ${step}: ${msg}`);
      };
      let ix = new PartitionTxnIndex();
      const log: LogBatch[] = [];
      let hw = 0;
      let logStart = 0;
      let txns = 0;
      const open = new Map<number, { txn: number; first: number }>();
      const outcome = new Map<number, "commit" | "abort">();
      for (let step = 1; step <= 200; step++) {
        const r = rand();
        const pid = 1 + Math.floor(rand() * 4);
        if (r < 0.45) {
          const n = 1 + Math.floor(rand() * 3);
          let t = open.get(pid);
          if (!t) open.set(pid, (t = { txn: ++txns, first: hw }));
          log.push({ producerId: pid, baseOffset: hw, lastOffset: hw + n - 1, isTransactional: true, isControl: false, txn: t.txn });
          ix.onTransactionalAppend(pid, hw, hw + n - 1);
          hw += n;
        } else if (r < 0.6) {
          const n = 1 + Math.floor(rand() * 2);
          log.push({ producerId: rand() < 0.5 ? -1 : 9, baseOffset: hw, lastOffset: hw + n - 1, isTransactional: false, isControl: false });
          ix.onAppend(hw, hw + n - 1);
          hw += n;
        } else if (r < 0.85) {
          const commit = rand() < 0.5;
          const t = open.get(pid);
          if (t) outcome.set(t.txn, commit ? "commit" : "abort");
          open.delete(pid);
          log.push({ producerId: pid, baseOffset: hw, lastOffset: hw, isTransactional: true, isControl: true, commit });
          const done = ix.onMarker(pid, hw, commit);
          // (a rebuild cannot know a transaction whose batches retention removed entirely)
          const forgotten = t !== undefined && !log.some((b) => b.txn === t.txn && b.lastOffset >= logStart);
          if (!forgotten && (done === null) !== (t === undefined))
            fail(step, `marker of ${pid} completed ${JSON.stringify(done)}, expected txn ${t?.txn}`);
          hw += 1;
        } else if (r < 0.9) {
          // retention: usually below the LSO, sometimes past an open transaction's start
          const bound = rand() < 0.8 ? ix.lastStableOffset(hw) : hw;
          const to = logStart + Math.floor(rand() * (bound - logStart + 1));
          // whole batches only, like the cleaner
          const cut = log.find((b) => b.lastOffset >= to)?.baseOffset ?? hw;
          if (cut > logStart) {
            logStart = cut;
            ix.truncateBefore(logStart);
          }
        } else if (r < 0.95) {
          ix = PartitionTxnIndex.restore(JSON.parse(JSON.stringify(ix.snapshot())), hw);
        } else {
          const rebuilt = PartitionTxnIndex.rebuild(
            log.filter((b) => b.lastOffset >= logStart),
            logStart,
          );
          // Identical unless retention cut through a transaction: then the rebuild only knows its
          // retained batches (reads agree; the loop's checks below cover that).
          const straddles =
            [...open.values()].some((t) => t.first < logStart) || ix.abortedRanges(0, logStart - 1).some((a) => a.firstOffset < logStart);
          if (!straddles) expect(rebuilt.snapshot(), `seed ${seed} step ${step}: rebuilt`).toEqual(ix.snapshot());
          ix = rebuilt;
        }

        // LSO: the first offset of the oldest open transaction (or HW), never below log start.
        // Exactly that while the transaction's first batch is retained; once retention removed
        // it, anything up to the first retained batch of an open transaction is right.
        const openTxns = new Set([...open.values()].map((t) => t.txn));
        const lower = Math.max(logStart, Math.min(hw, ...[...open.values()].map((t) => t.first)));
        const firstUndecided = log.find((b) => b.lastOffset >= logStart && b.txn !== undefined && openTxns.has(b.txn));
        const upper = Math.max(logStart, firstUndecided ? firstUndecided.baseOffset : hw);
        const lso = ix.lastStableOffset(hw);
        if (lso < lower || lso > upper) fail(step, `LSO ${lso} outside [${lower}, ${upper}]`);
        for (const t of open.values()) if (t.first >= logStart && lso > t.first) fail(step, `LSO ${lso} passes open txn at ${t.first}`);

        // read_committed from a random position below the LSO: the broker's view, the Kafka
        // client's view (from abortedRanges) and the truth agree.
        const from = logStart + Math.floor(rand() * (lso - logStart + 1));
        const visible = log.filter((b) => b.lastOffset >= from && b.baseOffset < lso);
        const truth: number[] = [];
        const broker: number[] = [];
        for (const b of visible) {
          if (b.isControl) continue;
          const committed = !b.isTransactional || outcome.get(b.txn as number) === "commit";
          if (b.isTransactional && !outcome.has(b.txn as number)) fail(step, `undecided txn ${b.txn} below the LSO`);
          const aborted = b.isTransactional && ix.isAborted(b.producerId, b.baseOffset);
          for (let o = Math.max(b.baseOffset, from); o <= b.lastOffset; o++) {
            if (committed) truth.push(o);
            if (!aborted) broker.push(o);
          }
        }
        if (JSON.stringify(broker) !== JSON.stringify(truth)) fail(step, `broker read_committed ${broker} != truth ${truth}`);
        const client = clientReadCommitted(visible, ix.abortedRanges(from, lso - 1)).filter((o) => o >= from);
        if (JSON.stringify(client) !== JSON.stringify(truth)) fail(step, `client read_committed ${client} != truth ${truth}`);
      }
    }
  });
});
