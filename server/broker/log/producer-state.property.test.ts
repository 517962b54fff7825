/**
 * Property-style test of the idempotent producer at one partition: seeded random runs of three
 * producers, each with up to 5 unacknowledged batches in flight, over a network that reorders
 * requests, loses responses and delivers retries, while the broker coalesces requests into group
 * commits that sometimes fail (rollback), producers re-initialise (epoch bump, leaving zombie
 * requests behind) and the state is restored from JSON snapshots. One producer starts near
 * Int32.MAX so sequences wrap.
 *
 * Checked: no batch is ever written twice; every duplicate answer carries the original offsets;
 * each error is the right one for the situation; per producer and epoch, the log holds
 * sequences gap-free and in order; after the network heals every in-flight batch lands; and
 * replaying the log rebuilds exactly the live state.
 */
import { describe, expect, it } from "vitest";
import { rng } from "../../testing/prng.ts";
import {
  incrementSequence,
  INT32_MAX,
  ProducerStateManager,
  type BatchMeta,
  type LoggedBatch,
  type PlannedBatch,
} from "./producer-state.ts";
import { isTxnError, type TxnError } from "../errors.ts";

/** Raise for a soak run: TXN_PROPERTY_SEEDS=5000. */
const SEEDS = Number(process.env.TXN_PROPERTY_SEEDS ?? 120);
const STEPS = 300;
const MAX_IN_FLIGHT = 5;
const WRAP_START = INT32_MAX - 9;

interface Batch {
  id: number;
  pid: number;
  epoch: number;
  baseSeq: number;
  count: number;
}

interface Client {
  pid: number;
  epoch: number;
  nextSeq: number;
  unacked: Batch[];
}

interface Written {
  batch: Batch;
  baseOffset: number;
  lastOffset: number;
  step: number;
}

const metaOf = (b: Batch): BatchMeta => ({
  producerId: b.pid,
  producerEpoch: b.epoch,
  baseSequence: b.baseSeq,
  lastSequence: incrementSequence(b.baseSeq, b.count - 1),
  isTransactional: false,
});

/** How often each outcome occurred over all seeds: every one must, or the test proves little. */
const seen = new Map<string, number>();
const count = (what: string) => seen.set(what, (seen.get(what) ?? 0) + 1);

function runSeed(seed: number): void {
  const rand = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const fail = (step: number, msg: string): never => {
    throw new Error(`seed ${seed} step ${step}: ${msg}`);
  };

  // Producer 102 already wrote up to WRAP_START-1 at epoch 0 (restored state), so it wraps soon.
  let psm = ProducerStateManager.restore({
    version: 1,
    producers: [
      {
        producerId: 102,
        producerEpoch: 0,
        coordinatorEpoch: -1,
        lastTimestamp: 0,
        currentTxnFirstOffset: null,
        batches: [{ firstSeq: WRAP_START - 1, lastSeq: WRAP_START - 1, baseOffset: 0, lastOffset: 0, timestamp: 0 }],
      },
    ],
  });
  const preseeded: LoggedBatch = {
    producerId: 102,
    producerEpoch: 0,
    baseSequence: WRAP_START - 1,
    baseOffset: 0,
    lastOffset: 0,
    isTransactional: false,
    isControl: false,
    maxTimestamp: 0,
  };
  let nextOffset = 1;
  const clients: Client[] = [
    { pid: 100, epoch: 0, nextSeq: 0, unacked: [] },
    { pid: 101, epoch: 3, nextSeq: 0, unacked: [] },
    { pid: 102, epoch: 0, nextSeq: WRAP_START, unacked: [] },
  ];
  const startSeq = (pid: number, epoch: number) => (pid === 102 && epoch === 0 ? WRAP_START - 1 : 0);
  const bag: Batch[] = [];
  const log: Written[] = [];
  const written = new Map<number, Written>();
  let batchIds = 0;

  /** What the committed log says about a producer: its latest epoch and that epoch's last sequence. */
  const logged = (pid: number): { epoch: number; lastSeq: number } | null => {
    let out: { epoch: number; lastSeq: number } | null = pid === 102 ? { epoch: 0, lastSeq: WRAP_START - 1 } : null;
    for (const w of log) {
      if (w.batch.pid !== pid) continue;
      out = { epoch: w.batch.epoch, lastSeq: incrementSequence(w.batch.baseSeq, w.batch.count - 1) };
    }
    return out;
  };

  const checkError = (step: number, b: Batch, e: TxnError, before: ReturnType<typeof logged>, wasWritten: boolean) => {
    count(e.code);
    switch (e.code) {
      case "DUPLICATE_SEQUENCE_NUMBER":
        if (!wasWritten) fail(step, `DUPLICATE_SEQUENCE_NUMBER for unwritten batch ${JSON.stringify(b)}`);
        break;
      case "OUT_OF_ORDER_SEQUENCE_NUMBER":
        if (wasWritten) fail(step, `OUT_OF_ORDER for written batch ${JSON.stringify(b)}`);
        if (!before || before.epoch > b.epoch) return fail(step, `OUT_OF_ORDER where another error was due ${JSON.stringify(b)}`);
        if (before.epoch === b.epoch && incrementSequence(before.lastSeq, 1) === b.baseSeq)
          fail(step, `in-sequence batch refused ${JSON.stringify(b)}`);
        if (before.epoch < b.epoch && b.baseSeq === 0) fail(step, `new-epoch batch at 0 refused ${JSON.stringify(b)}`);
        break;
      case "INVALID_PRODUCER_EPOCH":
        if (!before || before.epoch <= b.epoch)
          fail(step, `INVALID_PRODUCER_EPOCH for a current batch ${JSON.stringify(b)} (log epoch ${before?.epoch})`);
        break;
      case "UNKNOWN_PRODUCER_ID":
        if (before) fail(step, `UNKNOWN_PRODUCER_ID for a known producer ${JSON.stringify(b)}`);
        if (b.baseSeq === 0) fail(step, "UNKNOWN_PRODUCER_ID for sequence 0");
        break;
      default:
        fail(step, `unexpected ${e.code}: ${e.message}`);
    }
  };

  /** The broker: one group commit of `reqs`; returns each request's outcome (null: transient failure). */
  const deliver = (step: number, reqs: Batch[], dbFails: boolean): ({ baseOffset: number; lastOffset: number } | TxnError | null)[] => {
    // what each request was checked against: the log plus the batches planned before it
    const tentative = new Map(clients.map((c) => [c.pid, logged(c.pid)]));
    const before: ReturnType<typeof logged>[] = [];
    const wasWritten: boolean[] = [];
    const plannedIds = new Set<number>();
    const plan = psm.beginPlan();
    const planned: (PlannedBatch | TxnError)[] = [];
    for (const b of reqs) {
      before.push(tentative.get(b.pid) ?? null);
      wasWritten.push(written.has(b.id) || plannedIds.has(b.id));
      try {
        const p = plan.add([metaOf(b)])[0];
        planned.push(p);
        if (p.kind === "append") plannedIds.add(b.id);
        if (p.kind === "append") tentative.set(b.pid, { epoch: b.epoch, lastSeq: incrementSequence(b.baseSeq, b.count - 1) });
      } catch (e) {
        if (!isTxnError(e)) throw e;
        planned.push(e);
      }
    }
    if (dbFails) {
      count("rollback");
      plan.rollback();
      return reqs.map(() => null);
    }
    const ranges: { baseOffset: number; lastOffset: number }[] = [];
    const slotBatch: Batch[] = [];
    planned.forEach((p, i) => {
      if (!isTxnError(p) && p.kind === "append") slotBatch[p.slot] = reqs[i];
    });
    for (let s = 0; s < plan.size; s++) {
      const b = slotBatch[s];
      if (written.has(b.id)) fail(step, `batch ${JSON.stringify(b)} written twice`);
      const w = { batch: b, baseOffset: nextOffset, lastOffset: nextOffset + b.count - 1, step };
      nextOffset += b.count;
      written.set(b.id, w);
      log.push(w);
      ranges.push({ baseOffset: w.baseOffset, lastOffset: w.lastOffset });
    }
    plan.commit(ranges, step);
    return planned.map((p, i) => {
      const b = reqs[i];
      if (isTxnError(p)) {
        checkError(step, b, p, before[i], wasWritten[i]);
        return p;
      }
      count(p.kind);
      if (p.kind === "append" && b.pid === 102 && b.epoch === 0 && incrementSequence(b.baseSeq, b.count - 1) < b.baseSeq) count("wrap");
      const offsets = p.kind === "duplicate" ? p : { baseOffset: ranges[p.slot].baseOffset, lastOffset: ranges[p.slot].lastOffset };
      const w = written.get(b.id);
      if (!w || w.baseOffset !== offsets.baseOffset || w.lastOffset !== offsets.lastOffset) {
        fail(
          step,
          `batch ${JSON.stringify(b)} answered ${JSON.stringify(offsets)}, written at ${JSON.stringify(w && [w.baseOffset, w.lastOffset])}`,
        );
      }
      return offsets;
    });
  };

  const respond = (b: Batch, outcome: { baseOffset: number; lastOffset: number } | TxnError | null) => {
    if (outcome === null) return; // transient: stays unacked, retried later
    const c = clients.find((x) => x.pid === b.pid) as Client;
    if (isTxnError(outcome) && outcome.code !== "DUPLICATE_SEQUENCE_NUMBER") return; // retried later (or a zombie)
    c.unacked = c.unacked.filter((u) => u.id !== b.id);
  };

  for (let step = 1; step <= STEPS; step++) {
    const r = rand();
    const c = pick(clients);
    if (r < 0.3) {
      if (c.unacked.length < MAX_IN_FLIGHT) {
        const b: Batch = { id: ++batchIds, pid: c.pid, epoch: c.epoch, baseSeq: c.nextSeq, count: 1 + Math.floor(rand() * 3) };
        c.nextSeq = incrementSequence(c.nextSeq, b.count);
        c.unacked.push(b);
        bag.push(b);
      }
    } else if (r < 0.65) {
      if (bag.length === 0) continue;
      const k = Math.min(bag.length, 1 + Math.floor(rand() * 4));
      const reqs: Batch[] = [];
      for (let i = 0; i < k; i++) reqs.push(...bag.splice(Math.floor(rand() * bag.length), 1));
      const outcomes = deliver(step, reqs, rand() < 0.08);
      reqs.forEach((b, i) => {
        if (rand() >= 0.2) respond(b, outcomes[i]);
      });
    } else if (r < 0.85) {
      if (c.unacked.length > 0) bag.push(pick(c.unacked));
    } else if (r < 0.88) {
      // re-initialised producer: new epoch, sequences from 0; what it had in flight is abandoned
      c.epoch++;
      c.nextSeq = 0;
      c.unacked = [];
    } else if (r < 0.9) {
      psm = ProducerStateManager.restore(JSON.parse(JSON.stringify(psm.snapshot())));
    } else if (r < 0.93) {
      // a network duplicate of some old request (maybe from an old epoch)
      if (log.length > 0) bag.push(pick(log).batch);
    }
  }

  // The network heals: clients resend what they have in flight, in order, until all is acked.
  for (let round = 0; round < 10 && clients.some((c) => c.unacked.length > 0); round++) {
    const reqs = clients.flatMap((c) => c.unacked);
    const outcomes = deliver(STEPS + round + 1, reqs, false);
    reqs.forEach((b, i) => respond(b, outcomes[i]));
  }
  for (const c of clients) if (c.unacked.length > 0) fail(-1, `producer ${c.pid} never got ${JSON.stringify(c.unacked)} written`);

  // Per producer and epoch: sequences gap-free and in offset order.
  const expected = new Map<string, number>();
  for (const w of log) {
    const k = `${w.batch.pid}/${w.batch.epoch}`;
    const want =
      expected.get(k) ?? incrementSequence(startSeq(w.batch.pid, w.batch.epoch), w.batch.pid === 102 && w.batch.epoch === 0 ? 1 : 0);
    if (w.batch.baseSeq !== want) fail(-1, `log has ${k} sequence ${w.batch.baseSeq} at offset ${w.baseOffset}, expected ${want}`);
    expected.set(k, incrementSequence(w.batch.baseSeq, w.batch.count));
  }

  // Replaying the log rebuilds the live state exactly.
  const rebuilt = new ProducerStateManager();
  rebuilt.replay([
    preseeded,
    ...log.map((w) => ({
      producerId: w.batch.pid,
      producerEpoch: w.batch.epoch,
      baseSequence: w.batch.baseSeq,
      baseOffset: w.baseOffset,
      lastOffset: w.lastOffset,
      isTransactional: false,
      isControl: false,
      maxTimestamp: w.step,
    })),
  ]);
  expect(rebuilt.snapshot(), `seed ${seed}: rebuilt state`).toEqual(psm.snapshot());
}

describe("idempotent producer (property)", () => {
  it(`holds for ${SEEDS} seeded runs of ${STEPS} steps`, () => {
    for (let seed = 1; seed <= SEEDS; seed++) runSeed(seed);
    const kinds = [
      "append",
      "duplicate",
      "duplicate-pending",
      "DUPLICATE_SEQUENCE_NUMBER",
      "OUT_OF_ORDER_SEQUENCE_NUMBER",
      "INVALID_PRODUCER_EPOCH",
      "UNKNOWN_PRODUCER_ID",
      "rollback",
      "wrap",
    ];
    for (const k of kinds) expect(seen.get(k) ?? 0, `outcome ${k} never occurred`).toBeGreaterThan(0);
  });
});
