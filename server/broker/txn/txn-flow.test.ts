/**
 * The pure pieces wired together the way the broker will wire them: a transaction coordinator,
 * partitions (PartitionTxnState over a log of real RecordBatch v2 bytes, markers included) and a
 * group offset store, driven by seeded random transactional producers that produce, add group
 * offsets, commit, abort, time out, get replaced by new instances (leaving zombies that keep
 * trying), and a broker that crashes (sometimes halfway through writing markers) and recovers
 * from snapshots.
 *
 * Checked at the end: read_committed delivers exactly the records of committed transactions
 * (plus non-transactional ones) — every committed transaction whole, nothing of an aborted one —
 * and never a marker; the group's committed offsets are exactly those of the last committed
 * transaction; every zombie request was refused; rebuilding partitions from their log gives the
 * live state.
 */
import { describe, expect, it } from "vitest";
import { rng } from "../../testing/prng.ts";
import { keyOf, type TopicPartition } from "../group/topic-partitions.ts";
import { decodeRecords, encodeRecordBatch, readBatchHeader } from "../protocol/record-batch.ts";
import type { BatchToAppend } from "../store/log-store.ts";
import { endTxnMarkerBatchToAppend } from "../protocol/control-records.ts";
import { batchMetaOfAppend, PartitionTxnState, type ReplayedBatch } from "../log/partition-txn-state.ts";
import { TransactionCoordinator, type EndTxnPlan } from "./transaction-coordinator.ts";
import { isTxnError } from "../errors.ts";

const SEEDS = Number(process.env.TXN_PROPERTY_SEEDS ?? 60);
const STEPS = 150;
const PARTITIONS: TopicPartition[] = [
  { topic: "out", partition: 0 },
  { topic: "out", partition: 1 },
  { topic: "audit", partition: 0 },
];

interface Partition {
  state: PartitionTxnState;
  rows: ReplayedBatch[];
  next: number;
}

interface Instance {
  txnId: string;
  producerId: number;
  producerEpoch: number;
  seqs: Map<string, number>;
  /** Tag of the current transaction's records; null when none is open. */
  tag: string | null;
  txnNo: number;
  name: string;
}

function batchOf(pid: number, epoch: number, seq: number, values: string[], transactional: boolean, now: number): BatchToAppend {
  const payload = encodeRecordBatch({
    baseOffset: 0,
    producerId: pid,
    producerEpoch: epoch,
    baseSequence: seq,
    isTransactional: transactional,
    records: values.map((v) => ({ key: null, value: Buffer.from(v), headers: [], timestamp: now })),
  });
  const h = readBatchHeader(payload);
  return {
    payload,
    recordCount: values.length,
    lastOffsetDelta: h.lastOffsetDelta,
    firstTimestamp: now,
    maxTimestamp: now,
    producerId: pid,
    producerEpoch: epoch,
    baseSequence: seq,
    isTransactional: transactional,
    isControl: false,
  };
}

function runSeed(seed: number): { commits: number; aborts: number; timeouts: number; fenced: number; crashes: number } {
  const rand = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const stats = { commits: 0, aborts: 0, timeouts: 0, fenced: 0, crashes: 0 };
  let now = 1_000_000;
  let nextPid = 100;
  const allocator = { next: () => nextPid++ };
  let coordinatorEpoch = 0;
  let coord = new TransactionCoordinator(allocator, { coordinatorEpoch });
  const parts = new Map<string, Partition>(
    PARTITIONS.map((tp) => [keyOf(tp.topic, tp.partition), { state: new PartitionTxnState(), rows: [], next: 0 }]),
  );
  const groupStore = new Map<string, number>();
  const committed = new Set<string>();
  let expectedGroupOffset: number | undefined;
  const pendingOffsets = new Map<string, number>(); // tag → offset added in that txn
  const live: Instance[] = [];
  const zombies: Instance[] = [];
  let idempotentSeq = 0;
  const idemPid = 99;
  let names = 0;

  const fail = (msg: string): never => {
    throw new Error(`seed ${seed}: ${msg}`);
  };

  const append = (tp: TopicPartition, batch: BatchToAppend): { baseOffset: number } => {
    const p = parts.get(keyOf(tp.topic, tp.partition)) as Partition;
    const plan = p.state.beginAppend();
    const [r] = plan.add([batchMetaOfAppend(batch)]);
    if (r.kind !== "append") {
      plan.rollback();
      return { baseOffset: -1 };
    }
    const base = p.next;
    p.next += batch.lastOffsetDelta + 1;
    p.rows.push({ ...batch, baseOffset: base, lastOffset: base + batch.lastOffsetDelta, payload: batch.payload });
    plan.commit([{ baseOffset: base, lastOffset: base + batch.lastOffsetDelta }], now);
    return { baseOffset: base };
  };

  /** The broker carrying out a plan; `stopAfter` simulates a crash after that many markers. */
  const execute = (plan: EndTxnPlan, stopAfter = Infinity): boolean => {
    if (plan.alreadyComplete) return true;
    let written = 0;
    for (const tp of plan.partitions) {
      if (written >= stopAfter) return false;
      append(
        tp,
        endTxnMarkerBatchToAppend({
          producerId: plan.producerId,
          producerEpoch: plan.producerEpoch,
          commit: plan.commit,
          coordinatorEpoch: plan.coordinatorEpoch,
          timestamp: now,
        }),
      );
      written++;
    }
    if (plan.commit)
      for (const g of plan.groupOffsets) for (const o of g.offsets) groupStore.set(`${g.groupId}/${o.topic}/${o.partition}`, o.offset);
    coord.completeEnd(plan.transactionalId, now, plan);
    return true;
  };

  const newInstance = (txnId: string, recover?: Instance): Instance => {
    const r = coord.initProducerId(
      recover
        ? { transactionalId: txnId, transactionTimeoutMs: 1000, producerId: recover.producerId, producerEpoch: recover.producerEpoch }
        : { transactionalId: txnId, transactionTimeoutMs: 1000 },
      now,
    );
    if (r.abort) {
      stats.fenced++;
      execute(r.abort);
    }
    return {
      txnId,
      producerId: r.producerId,
      producerEpoch: r.producerEpoch,
      seqs: new Map(),
      tag: null,
      txnNo: 0,
      name: `${txnId}@${++names}`,
    };
  };

  /** Runs a client call; on TRANSACTION_ABORTED the client re-initialises (KIP-360) and drops its txn. */
  const client = (inst: Instance, fn: () => void): boolean => {
    try {
      fn();
      return true;
    } catch (e) {
      if (!isTxnError(e)) throw e;
      if (e.code === "TRANSACTION_ABORTED") {
        const i = live.indexOf(inst);
        live[i] = newInstance(inst.txnId, inst);
        return false;
      }
      if (e.code === "CONCURRENT_TRANSACTIONS") return false;
      return fail(`live producer ${inst.name} got ${e.code}: ${e.message}`);
    }
  };

  const crash = () => {
    stats.crashes++;
    const coordSnap = JSON.parse(JSON.stringify(coord.snapshot()));
    coord = new TransactionCoordinator(allocator, { coordinatorEpoch: ++coordinatorEpoch });
    coord.restore(coordSnap);
    for (const [k, p] of parts) {
      // half the time from the persisted snapshot, half by scanning the log
      const s =
        rand() < 0.5 ? PartitionTxnState.restore(JSON.parse(JSON.stringify(p.state.snapshot()))) : PartitionTxnState.rebuild(p.rows);
      parts.set(k, { ...p, state: s });
    }
    for (const plan of coord.recover(now)) {
      if (plan.reason === "recovery") stats.aborts++;
      execute(plan);
    }
    // the broker's own producers do not survive a restart: they initialise again
    for (let i = 0; i < live.length; i++) live[i] = newInstance(live[i].txnId);
  };

  for (const txnId of ["t0", "t1", "t2"]) live.push(newInstance(txnId));

  for (let step = 0; step < STEPS; step++) {
    now += Math.floor(rand() * 250);
    for (const plan of coord.expire(now)) {
      stats.timeouts++;
      execute(plan);
    }
    const r = rand();
    const inst = pick(live);
    if (r < 0.4) {
      // transactional produce to one partition (AddPartitionsToTxn is implicit)
      const tp = pick(PARTITIONS);
      client(inst, () => {
        coord.addPartitions(inst.txnId, inst.producerId, inst.producerEpoch, [tp], now);
        if (inst.tag === null) inst.tag = `${inst.name}#${++inst.txnNo}`;
        const k = keyOf(tp.topic, tp.partition);
        const seq = inst.seqs.get(k) ?? 0;
        const n = 1 + Math.floor(rand() * 2);
        const values = Array.from({ length: n }, (_, i) => `${inst.tag}|${step}.${i}`);
        const res = append(tp, batchOf(inst.producerId, inst.producerEpoch, seq, values, true, now));
        if (res.baseOffset < 0) fail("a live producer's batch was taken for a duplicate");
        inst.seqs.set(k, seq + n);
      });
    } else if (r < 0.5) {
      // sendOffsetsToTransaction
      client(inst, () => {
        const offset = step * 10 + Math.floor(rand() * 10);
        coord.addOffsets(
          inst.txnId,
          inst.producerId,
          inst.producerEpoch,
          "g",
          [{ topic: "in", partition: 0, offset, metadata: null }],
          now,
        );
        if (inst.tag === null) inst.tag = `${inst.name}#${++inst.txnNo}`;
        pendingOffsets.set(inst.tag, offset);
      });
    } else if (r < 0.68) {
      const commit = rand() < 0.6;
      if (inst.tag === null) continue;
      const tag = inst.tag;
      client(inst, () => {
        const plan = coord.prepareEnd(inst.txnId, inst.producerId, inst.producerEpoch, commit, now);
        inst.tag = null;
        if (commit) {
          committed.add(tag);
          stats.commits++;
          if (pendingOffsets.has(tag)) expectedGroupOffset = pendingOffsets.get(tag);
        } else {
          stats.aborts++;
        }
        if (rand() < 0.1) {
          if (!execute(plan, Math.floor(rand() * plan.partitions.length))) crash();
        } else {
          execute(plan);
        }
      });
    } else if (r < 0.75) {
      // a new instance with the same transactional id: the old one becomes a zombie
      const i = live.indexOf(inst);
      zombies.push(inst);
      live[i] = newInstance(inst.txnId);
    } else if (r < 0.85) {
      if (zombies.length === 0) continue;
      const z = pick(zombies);
      const tp = pick(PARTITIONS);
      const attempts: (() => unknown)[] = [
        () => coord.addPartitions(z.txnId, z.producerId, z.producerEpoch, [tp], now),
        () =>
          coord.addOffsets(z.txnId, z.producerId, z.producerEpoch, "g", [{ topic: "in", partition: 0, offset: 1, metadata: null }], now),
        () => coord.prepareEnd(z.txnId, z.producerId, z.producerEpoch, true, now),
      ];
      try {
        pick(attempts)();
        fail(`zombie ${z.name} was accepted`);
      } catch (e) {
        if (
          !isTxnError(e) ||
          !["PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH", "TRANSACTION_ABORTED", "INVALID_PRODUCER_ID_MAPPING"].includes(e.code)
        )
          throw e;
      }
      // a produce it had in flight, reaching a partition that saw a newer epoch, is refused there too
      const p = parts.get(keyOf(tp.topic, tp.partition)) as Partition;
      const seen = p.state.producers.producerEpoch(z.producerId);
      if (seen !== null && seen > z.producerEpoch) {
        const plan = p.state.beginAppend();
        try {
          plan.add([
            batchMetaOfAppend(
              batchOf(z.producerId, z.producerEpoch, z.seqs.get(keyOf(tp.topic, tp.partition)) ?? 0, ["zombie"], true, now),
            ),
          ]);
          fail(`zombie ${z.name} wrote to ${tp.topic}-${tp.partition}`);
        } catch (e) {
          if (!isTxnError(e) || e.code !== "INVALID_PRODUCER_EPOCH") throw e;
        } finally {
          plan.rollback();
        }
      }
    } else if (r < 0.93) {
      // an idempotent, non-transactional producer
      const tp = PARTITIONS[0];
      append(tp, batchOf(idemPid, 0, idempotentSeq, [`plain|${step}`], false, now));
      idempotentSeq++;
    } else if (r < 0.96) {
      crash();
    }
  }

  // Wind down: every live producer ends its transaction, then time runs out for the rest.
  for (const inst of live) {
    if (inst.tag === null) continue;
    const tag = inst.tag;
    const commit = rand() < 0.5;
    client(inst, () => {
      execute(coord.prepareEnd(inst.txnId, inst.producerId, inst.producerEpoch, commit, now));
      if (commit) {
        committed.add(tag);
        if (pendingOffsets.has(tag)) expectedGroupOffset = pendingOffsets.get(tag);
      }
    });
  }
  now += 10_000;
  for (const plan of coord.expire(now)) execute(plan);
  expect(coord.list(now, ["Ongoing", "PrepareCommit", "PrepareAbort"]), `seed ${seed}: open transactions`).toEqual([]);

  for (const [k, p] of parts) {
    const hw = p.next;
    if (p.state.lastStableOffset(hw) !== hw) fail(`${k}: LSO ${p.state.lastStableOffset(hw)} != HW ${hw} with nothing open`);
    const readCommitted: string[] = [];
    const everything: string[] = [];
    for (const row of p.rows) {
      if (row.isControl) continue;
      const values = decodeRecords(row.payload as Buffer).map((rec) => (rec.value as Buffer).toString());
      everything.push(...values);
      if (row.isTransactional && p.state.isAborted(row.producerId, row.baseOffset)) continue;
      readCommitted.push(...values);
    }
    const expected = everything.filter((v) => v.startsWith("plain|") || committed.has(v.split("|")[0]));
    expect(readCommitted, `seed ${seed}: ${k} read_committed`).toEqual(expected);
    // rebuilding from the log gives the live state (transaction index exactly; producers too)
    const rebuilt = PartitionTxnState.rebuild(p.rows);
    expect(rebuilt.index.snapshot(), `seed ${seed}: ${k} rebuilt index`).toEqual(p.state.index.snapshot());
  }
  expect(groupStore.get("g/in/0"), `seed ${seed}: group offset`).toBe(expectedGroupOffset);
  return stats;
}

describe("transactions end to end (pure, property)", () => {
  it(`exactly-once over ${SEEDS} seeded runs with timeouts, fencing and crashes`, () => {
    const total = { commits: 0, aborts: 0, timeouts: 0, fenced: 0, crashes: 0 };
    for (let seed = 1; seed <= SEEDS; seed++) {
      const s = runSeed(seed);
      for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += s[k];
    }
    for (const [k, v] of Object.entries(total)) expect(v, `${k} never happened`).toBeGreaterThan(0);
  });
});
