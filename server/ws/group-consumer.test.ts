/**
 * Consumer groups over WebSocket (`join-group`) against a real server process on a real
 * PostgreSQL, with `ws` clients and records produced through the REST API: assignment across
 * sockets, rebalances when sockets join and close, commits and resuming, revocation with and
 * without auto-commit, bad input, and backpressure.
 *
 * Every frame any socket receives gets one global sequence number (the test's sockets share one
 * thread, so that is the order the frames were received in). An `OwnershipLog` turns each
 * socket's `assignment` frames into ownership intervals per partition and records a violation
 * the moment a partition is granted to one socket while another still holds it; every `records`
 * frame must be for a partition its socket owns right then, and — where the scenario allows
 * exactly-once — must continue the partition exactly where the previous frame (on any socket)
 * ended.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { TGroup } from "../schemas/group.ts";
import type { TLiveServerMessage } from "../schemas/live.ts";
import type { TRecord } from "../schemas/record.ts";
import { createScratchDatabase, type ScratchDatabase } from "../testing/databases.ts";
import { startServer, type ServerProcess } from "../testing/server-process.ts";
import { apiJson } from "../testing/api-client.ts";

type Msg = TLiveServerMessage;
type ErrorMsg = Extract<Msg, { type: "error" }>;
type JoinedMsg = Extract<Msg, { type: "group-joined" }>;
type AssignmentMsg = Extract<Msg, { type: "assignment" }>;
type CommittedMsg = Extract<Msg, { type: "committed" }>;
type LeftMsg = Extract<Msg, { type: "group-left" }>;

// A long session timeout: a partition that moves within a few seconds of its socket closing
// moved because the close left the group, not because the member timed out.
const SESSION_TIMEOUT_MS = 20_000;
const HEARTBEAT_MS = 300;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MiB = 1024 * 1024;

let scratch: ScratchDatabase;
let server: ServerProcess;

beforeAll(async () => {
  scratch = await createScratchDatabase("postgres");
  try {
    server = await startServer(scratch, {
      TRIBUTARY_GROUP_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
      TRIBUTARY_GROUP_HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS),
    });
  } catch (e) {
    await scratch.drop().catch(() => undefined);
    throw e;
  }
});

afterAll(async () => {
  await server?.stop();
  await scratch?.drop();
});

// ---- REST helpers ------------------------------------------------------------------------

/** A request that must succeed; its JSON answer. */
function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  return apiJson(server.url, method, `/api/v1${path}`, body) as Promise<T>;
}

const createTopic = (name: string, partitions: number) => api("POST", "/topics", { name, partitions });
const describeGroup = (group: string) => api<TGroup>("GET", `/groups/${encodeURIComponent(group)}`);

interface Produced {
  partition: number;
  offset: number;
}

async function produce(topic: string, records: { key?: string; value: string; partition?: number }[]): Promise<Produced[]> {
  return (await api<{ records: Produced[] }>("POST", `/topics/${topic}/records`, { records })).records;
}

/** Committed offsets of a group by "topic/partition". */
async function committedOffsets(group: string): Promise<Map<string, number | null>> {
  const g = await describeGroup(group);
  return new Map(g.offsets.map((o) => [`${o.topic}/${o.partition}`, o.committedOffset]));
}

// ---- ownership across sockets ------------------------------------------------------------

let seq = 0; // global receive order across every socket in this file

interface Interval {
  tp: string;
  owner: string;
  from: number;
  to: number | null;
  fromMs: number;
  toMs: number | null;
}

/** Ownership intervals per partition, as the sockets of one group learn them, in receive order. */
class OwnershipLog {
  readonly intervals: Interval[] = [];
  readonly violations: string[] = [];
  /** Exactly-once: per partition, the offset the next records frame (on any socket) must start at. */
  readonly next = new Map<string, number>();
  /** Every record received, per partition, in receive order. */
  readonly received = new Map<string, number[]>();

  constructor(readonly exactlyOnce: boolean) {}

  grant(tp: string, owner: string): void {
    const held = this.intervals.find((i) => i.tp === tp && i.to === null);
    if (held) this.violations.push(`${tp} granted to ${owner} (seq ${seq}) while ${held.owner} owns it (since seq ${held.from})`);
    this.intervals.push({ tp, owner, from: seq, to: null, fromMs: performance.now(), toMs: null });
  }

  release(tp: string, owner: string): void {
    const held = this.intervals.find((i) => i.tp === tp && i.owner === owner && i.to === null);
    if (!held) {
      this.violations.push(`${owner} gave up ${tp}, which it did not own`);
      return;
    }
    held.to = seq;
    held.toMs = performance.now();
  }

  records(tp: string, owner: string, offsets: number[]): void {
    const held = this.intervals.find((i) => i.tp === tp && i.to === null);
    if (held?.owner !== owner) this.violations.push(`records for ${tp} on ${owner}, but it is owned by ${held?.owner ?? "nobody"}`);
    let list = this.received.get(tp);
    if (!list) this.received.set(tp, (list = []));
    list.push(...offsets);
    if (!this.exactlyOnce) return;
    let exp = this.next.get(tp) ?? 0;
    for (const o of offsets) {
      if (o !== exp) this.violations.push(`${tp} on ${owner}: expected offset ${exp}, got ${o}`);
      exp = o + 1;
    }
    this.next.set(tp, exp);
  }

  /** The partitions' owners now. */
  owners(): Map<string, string> {
    return new Map(this.intervals.filter((i) => i.to === null).map((i) => [i.tp, i.owner]));
  }

  /** Re-checks every pair of intervals of a partition for overlap (the log checks as it goes, too). */
  overlaps(): string[] {
    const out: string[] = [];
    const byTp = new Map<string, Interval[]>();
    for (const i of this.intervals) byTp.set(i.tp, [...(byTp.get(i.tp) ?? []), i]);
    for (const [tp, list] of byTp) {
      for (let a = 0; a < list.length; a++) {
        for (let b = a + 1; b < list.length; b++) {
          const x = list[a];
          const y = list[b];
          const xEnd = x.to ?? Infinity;
          const yEnd = y.to ?? Infinity;
          if (x.from < yEnd && y.from < xEnd) out.push(`${tp}: ${x.owner} [${x.from}, ${x.to}] overlaps ${y.owner} [${y.from}, ${y.to}]`);
        }
      }
    }
    return out;
  }
}

// ---- WebSocket client --------------------------------------------------------------------

interface JoinOptions {
  id: string;
  group: string;
  topics?: string[];
  topicPattern?: string;
  autoOffsetReset?: "earliest" | "latest" | "none";
  autoCommit?: boolean;
  clientId?: string;
  assignor?: string;
}

interface Received {
  m: Msg;
  seq: number;
}

class GroupClient {
  readonly frames: Received[] = [];
  readonly violations: string[] = [];
  /** Per membership id: the partitions it owns now ("topic/partition"). */
  readonly owned = new Map<string, Set<string>>();
  /** Per membership id: every record received, in order. */
  readonly records = new Map<string, TRecord[]>();
  private readonly logs = new Map<string, OwnershipLog>();
  /** Ids of group memberships (other ids are live-tail subscriptions). */
  private readonly memberships = new Set<string>();
  private waiters: (() => void)[] = [];
  private closeInfo: { code: number } | null = null;
  readonly closed: Promise<number>;

  private constructor(
    readonly name: string,
    readonly ws: WebSocket,
  ) {
    this.closed = new Promise((resolve) => ws.once("close", (code) => resolve(code)));
    ws.on("message", (data) => {
      seq++;
      this.receive(JSON.parse(data.toString()) as Msg);
    });
    ws.on("close", (code) => {
      this.closeInfo = { code };
      this.endAll();
      this.wake();
    });
  }

  static async connect(name: string): Promise<GroupClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    ws.on("error", () => undefined);
    return new GroupClient(name, ws);
  }

  private receive(m: Msg): void {
    this.frames.push({ m, seq });
    if (m.type === "group-joined") this.memberships.add(m.id);
    if (m.type === "assignment") this.onAssignment(m);
    else if (m.type === "records" && this.memberships.has(m.id)) {
      const mine = this.owned.get(m.id);
      const tp = `${m.topic}/${m.partition}`;
      if (!mine?.has(tp)) this.violations.push(`${this.name}/${m.id}: records for ${tp}, which it does not own`);
      if (m.records.length === 0) this.violations.push(`${this.name}/${m.id}: empty records frame`);
      for (let i = 1; i < m.records.length; i++) {
        if (m.records[i].offset !== m.records[i - 1].offset + 1) this.violations.push(`${this.name}/${m.id}: gap inside a frame for ${tp}`);
      }
      for (const r of m.records)
        if (r.topic !== m.topic || r.partition !== m.partition) this.violations.push(`${this.name}: foreign record in frame`);
      this.logs.get(m.id)?.records(
        tp,
        this.name,
        m.records.map((r) => r.offset),
      );
      let list = this.records.get(m.id);
      if (!list) this.records.set(m.id, (list = []));
      list.push(...m.records);
    } else if (m.type === "records") {
      let list = this.records.get(m.id);
      if (!list) this.records.set(m.id, (list = []));
      list.push(...m.records);
    } else if (m.type === "group-left") this.end(m.id);
    this.wake();
  }

  private onAssignment(m: AssignmentMsg): void {
    const before = this.owned.get(m.id) ?? new Set<string>();
    const now = new Set(m.assignment.flatMap((t) => t.partitions.map((p) => `${t.topic}/${p}`)));
    const revoked = new Set(m.revoked.flatMap((t) => t.partitions.map((p) => `${t.topic}/${p}`)));
    const expectRevoked = [...before].filter((k) => !now.has(k));
    if (expectRevoked.length !== revoked.size || expectRevoked.some((k) => !revoked.has(k))) {
      this.violations.push(`${this.name}/${m.id}: revoked ${[...revoked]} but the assignment dropped ${expectRevoked}`);
    }
    const log = this.logs.get(m.id);
    for (const k of before) if (!now.has(k)) log?.release(k, this.name);
    for (const k of now) if (!before.has(k)) log?.grant(k, this.name);
    this.owned.set(m.id, now);
  }

  private end(id: string): void {
    const log = this.logs.get(id);
    for (const k of this.owned.get(id) ?? []) log?.release(k, this.name);
    this.owned.set(id, new Set());
    this.logs.delete(id);
  }

  private endAll(): void {
    for (const id of [...this.owned.keys()]) this.end(id);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  async until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      const left = deadline - Date.now();
      if (this.closeInfo) throw new Error(`${this.name}: socket closed (${this.closeInfo.code}) while waiting for ${what}`);
      if (left <= 0) throw new Error(`${this.name}: timed out after ${ms} ms waiting for ${what}; last frames: ${this.tail()}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 100));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async next<T extends Msg>(match: (m: Msg) => m is T, what: string, since = 0, ms = 10_000): Promise<T> {
    let found: T | undefined;
    await this.until(() => (found = this.frames.slice(since).find((f) => match(f.m))?.m as T | undefined) !== undefined, what, ms);
    return found as T;
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === "string" ? msg : JSON.stringify(msg));
  }

  /** Joins and waits for `group-joined` and the first `assignment`. */
  async join(opts: JoinOptions, log?: OwnershipLog): Promise<JoinedMsg> {
    if (log) this.logs.set(opts.id, log);
    const since = this.frames.length;
    this.send({ type: "join-group", ...opts });
    const reply = await this.next(
      (m): m is JoinedMsg | ErrorMsg => (m.type === "group-joined" || m.type === "error") && m.id === opts.id,
      `group-joined '${opts.id}'`,
      since,
    );
    if (reply.type === "error") throw new Error(`join '${opts.id}' failed: ${JSON.stringify(reply.error)}`);
    await this.next((m): m is AssignmentMsg => m.type === "assignment" && m.id === opts.id, `first assignment of '${opts.id}'`, since);
    return reply as JoinedMsg;
  }

  async commit(id: string, offsets?: { topic: string; partition: number; offset: number }[]): Promise<CommittedMsg> {
    const since = this.frames.length;
    this.send({ type: "commit", id, ...(offsets ? { offsets } : {}) });
    const reply = await this.next(
      (m): m is CommittedMsg | ErrorMsg => (m.type === "committed" || m.type === "error") && m.id === id,
      `committed '${id}'`,
      since,
    );
    if (reply.type === "error") throw new Error(`commit '${id}' failed: ${JSON.stringify(reply.error)}`);
    return reply as CommittedMsg;
  }

  async ping(): Promise<void> {
    const since = this.frames.length;
    this.send({ type: "ping" });
    await this.next((m): m is Extract<Msg, { type: "pong" }> => m.type === "pong", "pong", since);
  }

  /** Partitions of membership `id` as sorted partition numbers (one topic). */
  partitions(id: string): number[] {
    return [...(this.owned.get(id) ?? [])].map((k) => Number(k.split("/")[1])).sort((a, b) => a - b);
  }

  count(id: string): number {
    return this.records.get(id)?.length ?? 0;
  }

  messages(since = 0): Msg[] {
    return this.frames.slice(since).map((f) => f.m);
  }

  private tail(): string {
    return JSON.stringify(
      this.frames
        .slice(-4)
        .map(({ m }) => (m.type === "records" ? { ...m, records: `${m.records.length} from ${m.records[0]?.offset}` } : m)),
    ).slice(0, 1200);
  }

  /** Drops the connection now (no close handshake); its partitions count as released from here. */
  terminate(): void {
    this.endAll();
    this.ws.terminate();
  }
}

const isError = (m: Msg): m is ErrorMsg => m.type === "error";

/** Waits until the sockets' memberships cover `total` partitions, disjointly, with these sizes. */
async function settled(members: [GroupClient, string][], total: number, sizes: number[], what: string, ms = 15_000): Promise<void> {
  const ok = () => {
    const all = members.flatMap(([c, id]) => c.partitions(id));
    const got = members.map(([c, id]) => c.partitions(id).length).sort();
    return all.length === total && new Set(all).size === total && JSON.stringify(got) === JSON.stringify([...sizes].sort());
  };
  await members[0][0].until(ok, what, ms);
}

/** Produces records round-robin over partitions until stopped; returns how many per partition. */
function startProducer(topic: string, partitions: number, perBatch = 12, pauseMs = 40) {
  let stop = false;
  const perPartition = new Array<number>(partitions).fill(0);
  let n = 0;
  const done = (async () => {
    while (!stop) {
      const batch = Array.from({ length: perBatch }, () => {
        const i = n++;
        return { key: `k${i}`, value: `v${i}`, partition: i % partitions };
      });
      const out = await produce(topic, batch);
      for (const p of out) perPartition[p.partition] = Math.max(perPartition[p.partition], p.offset + 1);
      await sleep(pauseMs);
    }
  })();
  return {
    async stop(): Promise<number[]> {
      stop = true;
      await done;
      return perPartition;
    },
  };
}

// ---- tests -------------------------------------------------------------------------------

describe("consumer groups over WebSocket", () => {
  it("splits partitions across sockets, rebalances as sockets join and close, never with two owners, delivering each record once", async () => {
    const TOPIC = "wg-six";
    const GROUP = "wg-six-group";
    await createTopic(TOPIC, 6);
    const log = new OwnershipLog(true);
    const join = (id: string) => ({ id, group: GROUP, topics: [TOPIC], autoOffsetReset: "earliest" as const });

    // two sockets: 3/3, no overlap
    const a = await GroupClient.connect("A");
    const b = await GroupClient.connect("B");
    const ja = await a.join(join("m"), log);
    expect(ja.memberId.length).toBeGreaterThan(0);
    expect(ja.group).toBe(GROUP);
    await settled([[a, "m"]], 6, [6], "A alone owns all 6");
    const jb = await b.join(join("m"), log);
    expect(jb.memberId).not.toBe(ja.memberId);
    await settled(
      [
        [a, "m"],
        [b, "m"],
      ],
      6,
      [3, 3],
      "3/3 between A and B",
    );
    // the server agrees: two members, each owning exactly what its socket was told
    const g1 = await describeGroup(GROUP);
    expect(g1.members.map((m) => m.memberId).sort()).toEqual([ja.memberId, jb.memberId].sort());
    const serverView = (g: TGroup, memberId: string) =>
      (g.members.find((m) => m.memberId === memberId)?.assignment.flatMap((t) => t.partitions) ?? []).sort((x, y) => x - y);
    expect(serverView(g1, ja.memberId)).toEqual(a.partitions("m"));
    expect(serverView(g1, jb.memberId)).toEqual(b.partitions("m"));
    expect(g1.members.every((m) => m.clientId === "" && m.host.length > 0)).toBe(true);

    // records produced over REST arrive on the owning socket, in order per partition
    const produced = await produce(
      TOPIC,
      Array.from({ length: 60 }, (_, i) => ({ key: `first-${i}`, value: `first-${i}`, partition: i % 6 })),
    );
    expect(produced.length).toBe(60);
    await a.until(() => a.count("m") + b.count("m") >= 60, "the first 60 records");
    for (const x of [a, b]) {
      const mine = new Set(x.partitions("m"));
      expect(x.records.get("m")!.every((r) => mine.has(r.partition))).toBe(true);
      expect(x.count("m")).toBe(30); // 10 per partition, 3 partitions each
      for (const r of x.records.get("m")!) expect(r.value).toBe(`first-${r.offset * 6 + r.partition}`);
    }

    // a third socket joins while records keep coming: 2/2/2, and never two owners
    const producer = startProducer(TOPIC, 6);
    await sleep(300);
    const c = await GroupClient.connect("C");
    await c.join(join("m"), log);
    await settled(
      [
        [a, "m"],
        [b, "m"],
        [c, "m"],
      ],
      6,
      [2, 2, 2],
      "2/2/2 after C joined",
    );
    await sleep(500); // more records after the rebalance
    let hw = await producer.stop();
    const total = () => a.count("m") + b.count("m") + c.count("m");
    const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
    await a.until(() => total() >= sum(hw), `all ${sum(hw)} records after the rebalance`);
    await Promise.all([a.ping(), b.ping(), c.ping()]);
    expect(total()).toBe(sum(hw)); // none twice (auto-commit before the partitions moved)
    expect(c.count("m")).toBeGreaterThan(0);
    // the moved partitions went A or B -> C: each was revoked on its old socket before C got it
    const moved = log.intervals.filter((i) => i.owner === "C");
    expect(moved.length).toBe(2);
    for (const m of moved) {
      const before = log.intervals.find((i) => i.tp === m.tp && i.owner !== "C" && i.to !== null);
      expect(before, `a previous owner of ${m.tp}`).toBeDefined();
      expect(before!.to!).toBeLessThan(m.from);
    }

    // C's socket closes: A and B take its partitions back well before the session timeout
    const g2 = await describeGroup(GROUP);
    expect(g2.members.length).toBe(3);
    expect(g2.state).toBe("Stable");
    const closedAt = Date.now();
    c.terminate();
    await settled(
      [
        [a, "m"],
        [b, "m"],
      ],
      6,
      [3, 3],
      "A and B own all 6 again after C closed",
      SESSION_TIMEOUT_MS / 2,
    );
    const takeoverMs = Date.now() - closedAt;
    const g3 = await describeGroup(GROUP);
    expect(g3.members.map((m) => m.memberId).sort()).toEqual([ja.memberId, jb.memberId].sort());
    expect(takeoverMs).toBeLessThan(SESSION_TIMEOUT_MS / 2);

    // and go on from where C's socket left off: nothing lost, nothing twice
    const last = await produce(
      TOPIC,
      Array.from({ length: 24 }, (_, i) => ({ key: `last-${i}`, value: `last-${i}`, partition: i % 6 })),
    );
    hw = hw.map((h, p) => Math.max(h, ...last.filter((x) => x.partition === p).map((x) => x.offset + 1)));
    const afterC = () => a.count("m") + b.count("m") + c.count("m");
    await a.until(() => afterC() >= sum(hw), "the records produced after C left");
    await Promise.all([a.ping(), b.ping()]);
    expect(afterC()).toBe(sum(hw));
    for (let p = 0; p < 6; p++) expect(log.next.get(`${TOPIC}/${p}`)).toBe(hw[p]);

    expect(log.violations).toEqual([]);
    expect(log.overlaps()).toEqual([]);
    expect([...a.violations, ...b.violations, ...c.violations]).toEqual([]);
    expect(a.messages().filter(isError)).toEqual([]);
    expect(b.messages().filter(isError)).toEqual([]);
    console.log(
      `ws groups: ${sum(hw)} records over 6 partitions, ${log.intervals.length} ownership intervals; partitions back with A and B ${takeoverMs} ms after C's socket closed`,
    );
    a.terminate();
    b.terminate();
  });

  it("commits: explicit offsets, what was delivered, auto-commit on close; a new socket resumes after the committed offsets", async () => {
    const TOPIC = "wg-commit";
    const GROUP = "wg-commit-group";
    await createTopic(TOPIC, 2);
    for (const partition of [0, 1]) {
      await produce(
        TOPIC,
        Array.from({ length: 10 }, (_, i) => ({ value: `p${partition}-${i}`, partition })),
      );
    }
    const join = (id: string, extra: Partial<JoinOptions> = {}) => ({
      id,
      group: GROUP,
      topics: [TOPIC],
      autoOffsetReset: "earliest" as const,
      ...extra,
    });

    // 1. no auto-commit; commit explicit offsets, then the socket goes away
    const s1 = await GroupClient.connect("S1");
    await s1.join(join("c", { autoCommit: false }));
    await s1.until(() => s1.count("c") >= 20, "all 20 records");
    const c1 = await s1.commit("c", [
      { topic: TOPIC, partition: 0, offset: 4 },
      { topic: TOPIC, partition: 1, offset: 7 },
    ]);
    expect(c1.offsets).toEqual([
      { topic: TOPIC, partition: 0, offset: 4 },
      { topic: TOPIC, partition: 1, offset: 7 },
    ]);
    // a partition the member does not own is refused, and the membership goes on
    const since = s1.frames.length;
    s1.send({ type: "commit", id: "c", offsets: [{ topic: TOPIC, partition: 5, offset: 0 }] });
    const refused = await s1.next(isError, "commit refused", since);
    expect(refused.id).toBe("c");
    expect(refused.error.code).toBe("ILLEGAL_GENERATION");
    expect((await committedOffsets(GROUP)).get(`${TOPIC}/0`)).toBe(4);
    s1.terminate();
    // the close left the group at once, without committing (autoCommit is off)
    let g = await describeGroup(GROUP);
    for (let i = 0; i < 50 && g.members.length > 0; i++) {
      await sleep(100);
      g = await describeGroup(GROUP);
    }
    expect(g.members).toEqual([]);
    expect(await committedOffsets(GROUP)).toEqual(
      new Map([
        [`${TOPIC}/0`, 4],
        [`${TOPIC}/1`, 7],
      ]),
    );

    // 2. a new socket resumes at 4 and 7; commits what was delivered (offsets omitted); leaves
    const s2 = await GroupClient.connect("S2");
    await s2.join(join("c", { autoCommit: false }));
    await s2.until(() => s2.count("c") >= 9, "6 + 3 records from the committed offsets");
    await s2.ping();
    const got2 = s2.records.get("c")!;
    expect(got2.filter((r) => r.partition === 0).map((r) => r.offset)).toEqual([4, 5, 6, 7, 8, 9]);
    expect(got2.filter((r) => r.partition === 1).map((r) => r.offset)).toEqual([7, 8, 9]);
    expect(got2.find((r) => r.partition === 0)?.value).toBe("p0-4");
    const c2 = await s2.commit("c");
    expect([...c2.offsets].sort((x, y) => x.partition - y.partition)).toEqual([
      { topic: TOPIC, partition: 0, offset: 10 },
      { topic: TOPIC, partition: 1, offset: 10 },
    ]);
    let fs = s2.frames.length;
    s2.send({ type: "leave-group", id: "c" });
    const left = await s2.next((m): m is LeftMsg => m.type === "group-left", "group-left", fs);
    expect(left).toEqual({ type: "group-left", id: "c", reason: "left" });
    expect((await describeGroup(GROUP)).members).toEqual([]);
    // the id is free again, and committing on it now is an error
    fs = s2.frames.length;
    s2.send({ type: "commit", id: "c" });
    expect((await s2.next(isError, "commit after leave", fs)).error.code).toBe("UNKNOWN_MEMBER_ID");

    // 3. auto-commit (the default): what was delivered is committed when the socket closes
    await produce(TOPIC, [
      { value: "new-0", partition: 0 },
      { value: "new-1", partition: 1 },
    ]);
    const s3 = await GroupClient.connect("S3");
    await s3.join(join("auto"));
    await s3.until(() => s3.count("auto") >= 2, "the 2 new records");
    await s3.ping();
    expect(
      s3.records
        .get("auto")!
        .map((r) => r.value)
        .sort(),
    ).toEqual(["new-0", "new-1"]);
    s3.ws.close(1000);
    await s3.closed;
    let committed = await committedOffsets(GROUP);
    for (let i = 0; i < 50 && committed.get(`${TOPIC}/0`) !== 11; i++) {
      await sleep(100);
      committed = await committedOffsets(GROUP);
    }
    expect(committed).toEqual(
      new Map([
        [`${TOPIC}/0`, 11],
        [`${TOPIC}/1`, 11],
      ]),
    );
    const s4 = await GroupClient.connect("S4");
    await s4.join(join("again"));
    await produce(TOPIC, [{ value: "newest", partition: 1 }]);
    await s4.until(() => s4.count("again") >= 1, "the newest record");
    await sleep(300);
    await s4.ping();
    expect(s4.records.get("again")!.map((r) => `${r.partition}:${r.offset}:${r.value}`)).toEqual(["1:11:newest"]);
    expect([...s1.violations, ...s2.violations, ...s3.violations, ...s4.violations]).toEqual([]);
    s2.terminate();
    s4.terminate();
  });

  it("without auto-commit, a revoked partition waits for the client's commit, and its next owner resumes from that commit", async () => {
    const TOPIC = "wg-ack";
    await createTopic(TOPIC, 2);
    for (const partition of [0, 1])
      await produce(
        TOPIC,
        Array.from({ length: 10 }, (_, i) => ({ value: `${partition}-${i}`, partition })),
      );
    const join = (id: string, group: string) => ({ id, group, topics: [TOPIC], autoOffsetReset: "earliest" as const, autoCommit: false });

    // A commits when told of the revocation: B starts where A's commit says
    const log = new OwnershipLog(true);
    const a = await GroupClient.connect("A");
    await a.join(join("x", "wg-ack-commits"), log);
    await a.until(() => a.count("x") >= 20, "A's 20 records");
    let revoked: AssignmentMsg | undefined;
    let ack: Promise<CommittedMsg> | undefined;
    a.ws.on("message", (data) => {
      const m = JSON.parse(data.toString()) as Msg;
      if (m.type === "assignment" && m.revoked.length > 0 && !revoked) {
        revoked = m;
        ack = a.commit("x"); // what was delivered, including the revoked partition
      }
    });
    const b = await GroupClient.connect("B");
    await b.join(join("x", "wg-ack-commits"), log);
    await settled(
      [
        [a, "x"],
        [b, "x"],
      ],
      2,
      [1, 1],
      "1/1",
    );
    expect(revoked).toBeDefined();
    const acked = await ack!;
    const movedP = revoked!.revoked[0].partitions[0];
    expect(acked.offsets).toContainEqual({ topic: TOPIC, partition: movedP, offset: 10 });
    expect(b.partitions("x")).toEqual([movedP]);
    await produce(TOPIC, [{ value: "after", partition: movedP }]);
    await b.until(() => b.count("x") >= 1, "B's first record");
    await sleep(300);
    await Promise.all([a.ping(), b.ping()]);
    expect(b.records.get("x")!.map((r) => `${r.partition}:${r.offset}:${r.value}`)).toEqual([`${movedP}:10:after`]);
    expect(a.count("x")).toBe(20);
    expect(log.violations).toEqual([]);
    expect(log.overlaps()).toEqual([]);

    // A client that never commits still lets go (after a grace period); the next owner
    // re-reads from the last commit: nothing was committed, so from the start (at-least-once)
    const log2 = new OwnershipLog(false);
    const c = await GroupClient.connect("C");
    await c.join(join("y", "wg-ack-silent"), log2);
    const sizes = new Map([
      [movedP, 11],
      [1 - movedP, 10],
    ]);
    await c.until(() => c.count("y") >= 21, "C's records");
    const d = await GroupClient.connect("D");
    await d.join(join("y", "wg-ack-silent"), log2);
    await settled(
      [
        [c, "y"],
        [d, "y"],
      ],
      2,
      [1, 1],
      "1/1 without a commit",
    );
    const dp = d.partitions("y")[0];
    const n = sizes.get(dp)!;
    await d.until(() => d.count("y") >= n, "D re-reads its partition");
    await sleep(300);
    await d.ping();
    expect(d.records.get("y")!.map((r) => r.offset)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(d.records.get("y")!.every((r) => r.partition === dp)).toBe(true);
    expect(log2.violations).toEqual([]);
    expect(log2.overlaps()).toEqual([]);
    expect([...a.violations, ...b.violations, ...c.violations, ...d.violations]).toEqual([]);
    for (const s of [a, b, c, d]) s.terminate();
  });

  it("answers bad input with error frames and keeps the socket usable", async () => {
    const TOPIC = "wg-errors";
    await createTopic(TOPIC, 1);
    const s = await GroupClient.connect("E");
    const expectError = async (msg: unknown, code: string, id?: string, message?: RegExp): Promise<ErrorMsg> => {
      const since = s.frames.length;
      s.send(msg);
      const e = await s.next(isError, `error ${code}`, since);
      expect(e.error.code).toBe(code);
      if (message) expect(e.error.message).toMatch(message);
      expect(e.id).toBe(id);
      await s.ping(); // still usable
      return e;
    };
    const ok = { type: "join-group", group: "wg-errors-group", topics: [TOPIC] };

    await expectError({ type: "join-groups", id: "t" }, "VALIDATION_FAILED", "t", /type/);
    await expectError({ ...ok, id: "g1", group: "" }, "VALIDATION_FAILED", "g1", /group/);
    await expectError({ ...ok, id: "g2", group: "   " }, "VALIDATION_FAILED", "g2", /blank/);
    await expectError({ ...ok, id: "g3", group: "x".repeat(256) }, "VALIDATION_FAILED", "g3", /group/);
    await expectError({ ...ok, id: "both", topicPattern: "wg-.*" }, "VALIDATION_FAILED", "both", /exactly one of topics or topicPattern/);
    await expectError({ type: "join-group", id: "neither", group: "g" }, "VALIDATION_FAILED", "neither", /exactly one/);
    await expectError({ ...ok, id: "bad-topic", topics: ["not a topic!"] }, "VALIDATION_FAILED", "bad-topic", /topics/);
    await expectError({ ...ok, id: "bad-reset", autoOffsetReset: "middle" }, "VALIDATION_FAILED", "bad-reset", /autoOffsetReset/);
    await expectError({ ...ok, id: "bad-auto", autoCommit: "yes" }, "VALIDATION_FAILED", "bad-auto", /autoCommit/);
    await expectError({ ...ok, id: "extra", bogus: 1 }, "VALIDATION_FAILED", "extra");
    await expectError({ ...ok, id: "assignor", assignor: "fastest" }, "VALIDATION_FAILED", "assignor", /assignor/);
    await expectError({ ...ok, id: "regex", topics: undefined, topicPattern: "([" }, "INVALID_REGULAR_EXPRESSION", "regex");
    await expectError({ type: "commit", id: "nobody" }, "UNKNOWN_MEMBER_ID", "nobody", /join-group first/);
    await expectError({ type: "leave-group", id: "nobody" }, "UNKNOWN_MEMBER_ID", "nobody");
    await expectError(
      { type: "commit", id: "nobody", offsets: [{ topic: TOPIC, partition: 0, offset: -1 }] },
      "VALIDATION_FAILED",
      "nobody",
    );

    // duplicate ids: a second join-group, and ids shared with live-tail subscriptions
    const joined = await s.join({ id: "dup", group: "wg-errors-group", topics: [TOPIC], autoOffsetReset: "earliest" });
    await expectError({ ...ok, id: "dup" }, "VALIDATION_FAILED", "dup", /already in use/);
    await expectError({ type: "subscribe", id: "dup", topic: TOPIC }, "VALIDATION_FAILED", "dup", /already in use/);
    await expectError({ type: "unsubscribe", id: "dup" }, "VALIDATION_FAILED", "dup", /leave-group/);
    let since = s.frames.length;
    s.send({ type: "subscribe", id: "tail", topic: TOPIC });
    await s.next((m): m is Extract<Msg, { type: "subscribed" }> => m.type === "subscribed", "subscribed", since);
    await expectError({ ...ok, id: "tail" }, "VALIDATION_FAILED", "tail", /already in use/);
    // ... and back to back, before the first join's reply: one joins, one is refused
    since = s.frames.length;
    s.send({ ...ok, id: "twice" });
    s.send({ ...ok, id: "twice" });
    await s.until(
      () => s.messages(since).filter((m) => "id" in m && m.id === "twice" && m.type !== "assignment").length >= 2,
      "two replies for twice",
    );
    expect(
      s
        .messages(since)
        .filter((m) => "id" in m && m.id === "twice" && m.type !== "assignment")
        .map((m) => m.type),
    ).toEqual(["group-joined", "error"]);

    // the first membership still works: it gets records, and the group has exactly two members from this socket
    await produce(TOPIC, [{ value: "one" }]);
    await s.until(() => s.count("dup") + s.count("twice") >= 1, "a record for one of the memberships");
    const g = await describeGroup("wg-errors-group");
    expect(g.members.map((m) => m.memberId)).toContain(joined.memberId);
    expect(g.members.length).toBe(2);
    await s.ping();
    expect(s.violations).toEqual([]);
    s.terminate();
  });

  it("ends a membership the group no longer has, or cannot serve, with an error and `group-left`; the socket can join again", async () => {
    const TOPIC = "wg-ended";
    const GROUP = "wg-ended-group";
    await createTopic(TOPIC, 2);
    await produce(TOPIC, [
      { value: "a", partition: 0 },
      { value: "b", partition: 1 },
    ]);
    const s = await GroupClient.connect("K");
    const first = await s.join({ id: "k", group: GROUP, topics: [TOPIC], autoOffsetReset: "earliest" });
    await s.until(() => s.count("k") >= 2, "the 2 records");

    // an administrator removes the member (REST): the socket learns it on its next heartbeat
    let since = s.frames.length;
    const res = await fetch(`${server.url}/api/v1/groups/${GROUP}/members/${first.memberId}`, { method: "DELETE" });
    expect(res.status).toBe(204);
    const left = await s.next((m): m is LeftMsg => m.type === "group-left", "group-left after the kick", since);
    expect(left).toEqual({ type: "group-left", id: "k", reason: "fenced" });
    const kicked = s.messages(since).filter(isError);
    expect(kicked.map((e) => [e.id, e.error.code])).toEqual([["k", "UNKNOWN_MEMBER_ID"]]);
    expect(s.partitions("k")).toEqual([]);

    // the same id joins again, as a new member; it resumes from the group's last commit (a
    // periodic auto-commit may or may not have run before the kick)
    const again = await s.join({ id: "k", group: GROUP, topics: [TOPIC], autoOffsetReset: "earliest" });
    expect(again.memberId).not.toBe(first.memberId);
    await settled([[s, "k"]], 2, [2], "both partitions again");
    await produce(TOPIC, [{ value: "c", partition: 0 }]);
    await s.until(() => s.records.get("k")!.some((r) => r.value === "c"), "the new record");
    // at-least-once: anything after the last commit may come again, nothing is skipped
    expect(new Set(s.records.get("k")!.map((r) => r.value))).toEqual(new Set(["a", "b", "c"]));

    // auto.offset.reset "none" without a committed offset: the membership cannot be served
    since = s.frames.length;
    s.send({ type: "join-group", id: "none", group: "wg-ended-none", topics: [TOPIC], autoOffsetReset: "none" });
    const noneLeft = await s.next((m): m is LeftMsg => m.type === "group-left" && m.id === "none", "group-left for none", since);
    expect(noneLeft.reason).toBe("error");
    expect(
      s
        .messages(since)
        .filter(isError)
        .map((e) => [e.id, e.error.code]),
    ).toEqual([["none", "NO_OFFSET_FOR_PARTITION"]]);
    expect((await describeGroup("wg-ended-none")).members).toEqual([]);
    await s.ping();
    expect(s.violations).toEqual([]);
    s.terminate();
  });

  it("delivers only while the socket drains: a client that stops reading holds its partitions but is not buffered for, then gets everything in order", async () => {
    const TOPIC = "wg-slow";
    const GROUP = "wg-slow-group";
    await createTopic(TOPIC, 1);
    const VALUE_BYTES = 1024;
    const PER_POST = 1000;
    const POSTS = 24; // 24 MiB of values
    let produced = 0;
    const value = (i: number) => `${i}:`.padEnd(VALUE_BYTES, "x");

    const slow = await GroupClient.connect("slow");
    const log = new OwnershipLog(true);
    await slow.join({ id: "s", group: GROUP, topics: [TOPIC], autoOffsetReset: "earliest" }, log);
    await settled([[slow, "s"]], 1, [1], "slow owns the partition");
    slow.ws.pause(); // stops reading: its TCP window fills, then the server's socket
    for (let b = 0; b < POSTS; b++) {
      await produce(
        TOPIC,
        Array.from({ length: PER_POST }, () => ({ value: value(produced++) })),
      );
    }
    // auto-commit commits what the server handed to the socket: that is what it delivered
    await sleep(3 * HEARTBEAT_MS + 500);
    const g = await describeGroup(GROUP);
    expect(g.members.length).toBe(1); // still a member: heartbeats do not depend on the client reading
    const delivered = g.offsets.find((o) => o.partition === 0)?.committedOffset ?? 0;
    const deliveredBytes = delivered * VALUE_BYTES;
    console.log(
      `ws groups slow reader: ${(produced * VALUE_BYTES) / MiB} MiB produced; ${(deliveredBytes / MiB).toFixed(1)} MiB handed to the paused socket (server buffer + TCP)`,
    );
    // Were delivery not bounded by the socket's buffer, everything produced (plus JSON framing)
    // would sit in the server's socket buffer, and the delivered position would be the head.
    // With backpressure it stops at about highWaterBytes (1 MiB) + one poll + what TCP holds.
    expect(delivered).toBeGreaterThan(0); // (measured through auto-commit, which must have run)
    expect(delivered).toBeLessThan(produced / 2);
    expect(slow.count("s")).toBe(0);

    slow.ws.resume();
    await slow.until(() => slow.count("s") >= produced, `all ${produced} records`, 30_000);
    await slow.ping();
    expect(slow.count("s")).toBe(produced);
    expect(slow.records.get("s")!.every((r) => r.value === value(r.offset))).toBe(true);
    expect(log.violations).toEqual([]);
    expect(slow.violations).toEqual([]);
    slow.terminate();
  }, 60_000);
});
