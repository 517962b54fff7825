/**
 * Transactions (KIP-98, KIP-447) through real HTTP against a real server process on a fresh
 * PostgreSQL database, through the JSON produce and fetch paths: atomic visibility across topics
 * and partitions under read_committed, aborted records skipped (markers taking one offset each),
 * the last stable offset in fetch / list-offsets / topic describe, the transaction listing,
 * zombie fencing, consumer-group offsets committed with the transaction, the broker's
 * transaction timeout, and bad input (never a 500).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { useTestServer } from "../testing/test-server.ts";
import { expectError, type ApiResponse } from "../testing/api-assertions.ts";
import { apiCaller } from "../testing/api-client.ts";

const server = useTestServer({
  // the timeout test needs the broker to look for expired transactions often
  TRIBUTARY_TXN_CHECK_INTERVAL_MS: "200",
  // members in these tests heartbeat by hand, if at all: a long session keeps them alive
  TRIBUTARY_GROUP_SESSION_TIMEOUT_MS: "300000",
  TRIBUTARY_GROUP_HEARTBEAT_INTERVAL_MS: "5000",
});

type Isolation = "read_committed" | "read_uncommitted";

/** Every 5xx answer of the run, checked by the last test. */
const serverErrors: string[] = [];

const call = apiCaller(
  () => server.url + "/api/v1",
  (line) => serverErrors.push(line),
);

const enc = encodeURIComponent;
const ctx = (r: ApiResponse) => `HTTP ${r.status} ${r.text.slice(0, 600)}`;

/** A 4xx JSON error whose status and code are one of the allowed pairs. */
function expectErrorOneOf(res: ApiResponse, allowed: [number, string][], ...words: (string | RegExp)[]): void {
  const pair = allowed.find(([s, c]) => s === res.status && res.body?.error?.code === c);
  expect(pair, `expected one of ${JSON.stringify(allowed)}, got ${ctx(res)}`).toBeDefined();
  expectError(res, pair![0], pair![1], ...words);
}

async function createTopic(name: string, partitions: number): Promise<void> {
  const res = await call("POST", "/topics", { json: { name, partitions } });
  expect(res.status, ctx(res)).toBe(201);
}

/** Plain (non-transactional) records; returns their offsets. */
async function producePlain(topic: string, partition: number, values: string[]): Promise<number[]> {
  const res = await call("POST", `/topics/${enc(topic)}/records`, { json: { records: values.map((value) => ({ partition, value })) } });
  expect(res.status, ctx(res)).toBe(200);
  return res.body.records.map((r: { offset: number }) => r.offset);
}

interface Txn {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  state: string;
  timeoutMs: number;
  partitions: { topic: string; partition: number }[];
  groups: string[];
  startedAt: number | null;
  ageMs: number | null;
  lastUpdatedAt: number;
  pending: { commit: boolean; reason: string } | null;
  lastResult: { commit: boolean; reason: string; completedAt: number } | null;
}

/** A transactional producer speaking the JSON produce path; tracks its sequence per partition. */
class TxnProducer {
  private readonly seq = new Map<string, number>();
  constructor(
    readonly transactionalId: string,
    readonly producerId: number,
    readonly producerEpoch: number,
  ) {}

  static async init(transactionalId: string, transactionTimeoutMs?: number): Promise<TxnProducer> {
    const res = await call("POST", "/producers", {
      json: { transactionalId, ...(transactionTimeoutMs !== undefined ? { transactionTimeoutMs } : {}) },
    });
    expect(res.status, ctx(res)).toBe(201);
    expect(res.body.transactionalId, ctx(res)).toBe(transactionalId);
    expect(Number.isSafeInteger(res.body.producerId), ctx(res)).toBe(true);
    expect(Number.isSafeInteger(res.body.producerEpoch), ctx(res)).toBe(true);
    return new TxnProducer(transactionalId, res.body.producerId, res.body.producerEpoch);
  }

  /** One transactional batch to one partition; the sequence moves on only when it is accepted. */
  async send(topic: string, partition: number, values: string[], baseSequence?: number): Promise<ApiResponse> {
    const k = `${topic}/${partition}`;
    const seq = baseSequence ?? this.seq.get(k) ?? 0;
    const res = await call("POST", `/topics/${enc(topic)}/records`, {
      json: {
        producerId: this.producerId,
        producerEpoch: this.producerEpoch,
        baseSequence: seq,
        transactionalId: this.transactionalId,
        records: values.map((value) => ({ partition, value })),
      },
    });
    if (res.status === 200 && baseSequence === undefined) this.seq.set(k, seq + values.length);
    return res;
  }

  /** send, expecting success: consecutive offsets in the partition asked for. */
  async produce(topic: string, partition: number, values: string[]): Promise<number[]> {
    const res = await this.send(topic, partition, values);
    expect(res.status, ctx(res)).toBe(200);
    const recs = res.body.records as { partition: number; offset: number }[];
    expect(recs.map((r) => r.partition)).toEqual(values.map(() => partition));
    const offsets = recs.map((r) => r.offset);
    expect(offsets).toEqual(values.map((_, i) => offsets[0] + i));
    return offsets;
  }

  end(commit: boolean): Promise<ApiResponse> {
    return call("POST", `/transactions/${enc(this.transactionalId)}/${commit ? "commit" : "abort"}`, {
      json: { producerId: this.producerId, producerEpoch: this.producerEpoch },
    });
  }

  async commit(): Promise<Txn> {
    const res = await this.end(true);
    expect(res.status, ctx(res)).toBe(200);
    expect(res.body).toMatchObject({ transactionalId: this.transactionalId, state: "CompleteCommit" });
    return res.body;
  }

  async abort(): Promise<Txn> {
    const res = await this.end(false);
    expect(res.status, ctx(res)).toBe(200);
    expect(res.body).toMatchObject({ transactionalId: this.transactionalId, state: "CompleteAbort" });
    return res.body;
  }

  sendOffsets(
    groupId: string,
    member: { memberId: string; memberEpoch: number },
    offsets: { topic: string; partition: number; offset: number; metadata?: string | null }[],
  ): Promise<ApiResponse> {
    return call("POST", `/transactions/${enc(this.transactionalId)}/offsets`, {
      json: {
        producerId: this.producerId,
        producerEpoch: this.producerEpoch,
        groupId,
        memberId: member.memberId,
        memberEpoch: member.memberEpoch,
        offsets,
      },
    });
  }
}

async function getTxn(id: string): Promise<Txn> {
  const res = await call("GET", `/transactions/${enc(id)}`);
  expect(res.status, ctx(res)).toBe(200);
  expect(res.body.transactionalId).toBe(id);
  return res.body;
}

async function listTxns(query = ""): Promise<Txn[]> {
  const res = await call("GET", `/transactions${query}`);
  expect(res.status, ctx(res)).toBe(200);
  expect(Array.isArray(res.body.transactions), ctx(res)).toBe(true);
  return res.body.transactions;
}

interface Rec {
  offset: number;
  value: string | null;
}
interface ReadResult {
  records: Rec[];
  values: (string | null)[];
  offsets: number[];
  highWatermark: number;
  lastStableOffset: number;
  nextOffset: number;
}

/** One JSON fetch. */
async function fetchOnce(topic: string, partition: number, offset: number, isolation: Isolation) {
  const res = await call(
    "GET",
    `/topics/${enc(topic)}/partitions/${partition}/records?offset=${offset}&waitMs=0&maxRecords=1000&isolation=${isolation}`,
  );
  expect(res.status, ctx(res)).toBe(200);
  return res.body as { records: Rec[]; highWatermark: number; lastStableOffset: number; nextOffset: number };
}

/**
 * Everything a consumer with this isolation reads from `from`, following nextOffset until it
 * reaches the high watermark (read_uncommitted) or the last stable offset (read_committed).
 */
async function readAll(topic: string, partition: number, isolation: Isolation, from = 0): Promise<ReadResult> {
  let offset = from;
  const records: Rec[] = [];
  for (let round = 0; ; round++) {
    expect(round, `fetch of ${topic}/${partition} did not reach its end`).toBeLessThan(200);
    const r = await fetchOnce(topic, partition, offset, isolation);
    for (const rec of r.records) {
      expect(rec.offset, `${topic}/${partition} record offsets must increase`).toBeGreaterThanOrEqual(offset);
      if (isolation === "read_committed")
        expect(rec.offset, `${topic}/${partition}: read_committed returned a record at/after the LSO`).toBeLessThan(r.lastStableOffset);
    }
    records.push(...r.records);
    expect(r.lastStableOffset).toBeLessThanOrEqual(r.highWatermark);
    const end = isolation === "read_committed" ? r.lastStableOffset : r.highWatermark;
    if (r.nextOffset >= end || (r.records.length === 0 && r.nextOffset === offset)) {
      expect(
        r.nextOffset,
        `${topic}/${partition} ${isolation}: nextOffset vs end ${end} (LSO ${r.lastStableOffset}, HW ${r.highWatermark})`,
      ).toBe(end);
      return {
        records,
        values: records.map((x) => x.value),
        offsets: records.map((x) => x.offset),
        highWatermark: r.highWatermark,
        lastStableOffset: r.lastStableOffset,
        nextOffset: r.nextOffset,
      };
    }
    expect(r.nextOffset, `${topic}/${partition}: nextOffset must move on`).toBeGreaterThan(offset);
    offset = r.nextOffset;
  }
}

/** `GET /topics/{t}/offsets?at=latest[&isolation=…]`: partition → offset. */
async function latestOffsets(topic: string, isolation?: Isolation): Promise<Record<number, number>> {
  const res = await call("GET", `/topics/${enc(topic)}/offsets?at=latest${isolation ? `&isolation=${isolation}` : ""}`);
  expect(res.status, ctx(res)).toBe(200);
  return Object.fromEntries(res.body.partitions.map((p: { partition: number; offset: number }) => [p.partition, p.offset]));
}

interface OpenTxn {
  producerId: number;
  firstOffset: number;
  lastOffset: number;
}

/** Open transactions of a partition in topic describe (a list). */
function openTxnCount(v: unknown): number {
  if (Array.isArray(v)) return v.length;
  throw new Error(`partition.openTransactions is not an array: ${JSON.stringify(v)}`);
}

async function describeTopic(
  topic: string,
): Promise<{ partition: number; highWatermark: number; lastStableOffset: number; openTransactions: OpenTxn[] }[]> {
  const res = await call("GET", `/topics/${enc(topic)}`);
  expect(res.status, ctx(res)).toBe(200);
  return res.body.partitions;
}

const sortTps = (tps: { topic: string; partition: number }[]) =>
  [...tps]
    .map((tp) => ({ topic: tp.topic, partition: tp.partition }))
    .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));

// ---- groups ------------------------------------------------------------------------------

interface Member {
  group: string;
  memberId: string;
  memberEpoch: number;
  assignment: { topic: string; partitions: number[] }[];
}
const mp = (group: string, member: string) => `/groups/${enc(group)}/members/${enc(member)}`;

async function join(group: string, body: Record<string, unknown>): Promise<Member> {
  const res = await call("POST", `/groups/${enc(group)}/members`, { json: body });
  expect(res.status, ctx(res)).toBe(201);
  return { group, memberId: res.body.memberId, memberEpoch: res.body.memberEpoch, assignment: res.body.assignment };
}

async function heartbeat(m: Member): Promise<void> {
  const res = await call("POST", `${mp(m.group, m.memberId)}/heartbeat`, {
    json: { memberEpoch: m.memberEpoch, ownedPartitions: m.assignment },
  });
  expect(res.status, ctx(res)).toBe(200);
  m.memberEpoch = res.body.memberEpoch;
  m.assignment = res.body.assignment;
}

async function groupState(group: string): Promise<string> {
  const res = await call("GET", `/groups/${enc(group)}`);
  expect(res.status, ctx(res)).toBe(200);
  return res.body.state;
}

/** Heartbeats every member until the group is Stable. */
async function settle(members: Member[]): Promise<void> {
  for (let round = 0; round < 20; round++) {
    for (const m of members) await heartbeat(m);
    if ((await groupState(members[0].group)) === "Stable") return;
  }
  throw new Error("group did not become Stable");
}

/** Committed offsets of a group: "topic/partition" → offset (null: none), and metadata. */
async function committed(group: string): Promise<Record<string, { offset: number | null; metadata: string | null }>> {
  const res = await call("GET", `/groups/${enc(group)}`);
  expect(res.status, ctx(res)).toBe(200);
  return Object.fromEntries(
    res.body.offsets.map((o: { topic: string; partition: number; committedOffset: number | null; metadata: string | null }) => [
      `${o.topic}/${o.partition}`,
      { offset: o.committedOffset, metadata: o.metadata },
    ]),
  );
}
const committedOffset = async (group: string, tp: string) => (await committed(group))[tp]?.offset ?? null;

// ===========================================================================================

describe("atomic visibility across 3 topics, 8 partitions", () => {
  const TOPICS: [string, number][] = [
    ["atom-a", 3],
    ["atom-b", 2],
    ["atom-c", 3],
  ];
  const TPS = TOPICS.flatMap(([t, n]) => Array.from({ length: n }, (_, p) => ({ topic: t, partition: p })));
  const v = (tag: string, topic: string, p: number, i: number) => `${tag}:${topic}/${p}:${i}`;
  let prod: TxnProducer;

  beforeAll(async () => {
    for (const [t, n] of TOPICS) await createTopic(t, n);
    // two committed plain records in every partition: offsets 0, 1
    for (const { topic, partition } of TPS)
      expect(await producePlain(topic, partition, [v("seed", topic, partition, 0), v("seed", topic, partition, 1)])).toEqual([0, 1]);
    prod = await TxnProducer.init("atom", 120_000);
  });

  it("an open transaction is read by read_uncommitted, invisible to read_committed (LSO stays at its first offset)", async () => {
    for (const { topic, partition } of TPS) {
      // two requests per partition: sequences continue at baseSequence + records
      expect(await prod.produce(topic, partition, [v("t1", topic, partition, 0), v("t1", topic, partition, 1)])).toEqual([2, 3]);
      expect(await prod.produce(topic, partition, [v("t1", topic, partition, 2)])).toEqual([4]);
    }
    // a retried transactional batch gets its original offset and is stored once
    const retry = await prod.send("atom-a", 0, [v("t1", "atom-a", 0, 2)], 2);
    expect(retry.status, ctx(retry)).toBe(200);
    expect(retry.body.records.map((r: { offset: number }) => r.offset)).toEqual([4]);
    // a plain record after the open transaction's: read_committed may not pass the LSO to reach it
    expect(await producePlain("atom-a", 0, ["plain-mid"])).toEqual([5]);

    for (const { topic, partition } of TPS) {
      const extra = topic === "atom-a" && partition === 0 ? ["plain-mid"] : [];
      const rc = await readAll(topic, partition, "read_committed");
      expect(rc.values, `${topic}/${partition}`).toEqual([v("seed", topic, partition, 0), v("seed", topic, partition, 1)]);
      expect(rc.lastStableOffset, `${topic}/${partition}`).toBe(2);
      expect(rc.nextOffset, `${topic}/${partition}`).toBe(2);
      expect(rc.highWatermark, `${topic}/${partition}`).toBe(5 + extra.length);
      // fetching read_committed at the LSO: nothing, and nextOffset does not move past it
      const atLso = await fetchOnce(topic, partition, 2, "read_committed");
      expect(atLso.records).toEqual([]);
      expect(atLso.nextOffset).toBe(2);

      const ru = await readAll(topic, partition, "read_uncommitted");
      expect(ru.values, `${topic}/${partition}`).toEqual([
        v("seed", topic, partition, 0),
        v("seed", topic, partition, 1),
        v("t1", topic, partition, 0),
        v("t1", topic, partition, 1),
        v("t1", topic, partition, 2),
        ...extra,
      ]);
      expect(ru.offsets).toEqual(ru.values.map((_, i) => i));
      expect(ru.lastStableOffset).toBe(2);
    }
  });

  it("list-offsets latest under read_committed is the LSO; topic describe shows LSO and the open transaction", async () => {
    for (const [topic, n] of TOPICS) {
      const rc = await latestOffsets(topic, "read_committed");
      const ru = await latestOffsets(topic, "read_uncommitted");
      const dflt = await latestOffsets(topic);
      const parts = await describeTopic(topic);
      for (let p = 0; p < n; p++) {
        const hw = topic === "atom-a" && p === 0 ? 6 : 5;
        expect(rc[p], `${topic}/${p} read_committed latest`).toBe(2);
        expect(ru[p], `${topic}/${p} read_uncommitted latest`).toBe(hw);
        expect(dflt[p], `${topic}/${p} default latest`).toBe(hw);
        const d = parts.find((x) => x.partition === p)!;
        expect(d.highWatermark).toBe(hw);
        expect(d.lastStableOffset, `${topic}/${p} describe LSO`).toBe(2);
        expect(openTxnCount(d.openTransactions), `${topic}/${p} describe openTransactions`).toBe(1);
        expect(d.openTransactions[0]).toMatchObject({ producerId: prod.producerId, firstOffset: 2 });
        expect(d.openTransactions[0].lastOffset).toBeGreaterThanOrEqual(4);
      }
    }
  });

  it("GET /transactions (all, ?state=open, ?state=Ongoing) and /transactions/{id} show the open transaction", async () => {
    const before = Date.now();
    for (const q of ["", "?state=open", "?state=Ongoing", "?state=Ongoing,PrepareCommit"]) {
      const t = (await listTxns(q)).find((x) => x.transactionalId === "atom");
      expect(t, `GET /transactions${q}`).toBeDefined();
      expect(t!.state).toBe("Ongoing");
    }
    expect((await listTxns("?state=CompleteCommit")).map((x) => x.transactionalId)).not.toContain("atom");
    const t = await getTxn("atom");
    expect(t).toMatchObject({
      transactionalId: "atom",
      producerId: prod.producerId,
      producerEpoch: prod.producerEpoch,
      state: "Ongoing",
      timeoutMs: 120_000,
      groups: [],
      pending: null,
    });
    expect(sortTps(t.partitions)).toEqual(sortTps(TPS));
    expect(t.startedAt).toEqual(expect.any(Number));
    expect(t.startedAt!).toBeLessThanOrEqual(before);
    expect(t.ageMs).toEqual(expect.any(Number));
    expect(t.ageMs!).toBeGreaterThanOrEqual(0);
    // GET /producers: this producer's open transaction starts at offset 2 of every partition it wrote to
    const producers = await call("GET", "/producers");
    expect(producers.status, ctx(producers)).toBe(200);
    const mine = producers.body.producers.filter((x: { producerId: number }) => x.producerId === prod.producerId);
    expect(sortTps(mine)).toEqual(sortTps(TPS));
    for (const e of mine)
      expect(e, JSON.stringify(e)).toMatchObject({ producerEpoch: prod.producerEpoch, lastSequence: 2, currentTxnStartOffset: 2 });
    // the age grows with time (server clock): the second look is not younger
    const again = await getTxn("atom");
    expect(again.ageMs!).toBeGreaterThanOrEqual(t.ageMs!);
  });

  it("commit: read_committed sees every partition's records at once; the marker takes one offset and is never returned", async () => {
    const done = await prod.commit();
    expect(done.lastResult).toMatchObject({ commit: true });
    for (const { topic, partition } of TPS) {
      const extra = topic === "atom-a" && partition === 0 ? ["plain-mid"] : [];
      const expected = [
        v("seed", topic, partition, 0),
        v("seed", topic, partition, 1),
        v("t1", topic, partition, 0),
        v("t1", topic, partition, 1),
        v("t1", topic, partition, 2),
        ...extra,
      ];
      const hw = expected.length + 1; // + the commit marker
      for (const iso of ["read_committed", "read_uncommitted"] as const) {
        const r = await readAll(topic, partition, iso);
        expect(r.values, `${topic}/${partition} ${iso}`).toEqual(expected);
        expect(r.offsets).toEqual(expected.map((_, i) => i));
        expect(r.highWatermark, `${topic}/${partition} HW = records + marker`).toBe(hw);
        expect(r.lastStableOffset, `${topic}/${partition} LSO after commit`).toBe(hw);
        expect(r.nextOffset).toBe(hw);
      }
      // the marker's offset holds nothing a consumer sees
      const atMarker = await fetchOnce(topic, partition, hw - 1, "read_uncommitted");
      expect(atMarker.records).toEqual([]);
      expect(atMarker.nextOffset).toBe(hw);
    }
    for (const [topic, n] of TOPICS) {
      const rc = await latestOffsets(topic, "read_committed");
      const ru = await latestOffsets(topic);
      const parts = await describeTopic(topic);
      for (let p = 0; p < n; p++) {
        expect(rc[p]).toBe(ru[p]);
        const d = parts.find((x) => x.partition === p)!;
        expect(d.lastStableOffset).toBe(d.highWatermark);
        expect(openTxnCount(d.openTransactions)).toBe(0);
      }
    }
    const t = await getTxn("atom");
    expect(t.state).toBe("CompleteCommit");
    expect(t.lastResult).toMatchObject({ commit: true });
    const producers = await call("GET", "/producers");
    const mine = producers.body.producers.filter((x: { producerId: number }) => x.producerId === prod.producerId);
    expect(mine).toHaveLength(TPS.length);
    for (const e of mine) expect(e.currentTxnStartOffset, JSON.stringify(e)).toBe(null);
    expect((await listTxns("?state=open")).map((x) => x.transactionalId)).not.toContain("atom");
    expect((await listTxns("?state=CompleteCommit")).map((x) => x.transactionalId)).toContain("atom");
  });

  it("an aborted transaction: read_uncommitted sees its records, read_committed skips them and reads on past them", async () => {
    const touched = [
      { topic: "atom-a", partition: 1 },
      { topic: "atom-b", partition: 0 },
      { topic: "atom-c", partition: 2 },
    ];
    // the same producer, next transaction: sequences continue, offsets after the commit marker (6)
    for (const { topic, partition } of touched)
      expect(await prod.produce(topic, partition, [v("t2", topic, partition, 0), v("t2", topic, partition, 1)])).toEqual([6, 7]);
    const open = await getTxn("atom");
    expect(open.state).toBe("Ongoing");
    expect(sortTps(open.partitions)).toEqual(sortTps(touched));
    const aborted = await prod.abort();
    expect(aborted.lastResult).toMatchObject({ commit: false });
    expect((await getTxn("atom")).state).toBe("CompleteAbort");
    // after the abort the LSO is the HW again: offsets 6, 7 records, 8 the abort marker
    for (const { topic, partition } of touched) {
      const rc = await readAll(topic, partition, "read_committed");
      expect(rc.highWatermark).toBe(9);
      expect(rc.lastStableOffset).toBe(9);
    }
    for (const { topic, partition } of touched)
      expect(await producePlain(topic, partition, [v("after", topic, partition, 0)])).toEqual([9]);

    for (const { topic, partition } of TPS) {
      const base = [
        v("seed", topic, partition, 0),
        v("seed", topic, partition, 1),
        v("t1", topic, partition, 0),
        v("t1", topic, partition, 1),
        v("t1", topic, partition, 2),
        ...(topic === "atom-a" && partition === 0 ? ["plain-mid"] : []),
      ];
      const isTouched = touched.some((x) => x.topic === topic && x.partition === partition);
      const rc = await readAll(topic, partition, "read_committed");
      const ru = await readAll(topic, partition, "read_uncommitted");
      if (!isTouched) {
        expect(rc.values).toEqual(base);
        expect(ru.values).toEqual(base);
        expect(rc.highWatermark).toBe(base.length + 1);
        continue;
      }
      expect(rc.values, `${topic}/${partition} read_committed`).toEqual([...base, v("after", topic, partition, 0)]);
      expect(rc.offsets).toEqual([0, 1, 2, 3, 4, 9]);
      expect(rc.nextOffset).toBe(10);
      expect(ru.values, `${topic}/${partition} read_uncommitted`).toEqual([
        ...base,
        v("t2", topic, partition, 0),
        v("t2", topic, partition, 1),
        v("after", topic, partition, 0),
      ]);
      expect(ru.offsets).toEqual([0, 1, 2, 3, 4, 6, 7, 9]);
      // 6 records + 2 aborted + 2 markers
      expect(ru.highWatermark).toBe(10);
      expect(ru.lastStableOffset).toBe(10);
      // a read_committed consumer positioned inside the aborted range continues past it
      const mid = await readAll(topic, partition, "read_committed", 6);
      expect(mid.values).toEqual([v("after", topic, partition, 0)]);
      expect(mid.nextOffset).toBe(10);
    }
  });

  it("a third transaction of the same producer commits after the abort (sequences continue where they were)", async () => {
    expect(await prod.produce("atom-b", 1, ["t3"])).toEqual([6]);
    // atom-a/1 holds this producer's aborted batch: its next sequence follows it
    expect(await prod.produce("atom-a", 1, ["t3-a1"])).toEqual([10]);
    await prod.commit();
    const rc = await readAll("atom-b", 1, "read_committed");
    expect(rc.values.at(-1)).toBe("t3");
    expect(rc.highWatermark).toBe(8);
    const a1 = await readAll("atom-a", 1, "read_committed");
    expect(a1.values.slice(-2)).toEqual([v("after", "atom-a", 1, 0), "t3-a1"]);
    expect(a1.offsets.slice(-2)).toEqual([9, 10]);
    expect(a1.highWatermark).toBe(12);
  });

  it("read_committed one record per fetch (maxRecords=1) steps over aborted batches and markers by nextOffset", async () => {
    for (const { topic, partition } of [
      { topic: "atom-a", partition: 1 },
      { topic: "atom-a", partition: 0 },
    ]) {
      const all = await readAll(topic, partition, "read_committed");
      let offset = 0;
      const got: Rec[] = [];
      for (let i = 0; i < 50 && offset < all.lastStableOffset; i++) {
        const res = await call(
          "GET",
          `/topics/${topic}/partitions/${partition}/records?offset=${offset}&waitMs=0&maxRecords=1&isolation=read_committed`,
        );
        expect(res.status, ctx(res)).toBe(200);
        expect(res.body.records.length).toBeLessThanOrEqual(1);
        expect(res.body.nextOffset, ctx(res)).toBeGreaterThan(offset);
        got.push(...res.body.records);
        offset = res.body.nextOffset;
      }
      expect(offset).toBe(all.lastStableOffset);
      expect(got.map((r) => r.value)).toEqual(all.values);
      expect(got.map((r) => r.offset)).toEqual(all.offsets);
    }
  });
});

describe("zombie fencing", () => {
  const T = "zomb";
  let a: TxnProducer;
  let b: TxnProducer;
  let member: Member;

  beforeAll(async () => {
    await createTopic(T, 3);
    await createTopic("zomb-in", 1);
    await producePlain("zomb-in", 0, ["i0", "i1", "i2"]);
    member = await join("zomb-g", { topics: ["zomb-in"], autoOffsetReset: "earliest" });
    expect(member.assignment).toEqual([{ topic: "zomb-in", partitions: [0] }]);
  });

  it("a second init of the id aborts the first instance's open transaction before it replies", async () => {
    a = await TxnProducer.init("zombie-x");
    await a.produce(T, 0, ["a0", "a1"]);
    await a.produce(T, 1, ["a2"]);
    expect((await a.sendOffsets("zomb-g", member, [{ topic: "zomb-in", partition: 0, offset: 2 }])).status).toBe(200);
    expect((await getTxn("zombie-x")).state).toBe("Ongoing");

    b = await TxnProducer.init("zombie-x");
    expect(
      b.producerId === a.producerId ? b.producerEpoch > a.producerEpoch : true,
      `A ${a.producerId}/${a.producerEpoch}, B ${b.producerId}/${b.producerEpoch}`,
    ).toBe(true);
    expect([b.producerId, b.producerEpoch]).not.toEqual([a.producerId, a.producerEpoch]);

    const t = await getTxn("zombie-x");
    expect(t.state).toBe("CompleteAbort");
    expect(t.lastResult).toMatchObject({ commit: false });
    expect(t.producerId).toBe(b.producerId);
    expect(t.producerEpoch).toBe(b.producerEpoch);
    // A's records: aborted (1 marker each), never visible under read_committed; its offsets not committed
    const p0 = await readAll(T, 0, "read_committed");
    expect(p0.values).toEqual([]);
    expect(p0.highWatermark).toBe(3);
    expect(p0.lastStableOffset).toBe(3);
    const p1 = await readAll(T, 1, "read_committed");
    expect(p1.values).toEqual([]);
    expect(p1.lastStableOffset).toBe(p1.highWatermark);
    expect((await readAll(T, 0, "read_uncommitted")).values).toEqual(["a0", "a1"]);
    expect(await committedOffset("zomb-g", "zomb-in/0")).toBe(null);
  });

  it("the fenced instance can neither produce, send offsets, commit nor abort (409), and writes nothing", async () => {
    const hw = await latestOffsets(T);
    // a partition A wrote to (the abort marker carries the new epoch) and one it never touched
    for (const partition of [0, 2]) {
      const r = await a.send(T, partition, [`zombie-${partition}`]);
      expectErrorOneOf(r, [
        [409, "PRODUCER_FENCED"],
        [409, "INVALID_PRODUCER_EPOCH"],
      ]);
    }
    const off = await a.sendOffsets("zomb-g", member, [{ topic: "zomb-in", partition: 0, offset: 3 }]);
    expectError(off, 409, "PRODUCER_FENCED");
    expectError(await a.end(true), 409, "PRODUCER_FENCED");
    expectError(await a.end(false), 409, "PRODUCER_FENCED");
    expect(await latestOffsets(T)).toEqual(hw);
    for (let p = 0; p < 3; p++)
      expect((await readAll(T, p, "read_uncommitted")).values.filter((x) => x?.startsWith("zombie-"))).toEqual([]);
    expect(await committedOffset("zomb-g", "zomb-in/0")).toBe(null);
    const t = await getTxn("zombie-x");
    expect(t.state).toBe("CompleteAbort");
    expect(t.producerEpoch).toBe(b.producerEpoch);
  });

  it("the new instance works: its transaction (records and offsets) commits", async () => {
    await b.produce(T, 0, ["b0"]);
    await b.produce(T, 2, ["b1"]);
    const r = await b.sendOffsets("zomb-g", member, [{ topic: "zomb-in", partition: 0, offset: 3 }]);
    expect(r.status, ctx(r)).toBe(200);
    await b.commit();
    expect((await readAll(T, 0, "read_committed")).values).toEqual(["b0"]);
    expect((await readAll(T, 2, "read_committed")).values).toEqual(["b1"]);
    expect(await committedOffset("zomb-g", "zomb-in/0")).toBe(3);
    // and the zombie is still fenced afterwards
    expectError(await a.end(true), 409, "PRODUCER_FENCED");
  });
});

describe("consumer-group offsets in the transaction (KIP-447)", () => {
  const IN = "k-in";
  const OUT = "k-out";
  const G = "k-g";
  let m: Member;
  let prod: TxnProducer;

  beforeAll(async () => {
    await createTopic(IN, 2);
    await createTopic(OUT, 1);
    for (const p of [0, 1]) await producePlain(IN, p, ["x0", "x1", "x2", "x3", "x4", "x5"]);
    m = await join(G, { topics: [IN], autoOffsetReset: "earliest" });
    expect(m.assignment).toEqual([{ topic: IN, partitions: [0, 1] }]);
    prod = await TxnProducer.init("k-txn");
  });

  it("offsets sent in a transaction are committed to the group only when it commits", async () => {
    await prod.produce(OUT, 0, ["o0", "o1"]);
    const r = await prod.sendOffsets(G, m, [
      { topic: IN, partition: 0, offset: 3, metadata: "txn-meta" },
      { topic: IN, partition: 1, offset: 2 },
    ]);
    expect(r.status, ctx(r)).toBe(200);
    expect(r.body).toMatchObject({ transactionalId: "k-txn", state: "Ongoing" });
    const t = await getTxn("k-txn");
    expect(t.groups).toEqual([G]);
    expect(sortTps(t.partitions)).toEqual([{ topic: OUT, partition: 0 }]);
    // pending, not committed
    expect(await committedOffset(G, `${IN}/0`)).toBe(null);
    expect(await committedOffset(G, `${IN}/1`)).toBe(null);
    await prod.commit();
    const c = await committed(G);
    expect(c[`${IN}/0`]).toEqual({ offset: 3, metadata: "txn-meta" });
    expect(c[`${IN}/1`]?.offset).toBe(2);
    expect((await readAll(OUT, 0, "read_committed")).values).toEqual(["o0", "o1"]);
    expect((await getTxn("k-txn")).groups).toEqual([]);
  });

  it("a later offset for the same partition in one transaction replaces the earlier; offsets-only transactions commit", async () => {
    expect((await prod.sendOffsets(G, m, [{ topic: IN, partition: 0, offset: 4 }])).status).toBe(200);
    expect((await prod.sendOffsets(G, m, [{ topic: IN, partition: 0, offset: 5 }])).status).toBe(200);
    const t = await getTxn("k-txn");
    expect(t.state).toBe("Ongoing");
    expect(t.partitions).toEqual([]);
    expect(t.groups).toEqual([G]);
    await prod.commit();
    expect(await committedOffset(G, `${IN}/0`)).toBe(5);
    expect(await committedOffset(G, `${IN}/1`)).toBe(2);
  });

  it("abort: the transaction's offsets are dropped, the group's committed offsets do not change", async () => {
    await prod.produce(OUT, 0, ["o2"]);
    expect(
      (
        await prod.sendOffsets(G, m, [
          { topic: IN, partition: 0, offset: 6 },
          { topic: IN, partition: 1, offset: 6 },
        ])
      ).status,
    ).toBe(200);
    await prod.abort();
    expect(await committedOffset(G, `${IN}/0`)).toBe(5);
    expect(await committedOffset(G, `${IN}/1`)).toBe(2);
    expect((await readAll(OUT, 0, "read_committed")).values).toEqual(["o0", "o1"]);
  });

  it("a wrong member, a stale member epoch, another group, a partition the member does not own: 4xx, nothing committed", async () => {
    await prod.produce(OUT, 0, ["o3"]);
    const oldEpoch = m.memberEpoch;
    // a second member joins and leaves: the group (and m) move on by epochs, and while it is in,
    // it owns one of the two partitions
    const other = await join(G, { topics: [IN] });
    await settle([m, other]);
    expect(m.memberEpoch).toBeGreaterThan(oldEpoch);
    const mine = m.assignment.find((a) => a.topic === IN)?.partitions ?? [];
    expect(mine).toHaveLength(1);
    const notMine = mine[0] === 0 ? 1 : 0;
    const notOwned = await prod.sendOffsets(G, m, [{ topic: IN, partition: notMine, offset: 6 }]);
    expect(notOwned.status, ctx(notOwned)).toBeGreaterThanOrEqual(400);
    expect(notOwned.status, ctx(notOwned)).toBeLessThan(500);
    expect(typeof notOwned.body?.error?.code, ctx(notOwned)).toBe("string");
    expect(notOwned.body.error.message, ctx(notOwned)).toMatch(new RegExp(`${IN}\\D{0,12}${notMine}`));
    const leave = await call("DELETE", mp(G, other.memberId));
    expect(leave.status, ctx(leave)).toBe(204);
    await settle([m]);
    expect(m.assignment).toEqual([{ topic: IN, partitions: [0, 1] }]);

    const good = { topic: IN, partition: 0, offset: 6 };
    expectError(
      await prod.sendOffsets(G, { memberId: "no-such-member", memberEpoch: m.memberEpoch }, [good]),
      404,
      "UNKNOWN_MEMBER_ID",
      "no-such-member",
    );
    expectErrorOneOf(
      await prod.sendOffsets(G, { memberId: m.memberId, memberEpoch: oldEpoch }, [good]),
      [[409, "STALE_MEMBER_EPOCH"]],
      /epoch/i,
    );
    expectErrorOneOf(await prod.sendOffsets(G, { memberId: m.memberId, memberEpoch: m.memberEpoch + 1 }, [good]), [
      [409, "FENCED_MEMBER_EPOCH"],
      [409, "STALE_MEMBER_EPOCH"],
    ]);
    // another group, that exists but has not this member; and a group that does not exist
    const stranger = await join("k-other", { topics: [IN] });
    expectError(await prod.sendOffsets("k-other", m, [good]), 404, "UNKNOWN_MEMBER_ID", m.memberId);
    expectErrorOneOf(await prod.sendOffsets("k-none", m, [good]), [
      [404, "GROUP_ID_NOT_FOUND"],
      [404, "UNKNOWN_MEMBER_ID"],
    ]);
    // none of them joined the transaction
    expect((await getTxn("k-txn")).groups).toEqual([]);
    await prod.commit();
    expect(await committedOffset(G, `${IN}/0`)).toBe(5);
    expect(await committedOffset(G, `${IN}/1`)).toBe(2);
    expect(await committedOffset("k-other", `${IN}/0`)).toBe(null);
    expect(await committedOffset("k-other", `${IN}/1`)).toBe(null);
    expect((await call("GET", "/groups/k-none")).status).toBe(404);
    expect(stranger.memberId).not.toBe(m.memberId);
  });
});

describe("read_committed consumer-group members", () => {
  it("polls skip open and aborted transactional records and deliver committed ones", async () => {
    await createTopic("rc-t", 1);
    const prod = await TxnProducer.init("rc-txn");
    await producePlain("rc-t", 0, ["p0"]);
    await prod.produce("rc-t", 0, ["open0"]);
    const rc = await join("rc-g", { topics: ["rc-t"], autoOffsetReset: "earliest", isolationLevel: "read_committed" });
    const ru = await join("ru-g", { topics: ["rc-t"], autoOffsetReset: "earliest", isolationLevel: "read_uncommitted" });
    /** Polls until `n` records came (bounded), then checks that one more poll brings nothing. */
    const pollN = async (m: Member, n: number): Promise<string[]> => {
      const out: string[] = [];
      for (let i = 0; i < 20 && out.length < n; i++) {
        const r = await call("GET", `${mp(m.group, m.memberId)}/records?waitMs=200`);
        expect(r.status, ctx(r)).toBe(200);
        out.push(...r.body.records.map((x: { value: string }) => x.value));
      }
      const more = await call("GET", `${mp(m.group, m.memberId)}/records?waitMs=0`);
      expect(more.status, ctx(more)).toBe(200);
      out.push(...more.body.records.map((x: { value: string }) => x.value));
      return out;
    };
    expect(await pollN(rc, 1)).toEqual(["p0"]);
    expect(await pollN(ru, 2)).toEqual(["p0", "open0"]);
    await prod.abort();
    await producePlain("rc-t", 0, ["p1"]);
    await prod.produce("rc-t", 0, ["c0", "c1"]);
    expect(await pollN(rc, 1)).toEqual(["p1"]);
    await prod.commit();
    expect(await pollN(rc, 2)).toEqual(["c0", "c1"]);
    expect(await pollN(ru, 3)).toEqual(["p1", "c0", "c1"]);
  });
});

describe("transaction timeout", () => {
  it("an open transaction past transactionTimeoutMs is aborted by the broker; its producer gets TRANSACTION_ABORTED", async () => {
    await createTopic("slow-t", 2);
    await producePlain("slow-t", 0, ["before"]);
    const prod = await TxnProducer.init("slow", 1500);
    await prod.produce("slow-t", 0, ["s0", "s1"]);
    await prod.produce("slow-t", 1, ["s2"]);
    const open = await getTxn("slow");
    expect(open).toMatchObject({ state: "Ongoing", timeoutMs: 1500 });
    const startedAt = open.startedAt!;
    expect(startedAt).toEqual(expect.any(Number));

    // bounded wait for the broker to abort it (1.5 s timeout, checked every 200 ms)
    let t = open;
    const deadline = Date.now() + 15_000;
    while (t.state !== "CompleteAbort" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      t = await getTxn("slow");
    }
    expect(t.state, JSON.stringify(t)).toBe("CompleteAbort");
    expect(t.lastResult).toMatchObject({ commit: false, reason: "timeout" });
    // not before its time (server clock on both sides)
    expect(t.lastResult!.completedAt - startedAt).toBeGreaterThanOrEqual(1500);
    expect((await listTxns("?state=open")).map((x) => x.transactionalId)).not.toContain("slow");

    const p0 = await readAll("slow-t", 0, "read_committed");
    expect(p0.values).toEqual(["before"]);
    expect(p0.highWatermark).toBe(4); // before, s0, s1, abort marker
    expect(p0.lastStableOffset).toBe(4);
    const p1 = await readAll("slow-t", 1, "read_committed");
    expect(p1.values).toEqual([]);
    expect(p1.lastStableOffset).toBe(p1.highWatermark);
    expect(p1.highWatermark).toBe(2);
    expect(await latestOffsets("slow-t", "read_committed")).toEqual({ 0: 4, 1: 2 });
    for (const d of await describeTopic("slow-t")) expect(openTxnCount(d.openTransactions)).toBe(0);

    const aborted: [number, string][] = [
      [409, "TRANSACTION_ABORTED"],
      [409, "PRODUCER_FENCED"],
    ];
    expectErrorOneOf(await prod.send("slow-t", 0, ["late"]), [...aborted, [409, "INVALID_PRODUCER_EPOCH"]]);
    expectErrorOneOf(await prod.end(true), aborted);
    expect((await readAll("slow-t", 0, "read_uncommitted")).values).not.toContain("late");

    // initialising again gives a working producer
    const again = await TxnProducer.init("slow", 60_000);
    await again.produce("slow-t", 0, ["fresh"]);
    await again.commit();
    expect((await readAll("slow-t", 0, "read_committed")).values).toEqual(["before", "fresh"]);
  });
});

describe("bad input", () => {
  let idle: TxnProducer;
  let plainProducer: { producerId: number; producerEpoch: number };

  beforeAll(async () => {
    await createTopic("bad-t", 2);
    await producePlain("bad-t", 0, ["x"]);
    idle = await TxnProducer.init("idle-txn");
    const res = await call("POST", "/producers", { json: {} });
    expect(res.status, ctx(res)).toBe(201);
    plainProducer = res.body;
  });

  it("unknown transactional ids: GET 404; commit/abort/offsets refused (4xx)", async () => {
    expectError(await call("GET", "/transactions/no-such-txn"), 404, "TRANSACTIONAL_ID_NOT_FOUND", "no-such-txn");
    const unknown: [number, string][] = [
      [409, "INVALID_PRODUCER_ID_MAPPING"],
      [404, "TRANSACTIONAL_ID_NOT_FOUND"],
    ];
    const who = { producerId: plainProducer.producerId, producerEpoch: 0 };
    expectErrorOneOf(await call("POST", "/transactions/no-such-txn/commit", { json: who }), unknown, "no-such-txn");
    expectErrorOneOf(await call("POST", "/transactions/no-such-txn/abort", { json: who }), unknown, "no-such-txn");
    const off = { ...who, groupId: "g", memberId: "m", memberEpoch: 1, offsets: [{ topic: "bad-t", partition: 0, offset: 1 }] };
    const r = await call("POST", "/transactions/no-such-txn/offsets", { json: off });
    expect(r.status, ctx(r)).toBeGreaterThanOrEqual(400);
    expect(r.status, ctx(r)).toBeLessThan(500);
    // producing into an unknown id's transaction: refused, nothing written
    const hw = await latestOffsets("bad-t");
    const p = await call("POST", "/topics/bad-t/records", {
      json: { ...who, baseSequence: 0, transactionalId: "no-such-txn", records: [{ partition: 0, value: "u" }] },
    });
    expectErrorOneOf(p, unknown, "no-such-txn");
    expect(await latestOffsets("bad-t")).toEqual(hw);
    expectError(await call("GET", "/transactions/no-such-txn"), 404, "TRANSACTIONAL_ID_NOT_FOUND");
  });

  it("commit or abort with no open transaction: 409 INVALID_TXN_STATE; another producer id: 409 INVALID_PRODUCER_ID_MAPPING", async () => {
    expectError(await idle.end(true), 409, "INVALID_TXN_STATE", "idle-txn");
    expectError(await idle.end(false), 409, "INVALID_TXN_STATE", "idle-txn");
    const other = { producerId: plainProducer.producerId, producerEpoch: idle.producerEpoch };
    expectError(await call("POST", "/transactions/idle-txn/commit", { json: other }), 409, "INVALID_PRODUCER_ID_MAPPING");
    const hw = await latestOffsets("bad-t");
    const p = await call("POST", "/topics/bad-t/records", {
      json: { ...other, baseSequence: 0, transactionalId: "idle-txn", records: [{ partition: 0, value: "w" }] },
    });
    expectError(p, 409, "INVALID_PRODUCER_ID_MAPPING");
    // a newer epoch than the id's current one is fenced too
    expectError(
      await call("POST", "/transactions/idle-txn/commit", { json: { producerId: idle.producerId, producerEpoch: idle.producerEpoch + 1 } }),
      409,
      "PRODUCER_FENCED",
    );
    expect(await latestOffsets("bad-t")).toEqual(hw);
    expect((await getTxn("idle-txn")).state).toBe("Empty");
  });

  it("malformed transaction requests: 400 VALIDATION_FAILED / INVALID_JSON", async () => {
    const who = { producerId: idle.producerId, producerEpoch: idle.producerEpoch };
    for (const op of ["commit", "abort"]) {
      const path = `/transactions/idle-txn/${op}`;
      expectError(await call("POST", path, { raw: '{"producerId":' }), 400, "INVALID_JSON");
      expectError(await call("POST", path, { json: {} }), 400, "VALIDATION_FAILED", "producerId");
      expectError(await call("POST", path, { json: { producerId: idle.producerId } }), 400, "VALIDATION_FAILED", "producerEpoch");
      expectError(await call("POST", path, { json: { ...who, producerEpoch: "0" } }), 400, "VALIDATION_FAILED", "producerEpoch");
      expectError(await call("POST", path, { json: { ...who, producerId: -1 } }), 400, "VALIDATION_FAILED", "producerId");
      expectError(await call("POST", path, { json: { ...who, producerEpoch: 40_000 } }), 400, "VALIDATION_FAILED", "producerEpoch");
      expectError(await call("POST", path, { json: { ...who, commit: true } }), 400, "VALIDATION_FAILED", "commit");
      expectError(await call("POST", path, { json: [] }), 400, "VALIDATION_FAILED");
    }
    const offPath = "/transactions/idle-txn/offsets";
    const off = { ...who, groupId: "g", memberId: "m", memberEpoch: 1, offsets: [{ topic: "bad-t", partition: 0, offset: 1 }] };
    expectError(await call("POST", offPath, { json: { ...off, offsets: [] } }), 400, "VALIDATION_FAILED", "offsets");
    expectError(
      await call("POST", offPath, { json: { ...off, offsets: [{ topic: "bad-t", partition: 0, offset: -1 }] } }),
      400,
      "VALIDATION_FAILED",
      "offset",
    );
    expectError(
      await call("POST", offPath, { json: { ...off, offsets: [{ topic: "bad-t", partition: 0 }] } }),
      400,
      "VALIDATION_FAILED",
      "offset",
    );
    expectError(await call("POST", offPath, { json: { ...off, groupId: undefined } }), 400, "VALIDATION_FAILED", "groupId");
    expectError(await call("POST", offPath, { json: { ...off, memberId: undefined } }), 400, "VALIDATION_FAILED", "memberId");
    expectError(await call("POST", offPath, { json: { ...off, memberEpoch: -1 } }), 400, "VALIDATION_FAILED", "memberEpoch");
    expectError(await call("POST", offPath, { raw: "{" }), 400, "INVALID_JSON");
    // none of it started a transaction
    expect((await getTxn("idle-txn")).state).toBe("Empty");
    expectError(await call("GET", "/transactions?state=Bogus"), 400, "VALIDATION_FAILED", "state");
    expectError(await call("GET", "/transactions?foo=1"), 400, "VALIDATION_FAILED", "foo");
  });

  it("producer init: a too large / zero timeout, or a timeout without transactional id: 400", async () => {
    const tooLarge = await call("POST", "/producers", { json: { transactionalId: "big-timeout", transactionTimeoutMs: 900_001 } });
    expectErrorOneOf(
      tooLarge,
      [
        [400, "VALIDATION_FAILED"],
        [400, "INVALID_TRANSACTION_TIMEOUT"],
      ],
      "transactionTimeoutMs",
    );
    expectErrorOneOf(await call("POST", "/producers", { json: { transactionalId: "big-timeout", transactionTimeoutMs: 0 } }), [
      [400, "VALIDATION_FAILED"],
      [400, "INVALID_TRANSACTION_TIMEOUT"],
    ]);
    expectError(await call("POST", "/producers", { json: { transactionTimeoutMs: 1000 } }), 400, "VALIDATION_FAILED", "transactionalId");
    expectError(await call("POST", "/producers", { json: { transactionalId: "" } }), 400, "VALIDATION_FAILED", "transactionalId");
    expectError(await call("GET", "/transactions/big-timeout"), 404, "TRANSACTIONAL_ID_NOT_FOUND");
  });

  it("JSON produce: producer fields must go together, and a producer's batch goes to one partition", async () => {
    const hw = await latestOffsets("bad-t");
    const base = { producerId: idle.producerId, producerEpoch: idle.producerEpoch, baseSequence: 0, transactionalId: "idle-txn" };
    const rec = [{ partition: 0, value: "v" }];
    const post = (json: unknown) => call("POST", "/topics/bad-t/records", { json });
    expectError(
      await post({ records: rec, producerId: idle.producerId, producerEpoch: idle.producerEpoch }),
      400,
      "VALIDATION_FAILED",
      "baseSequence",
    );
    expectError(await post({ records: rec, producerId: idle.producerId, baseSequence: 0 }), 400, "VALIDATION_FAILED", "producerEpoch");
    expectError(await post({ records: rec, transactionalId: "idle-txn" }), 400, "VALIDATION_FAILED", "transactionalId");
    expectError(await post({ ...base, records: rec, baseSequence: -1 }), 400, "VALIDATION_FAILED", "baseSequence");
    expectError(await post({ ...base, records: rec, transactionalId: "" }), 400, "VALIDATION_FAILED", "transactionalId");
    const twoParts = await post({
      ...base,
      records: [
        { partition: 0, value: "a" },
        { partition: 1, value: "b" },
      ],
    });
    expect(twoParts.status, ctx(twoParts)).toBe(400);
    expect(twoParts.body?.error?.message, ctx(twoParts)).toMatch(/partition/i);
    // the same for an idempotent (non-transactional) producer
    const twoPartsIdem = await post({
      producerId: plainProducer.producerId,
      producerEpoch: 0,
      baseSequence: 0,
      records: [
        { partition: 0, value: "a" },
        { partition: 1, value: "b" },
      ],
    });
    expect(twoPartsIdem.status, ctx(twoPartsIdem)).toBe(400);
    expect(await latestOffsets("bad-t")).toEqual(hw);
    // none of it opened a transaction
    expect((await getTxn("idle-txn")).state).toBe("Empty");
  });

  it("a gap in a transactional producer's sequence: 409 OUT_OF_ORDER_SEQUENCE_NUMBER, nothing written", async () => {
    const prod = await TxnProducer.init("gap-txn");
    await prod.produce("bad-t", 1, ["g0"]);
    const hw = await latestOffsets("bad-t");
    expectError(await prod.send("bad-t", 1, ["g-gap"], 5), 409, "OUT_OF_ORDER_SEQUENCE_NUMBER");
    expect(await latestOffsets("bad-t")).toEqual(hw);
    await prod.abort();
  });

  it("isolation must be read_committed or read_uncommitted (fetch and list-offsets)", async () => {
    expectError(await call("GET", "/topics/bad-t/partitions/0/records?offset=0&isolation=bogus"), 400, "VALIDATION_FAILED", "isolation");
    expectError(await call("GET", "/topics/bad-t/offsets?at=latest&isolation=bogus"), 400, "VALIDATION_FAILED", "isolation");
    expectError(
      await call("GET", "/topics/bad-t/partitions/0/records?offset=0&isolation=READ_COMMITTED"),
      400,
      "VALIDATION_FAILED",
      "isolation",
    );
  });
});

describe("edge cases", () => {
  beforeAll(async () => {
    await createTopic("edge-t", 3);
  });

  it("two transactions interleaved in one partition: the LSO is held by the older open one; each ends on its own", async () => {
    const a = await TxnProducer.init("inter-a");
    const b = await TxnProducer.init("inter-b");
    await producePlain("edge-t", 0, ["p0"]); // 0
    await a.produce("edge-t", 0, ["a0"]); // 1
    await b.produce("edge-t", 0, ["b0"]); // 2
    await a.produce("edge-t", 0, ["a1"]); // 3
    await b.produce("edge-t", 0, ["b1"]); // 4
    let rc = await readAll("edge-t", 0, "read_committed");
    expect(rc.values).toEqual(["p0"]);
    expect(rc.lastStableOffset).toBe(1);
    let d = (await describeTopic("edge-t")).find((x) => x.partition === 0)!;
    expect(d.openTransactions.map((o) => [o.producerId, o.firstOffset]).sort((x, y) => x[1] - y[1])).toEqual([
      [a.producerId, 1],
      [b.producerId, 2],
    ]);
    // the younger one commits (marker 5): still held back by the older open one
    await b.commit();
    rc = await readAll("edge-t", 0, "read_committed");
    expect(rc.values).toEqual(["p0"]);
    expect(rc.lastStableOffset).toBe(1);
    expect((await latestOffsets("edge-t", "read_committed"))[0]).toBe(1);
    d = (await describeTopic("edge-t")).find((x) => x.partition === 0)!;
    expect(d.openTransactions.map((o) => o.producerId)).toEqual([a.producerId]);
    // the older one aborts (marker 6): b's records appear, a's never
    await a.abort();
    rc = await readAll("edge-t", 0, "read_committed");
    expect(rc.values).toEqual(["p0", "b0", "b1"]);
    expect(rc.offsets).toEqual([0, 2, 4]);
    expect(rc.highWatermark).toBe(7);
    expect(rc.lastStableOffset).toBe(7);
    expect((await readAll("edge-t", 0, "read_uncommitted")).values).toEqual(["p0", "a0", "b0", "a1", "b1"]);
  });

  it("a retried commit is answered again without a second marker; abort after commit is INVALID_TXN_STATE", async () => {
    const p = await TxnProducer.init("retry-commit");
    await p.produce("edge-t", 1, ["r0"]);
    await p.commit();
    const hw = (await latestOffsets("edge-t"))[1];
    const again = await p.end(true);
    expect(again.status, ctx(again)).toBe(200);
    expect(again.body.state).toBe("CompleteCommit");
    expect((await latestOffsets("edge-t"))[1]).toBe(hw);
    expectError(await p.end(false), 409, "INVALID_TXN_STATE", "retry-commit");
    expect((await latestOffsets("edge-t"))[1]).toBe(hw);
    expect((await readAll("edge-t", 1, "read_committed")).values).toEqual(["r0"]);
  });

  it("a transactional produce to an unknown topic or partition is refused and does not spoil the transaction", async () => {
    const p = await TxnProducer.init("bad-target");
    await p.produce("edge-t", 2, ["ok0"]);
    expectError(await p.send("no-such-topic", 0, ["x"]), 404, "UNKNOWN_TOPIC_OR_PARTITION");
    const badPart = await p.send("edge-t", 7, ["x"]);
    expect(badPart.status, ctx(badPart)).toBeGreaterThanOrEqual(400);
    expect(badPart.status, ctx(badPart)).toBeLessThan(500);
    const t = await getTxn("bad-target");
    expect(sortTps(t.partitions)).toEqual([{ topic: "edge-t", partition: 2 }]);
    await p.produce("edge-t", 2, ["ok1"]);
    await p.commit();
    expect((await readAll("edge-t", 2, "read_committed")).values).toEqual(["ok0", "ok1"]);
  });

  it("one producer sending to many partitions at once: every batch lands in the one transaction", async () => {
    await createTopic("wide-t", 12);
    const p = await TxnProducer.init("wide");
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => p.send("wide-t", i, [`w${i}-0`, `w${i}-1`])));
    for (const r of results) expect(r.status, ctx(r)).toBe(200);
    const t = await getTxn("wide");
    expect(t.partitions).toHaveLength(12);
    for (let i = 0; i < 12; i++) expect((await readAll("wide-t", i, "read_committed")).values).toEqual([]);
    await p.commit();
    for (let i = 0; i < 12; i++) {
      const rc = await readAll("wide-t", i, "read_committed");
      expect(rc.values).toEqual([`w${i}-0`, `w${i}-1`]);
      expect(rc.highWatermark).toBe(3);
    }
  });

  it("concurrent inits of one transactional id: each instance gets its own epoch, only the last is current", async () => {
    const first = await TxnProducer.init("race-init");
    await first.produce("edge-t", 1, ["race-open"]);
    const inits = await Promise.all(
      Array.from({ length: 5 }, () => call("POST", "/producers", { json: { transactionalId: "race-init" } })),
    );
    const ok = inits.filter((r) => r.status === 201);
    for (const r of inits) {
      if (r.status !== 201) expectError(r, 503, "CONCURRENT_TRANSACTIONS");
    }
    expect(ok.length).toBeGreaterThanOrEqual(1);
    const epochs = ok.map((r) => `${r.body.producerId}/${r.body.producerEpoch}`);
    expect(new Set(epochs).size, `epochs handed out: ${epochs.join(", ")}`).toBe(epochs.length);
    const t = await getTxn("race-init");
    // the first of them aborted the open transaction; later ones leave the id idle (Empty)
    expect(["CompleteAbort", "Empty"]).toContain(t.state);
    expect(t.lastResult).toMatchObject({ commit: false });
    // the instance the coordinator holds is one of those handed out, and the only one that may commit
    const current = ok.find((r) => r.body.producerId === t.producerId && r.body.producerEpoch === t.producerEpoch);
    expect(current, `current ${t.producerId}/${t.producerEpoch} vs ${epochs.join(", ")}`).toBeDefined();
    for (const r of ok) {
      const inst = new TxnProducer("race-init", r.body.producerId, r.body.producerEpoch);
      const res = await inst.send("edge-t", 1, ["race"]);
      if (r === current) expect(res.status, ctx(res)).toBe(200);
      else expect(res.status, ctx(res)).toBe(409);
    }
    const cur = new TxnProducer("race-init", t.producerId, t.producerEpoch);
    await cur.commit();
    const vals = (await readAll("edge-t", 1, "read_committed")).values;
    expect(vals.filter((x) => x === "race")).toHaveLength(1);
    expect(vals).not.toContain("race-open");
  });

  it("a read_committed long poll at the LSO is answered with the records when the transaction commits", async () => {
    const p = await TxnProducer.init("long-poll");
    await p.produce("edge-t", 2, ["lp0", "lp1"]);
    const lso = (await latestOffsets("edge-t", "read_committed"))[2];
    const pending = call("GET", `/topics/edge-t/partitions/2/records?offset=${lso}&waitMs=20000&isolation=read_committed`);
    await new Promise((r) => setTimeout(r, 300));
    await p.commit();
    const res = await pending;
    expect(res.status, ctx(res)).toBe(200);
    expect(res.body.records.map((r: Rec) => r.value)).toEqual(["lp0", "lp1"]);
  });

  it("transactional ids with spaces, colons, hashes, slashes and non-ASCII work in every path; 256 characters are refused", async () => {
    for (const id of ["app:orders.v1 #1", "ünïcødé-✓", "a/b"]) {
      const p = await TxnProducer.init(id);
      await p.produce("edge-t", 1, [`id=${id}`]);
      expect((await getTxn(id)).state).toBe("Ongoing");
      expect((await listTxns("?state=open")).map((x) => x.transactionalId)).toContain(id);
      await p.commit();
      expect((await getTxn(id)).state).toBe("CompleteCommit");
      expect((await readAll("edge-t", 1, "read_committed")).values).toContain(`id=${id}`);
    }
    expectError(
      await call("POST", "/producers", { json: { transactionalId: "x".repeat(256) } }),
      400,
      "VALIDATION_FAILED",
      "transactionalId",
    );
    expectError(await call("GET", `/transactions/${"x".repeat(256)}`), 400, "VALIDATION_FAILED", "transactionalId");
  });

  it("a topic deleted while a transaction writes to it: the transaction still ends, the id stays usable", async () => {
    await createTopic("doomed-t", 1);
    const p = await TxnProducer.init("del-topic");
    await p.produce("doomed-t", 0, ["d0"]);
    await p.produce("edge-t", 0, ["del-keep"]);
    const del = await call("DELETE", "/topics/doomed-t");
    expect(del.status, ctx(del)).toBe(204);
    const end = await p.end(true);
    expect(end.status, ctx(end)).toBeLessThan(500);
    const t = await getTxn("del-topic");
    expect(["CompleteCommit", "CompleteAbort"], JSON.stringify(t)).toContain(t.state);
    const again = await TxnProducer.init("del-topic");
    await again.produce("edge-t", 0, ["del-next"]);
    await again.commit();
    expect((await readAll("edge-t", 0, "read_committed")).values).toContain("del-next");
    expect((await readAll("edge-t", 0, "read_committed")).lastStableOffset).toBe((await latestOffsets("edge-t"))[0]);
  });
});

describe("the server", () => {
  it("answered no request with a 5xx and logged no unexpected error", () => {
    expect(serverErrors).toEqual([]);
    expect(server.output()).not.toMatch(/unexpected error/i);
  });
});
