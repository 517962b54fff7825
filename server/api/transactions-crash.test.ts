/**
 * Transactions and a crash: a real server on a real PostgreSQL database is killed (SIGKILL) with
 * transactions open on several ids and partitions; the server started next on the same
 * database aborts them (abort markers), so read_committed never sees their records, the last
 * stable offset reaches the high watermark everywhere, committed data stays, the old producers
 * are fenced, and new transactions work. Twice, the second time right after a recovery.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScratchDatabase, type ScratchDatabase } from "../testing/databases.ts";
import { startServer, type ServerProcess } from "../testing/server-process.ts";
import type { ApiResponse } from "../testing/api-assertions.ts";
import { callApi } from "../testing/api-client.ts";

let db: ScratchDatabase | undefined;
let proc: ServerProcess | undefined;
const serverErrors: string[] = [];
/** Output of every server process this file started. */
const outputs: string[] = [];

beforeAll(async () => {
  db = await createScratchDatabase("postgres");
  proc = await startServer(db);
});
afterAll(async () => {
  await proc?.stop();
  await db?.drop();
});

/** SIGKILL the server (no shutdown hooks run), then start a new one on the same database. */
async function crashAndRestart(): Promise<void> {
  const p = proc!;
  p.child.kill("SIGKILL");
  await p.exited;
  expect(p.child.signalCode).toBe("SIGKILL");
  outputs.push(p.output());
  proc = await startServer(db!);
}

const call = (method: string, path: string, json?: unknown): Promise<ApiResponse> =>
  callApi(proc!.url + "/api/v1", method, path, { json }, (line) => serverErrors.push(line));
const ctx = (r: ApiResponse) => `HTTP ${r.status} ${r.text.slice(0, 600)}`;
const enc = encodeURIComponent;

async function producePlain(topic: string, partition: number, values: string[]): Promise<void> {
  const r = await call("POST", `/topics/${enc(topic)}/records`, { records: values.map((value) => ({ partition, value })) });
  expect(r.status, ctx(r)).toBe(200);
}

class TxnProducer {
  private readonly seq = new Map<string, number>();
  constructor(
    readonly transactionalId: string,
    readonly producerId: number,
    readonly producerEpoch: number,
  ) {}
  static async init(transactionalId: string): Promise<TxnProducer> {
    const r = await call("POST", "/producers", { transactionalId });
    expect(r.status, ctx(r)).toBe(201);
    return new TxnProducer(transactionalId, r.body.producerId, r.body.producerEpoch);
  }
  send(topic: string, partition: number, values: string[]): Promise<ApiResponse> {
    const k = `${topic}/${partition}`;
    const baseSequence = this.seq.get(k) ?? 0;
    return call("POST", `/topics/${enc(topic)}/records`, {
      producerId: this.producerId,
      producerEpoch: this.producerEpoch,
      baseSequence,
      transactionalId: this.transactionalId,
      records: values.map((value) => ({ partition, value })),
    }).then((r) => {
      if (r.status === 200) this.seq.set(k, baseSequence + values.length);
      return r;
    });
  }
  async produce(topic: string, partition: number, values: string[]): Promise<void> {
    const r = await this.send(topic, partition, values);
    expect(r.status, ctx(r)).toBe(200);
  }
  end(commit: boolean): Promise<ApiResponse> {
    return call("POST", `/transactions/${enc(this.transactionalId)}/${commit ? "commit" : "abort"}`, {
      producerId: this.producerId,
      producerEpoch: this.producerEpoch,
    });
  }
  async commit(): Promise<void> {
    const r = await this.end(true);
    expect(r.status, ctx(r)).toBe(200);
    expect(r.body.state).toBe("CompleteCommit");
  }
}

interface ReadResult {
  values: (string | null)[];
  highWatermark: number;
  lastStableOffset: number;
}

/** Everything read_committed / read_uncommitted returns, following nextOffset to its end. */
async function readAll(topic: string, partition: number, isolation: "read_committed" | "read_uncommitted"): Promise<ReadResult> {
  let offset = 0;
  const values: (string | null)[] = [];
  for (let round = 0; round < 200; round++) {
    const r = await call(
      "GET",
      `/topics/${enc(topic)}/partitions/${partition}/records?offset=${offset}&waitMs=0&maxRecords=1000&isolation=${isolation}`,
    );
    expect(r.status, ctx(r)).toBe(200);
    values.push(...r.body.records.map((x: { value: string | null }) => x.value));
    const end = isolation === "read_committed" ? r.body.lastStableOffset : r.body.highWatermark;
    if (r.body.nextOffset >= end || (r.body.records.length === 0 && r.body.nextOffset === offset)) {
      expect(r.body.nextOffset, `${topic}/${partition} ${isolation}: nextOffset vs end`).toBe(end);
      return { values, highWatermark: r.body.highWatermark, lastStableOffset: r.body.lastStableOffset };
    }
    offset = r.body.nextOffset;
  }
  throw new Error(`fetch of ${topic}/${partition} did not reach its end`);
}

async function latest(topic: string, isolation?: string): Promise<Record<number, number>> {
  const r = await call("GET", `/topics/${enc(topic)}/offsets?at=latest${isolation ? `&isolation=${isolation}` : ""}`);
  expect(r.status, ctx(r)).toBe(200);
  return Object.fromEntries(r.body.partitions.map((p: { partition: number; offset: number }) => [p.partition, p.offset]));
}

async function txnState(
  id: string,
): Promise<{ state: string; lastResult: { commit: boolean; reason: string } | null; producerEpoch: number; producerId: number }> {
  const r = await call("GET", `/transactions/${enc(id)}`);
  expect(r.status, ctx(r)).toBe(200);
  return r.body;
}

const TOPICS: [string, number][] = [
  ["crash-a", 3],
  ["crash-b", 2],
];
const ALL = TOPICS.flatMap(([t, n]) => Array.from({ length: n }, (_, p) => ({ topic: t, partition: p })));

/** What read_committed must show per partition ("topic/p" → values), kept as the test goes. */
const committedView = new Map<string, string[]>(ALL.map(({ topic, partition }) => [`${topic}/${partition}`, []]));
/** Values of transactions left open at a crash: must never be visible under read_committed. */
const doomed = new Set<string>();

async function checkAfterRecovery(openIds: string[], hwBefore: Map<string, number>, touched: Map<string, number>): Promise<void> {
  // every transaction left open ended aborted by the recovery
  const listed = await call("GET", "/transactions");
  expect(listed.status, ctx(listed)).toBe(200);
  for (const id of openIds) {
    const t = listed.body.transactions.find((x: { transactionalId: string }) => x.transactionalId === id);
    expect(t, `${id} in GET /transactions`).toBeDefined();
    expect(t.state, `${id}`).toBe("CompleteAbort");
    expect(t.lastResult).toMatchObject({ commit: false });
  }
  const open = await call("GET", "/transactions?state=open");
  expect(open.status, ctx(open)).toBe(200);
  expect(open.body.transactions.map((x: { transactionalId: string }) => x.transactionalId)).toEqual([]);

  for (const [topic] of TOPICS) {
    const rc = await latest(topic, "read_committed");
    const hw = await latest(topic);
    expect(rc, `${topic}: list-offsets read_committed = high watermark`).toEqual(hw);
    const t = await call("GET", `/topics/${enc(topic)}`);
    expect(t.status, ctx(t)).toBe(200);
    for (const p of t.body.partitions) {
      expect(p.lastStableOffset, `${topic}/${p.partition} describe LSO`).toBe(p.highWatermark);
      expect(p.openTransactions, `${topic}/${p.partition} describe openTransactions`).toEqual([]);
    }
  }
  for (const { topic, partition } of ALL) {
    const k = `${topic}/${partition}`;
    const rc = await readAll(topic, partition, "read_committed");
    expect(rc.values, `${k} read_committed`).toEqual(committedView.get(k));
    expect(rc.values.filter((v) => doomed.has(v ?? ""))).toEqual([]);
    expect(rc.lastStableOffset, `${k} LSO = HW`).toBe(rc.highWatermark);
    // exactly one abort marker more per open transaction that had touched the partition
    expect(rc.highWatermark, `${k} HW after recovery`).toBe(hwBefore.get(k)! + (touched.get(k) ?? 0));
    // the aborted records are still in the log for read_uncommitted
    const ru = await readAll(topic, partition, "read_uncommitted");
    const ruDoomed = ru.values.filter((v) => doomed.has(v ?? ""));
    const expectedDoomed = [...doomed].filter((v) => v.startsWith(`${k}:`));
    expect([...ruDoomed].sort()).toEqual(expectedDoomed.sort());
  }
}

async function highWatermarks(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const [topic] of TOPICS) {
    const hw = await latest(topic);
    for (const [p, o] of Object.entries(hw)) out.set(`${topic}/${p}`, o);
  }
  return out;
}

describe("transactions across a crash (SIGKILL)", () => {
  const open: TxnProducer[] = [];

  beforeAll(async () => {
    for (const [t, n] of TOPICS) {
      const r = await call("POST", "/topics", { name: t, partitions: n });
      expect(r.status, ctx(r)).toBe(201);
    }
  });

  it("transactions open at a SIGKILL end aborted after the restart; committed ones stay", async () => {
    for (const { topic, partition } of ALL) {
      const k = `${topic}/${partition}`;
      await producePlain(topic, partition, [`${k}:plain-0`]);
      committedView.get(k)!.push(`${k}:plain-0`);
    }
    // a committed transaction just before the crash
    const done = await TxnProducer.init("crash-committed");
    for (const { topic, partition } of ALL) await done.produce(topic, partition, [`${topic}/${partition}:committed`]);
    await done.commit();
    for (const { topic, partition } of ALL) committedView.get(`${topic}/${partition}`)!.push(`${topic}/${partition}:committed`);

    // three open transactions over overlapping partitions, with data
    const spread: Record<string, { topic: string; partition: number }[]> = {
      "crash-open-1": [
        { topic: "crash-a", partition: 0 },
        { topic: "crash-a", partition: 1 },
        { topic: "crash-b", partition: 0 },
      ],
      "crash-open-2": [
        { topic: "crash-a", partition: 1 },
        { topic: "crash-a", partition: 2 },
      ],
      "crash-open-3": [
        { topic: "crash-b", partition: 0 },
        { topic: "crash-b", partition: 1 },
      ],
    };
    /** "topic/p" → how many open transactions wrote there */
    const touched = new Map<string, number>();
    for (const [id, tps] of Object.entries(spread)) {
      const p = await TxnProducer.init(id);
      open.push(p);
      for (const { topic, partition } of tps) {
        const k = `${topic}/${partition}`;
        const vals = [0, 1, 2].map((i) => `${k}:${id}:${i}`);
        await p.produce(topic, partition, vals);
        vals.forEach((v) => doomed.add(v));
        touched.set(k, (touched.get(k) ?? 0) + 1);
      }
    }
    // plain records behind the open transactions: held back by the LSO until the recovery
    await producePlain("crash-a", 1, ["crash-a/1:behind"]);
    committedView.get("crash-a/1")!.push("crash-a/1:behind");
    const listed = await call("GET", "/transactions?state=open");
    expect(listed.body.transactions.map((x: { transactionalId: string }) => x.transactionalId).sort()).toEqual(Object.keys(spread));
    expect((await readAll("crash-a", 1, "read_committed")).values).not.toContain("crash-a/1:behind");

    const hwBefore = await highWatermarks();
    await crashAndRestart();
    await checkAfterRecovery(Object.keys(spread), hwBefore, touched);
    expect((await readAll("crash-a", 1, "read_committed")).values).toContain("crash-a/1:behind");
    expect((await txnState("crash-committed")).state).toBe("CompleteCommit");
  });

  it("the producers of the aborted transactions are fenced; new instances of their ids work", async () => {
    const hw = await highWatermarks();
    for (const p of open) {
      const r = await p.send("crash-a", 0, [`crash-a/0:zombie-${p.transactionalId}`]);
      expect([409], ctx(r)).toContain(r.status);
      expect(["PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH", "TRANSACTION_ABORTED"], ctx(r)).toContain(r.body?.error?.code);
      const c = await p.end(true);
      expect(c.status, ctx(c)).toBe(409);
      expect(["PRODUCER_FENCED", "TRANSACTION_ABORTED", "INVALID_TXN_STATE"], ctx(c)).toContain(c.body?.error?.code);
    }
    expect(await highWatermarks()).toEqual(hw);
    for (const p of open) {
      const again = await TxnProducer.init(p.transactionalId);
      const k = "crash-b/1";
      await again.produce("crash-b", 1, [`${k}:${p.transactionalId}:new`]);
      await again.commit();
      committedView.get(k)!.push(`${k}:${p.transactionalId}:new`);
    }
    expect((await readAll("crash-b", 1, "read_committed")).values).toEqual(committedView.get("crash-b/1"));
  });

  it("a second crash, right after recovering from the first, is recovered the same way", async () => {
    const touched = new Map<string, number>();
    const ids: string[] = [];
    for (const [i, { topic, partition }] of ALL.entries()) {
      if (i % 2 === 1) continue;
      const id = `crash2-${i}`;
      ids.push(id);
      const p = await TxnProducer.init(id);
      const k = `${topic}/${partition}`;
      const vals = [`${k}:${id}:0`, `${k}:${id}:1`];
      await p.produce(topic, partition, vals);
      vals.forEach((v) => doomed.add(v));
      touched.set(k, 1);
    }
    const hwBefore = await highWatermarks();
    await crashAndRestart();
    await checkAfterRecovery(ids, hwBefore, touched);
    // and again a new transaction commits
    const p = await TxnProducer.init("crash2-0");
    await p.produce("crash-a", 2, ["crash-a/2:after-second"]);
    await p.commit();
    committedView.get("crash-a/2")!.push("crash-a/2:after-second");
    expect((await readAll("crash-a", 2, "read_committed")).values).toEqual(committedView.get("crash-a/2"));
  });

  it("a producer idle at the crash (last transaction committed) goes on with its epoch and sequences", async () => {
    const p = await TxnProducer.init("idle-across");
    await p.produce("crash-b", 0, ["crash-b/0:idle-across:0", "crash-b/0:idle-across:1"]);
    await p.commit();
    committedView.get("crash-b/0")!.push("crash-b/0:idle-across:0", "crash-b/0:idle-across:1");
    await crashAndRestart();
    const t = await txnState("idle-across");
    expect(t.state).toBe("CompleteCommit");
    expect([t.producerId, t.producerEpoch]).toEqual([p.producerId, p.producerEpoch]);
    // the next transaction continues at sequence 2 in crash-b/0 (the state is rebuilt from the log)
    await p.produce("crash-b", 0, ["crash-b/0:idle-across:2"]);
    await p.commit();
    committedView.get("crash-b/0")!.push("crash-b/0:idle-across:2");
    expect((await readAll("crash-b", 0, "read_committed")).values).toEqual(committedView.get("crash-b/0"));
  });

  it("a graceful restart (SIGTERM) with a transaction open also ends it aborted", async () => {
    const p = await TxnProducer.init("term-open");
    await p.produce("crash-a", 0, ["crash-a/0:term-open:0"]);
    doomed.add("crash-a/0:term-open:0");
    const hwBefore = await highWatermarks();
    outputs.push(proc!.output());
    await proc!.stop();
    proc = await startServer(db!);
    await checkAfterRecovery(["term-open"], hwBefore, new Map([["crash-a/0", 1]]));
  });

  it("SIGKILL while transactions are committing: each ends all-or-nothing, and an acknowledged commit stays committed", async () => {
    const W = "crash-wide";
    const N = 16;
    const r = await call("POST", "/topics", { name: W, partitions: N });
    expect(r.status, ctx(r)).toBe(201);
    // the kill lands at different points of the commits: before, during and after the markers
    for (const delayMs of [0, 3, 10, 30, 80, 250]) {
      const ids = [0, 1, 2].map((i) => `mid-${delayMs}-${i}`);
      const producers: TxnProducer[] = [];
      for (const id of ids) {
        const p = await TxnProducer.init(id);
        producers.push(p);
        await Promise.all(Array.from({ length: N }, (_, part) => p.produce(W, part, [`${id}:${part}`])));
      }
      const acked = new Set<string>();
      const commits = producers.map((p) =>
        p.end(true).then(
          (res) => {
            if (res.status === 200) acked.add(p.transactionalId);
          },
          () => undefined, // the connection died with the server
        ),
      );
      await new Promise((res) => setTimeout(res, delayMs));
      await crashAndRestart();
      await Promise.all(commits);

      const seen = new Map<string, number>(ids.map((id) => [id, 0]));
      for (let part = 0; part < N; part++) {
        const rc = await readAll(W, part, "read_committed");
        expect(rc.lastStableOffset, `${W}/${part} LSO = HW after the restart (kill after ${delayMs} ms)`).toBe(rc.highWatermark);
        for (const v of rc.values) {
          const id = String(v).split(":")[0];
          if (seen.has(id)) seen.set(id, seen.get(id)! + 1);
        }
      }
      for (const id of ids) {
        const t = await txnState(id);
        const visible = seen.get(id)!;
        const ctxMsg = `${id} (kill after ${delayMs} ms): state ${t.state}, visible in ${visible}/${N} partitions, acknowledged ${acked.has(id)}`;
        expect(["CompleteCommit", "CompleteAbort"], ctxMsg).toContain(t.state);
        expect(visible, ctxMsg).toBe(t.state === "CompleteCommit" ? N : 0);
        if (acked.has(id)) expect(t.state, ctxMsg).toBe("CompleteCommit");
      }
      const open = await call("GET", "/transactions?state=open");
      expect(open.body.transactions, `kill after ${delayMs} ms`).toEqual([]);
    }
  }, 240_000);

  it("answered no request with a 5xx and logged no unexpected error", () => {
    expect(serverErrors).toEqual([]);
    for (const o of [...outputs, proc!.output()]) expect(o).not.toMatch(/unexpected error/i);
  });
});
