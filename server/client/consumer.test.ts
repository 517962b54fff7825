/**
 * Consumer groups with real processes: a server process with a 3 s session timeout, and group
 * members that are separate `consumer-worker.ts` processes (the Consumer client) logging every
 * assignment change and every processed record. Covers balancing as workers come and go, a
 * SIGKILLed worker's partitions moving to the survivors after its session times out, no
 * partition ever owned by two members at once (from the workers' own logs), at-least-once
 * delivery through random SIGKILLs and restarts, and stale-generation commits being refused.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Admin } from "./admin.ts";
import { bytesOfMessage, Consumer, StoredMessage, type Message } from "./consumer.ts";
import { TributaryClientError } from "./http-client.ts";
import { createScratchDatabase, type ScratchDatabase } from "../testing/databases.ts";
import { rng } from "../testing/prng.ts";
import { ROOT, startServer, type ServerProcess } from "../testing/server-process.ts";

const SESSION_MS = 3_000;
const HEARTBEAT_MS = 300;

let db: ScratchDatabase;
let server: ServerProcess;
let admin: Admin;
const workers: Worker[] = [];

beforeAll(async () => {
  db = await createScratchDatabase("postgres");
  server = await startServer(db, {
    TRIBUTARY_GROUP_SESSION_TIMEOUT_MS: String(SESSION_MS),
    TRIBUTARY_GROUP_HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS),
  });
  admin = new Admin({ baseUrl: server.url });
});

afterAll(async () => {
  await Promise.allSettled(workers.map((w) => w.kill()));
  await server?.stop();
  await db?.drop();
});

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number, diag?: () => string): Promise<number> {
  const start = now();
  for (;;) {
    if (await cond()) return now() - start;
    if (now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${diag ? `\n${diag()}` : ""}`);
    await sleep(100);
  }
}

// ---- worker processes --------------------------------------------------------------------------

interface TP {
  topic: string;
  partition: number;
}

interface WorkerEvent {
  ev: "joined" | "running" | "assigned" | "revoked" | "record" | "commit" | "error" | "stopped";
  pid: number;
  t: number;
  memberId?: string;
  memberEpoch?: number;
  partitions?: TP[];
  owned?: TP[];
  reason?: string;
  topic?: string;
  partition?: number;
  offset?: number;
  key?: string | null;
  value?: string | null;
  code?: string;
  message?: string;
}

class Worker {
  readonly events: WorkerEvent[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  other = "";
  /** When the process ended (after exit was observed): no event of it can be later. */
  endedAt: number | null = null;
  killed = false;

  constructor(
    readonly name: string,
    env: Record<string, string>,
  ) {
    this.child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "server/testing/consumer-worker.ts")], {
      cwd: ROOT,
      env: { ...process.env, WORKER_BASE_URL: server.url, WORKER_CLIENT_ID: name, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.exited = new Promise((resolve) =>
      this.child.once("exit", () => {
        this.endedAt = now();
        resolve();
      }),
    );
    readline.createInterface({ input: this.child.stdout! }).on("line", (line) => {
      try {
        this.events.push(JSON.parse(line));
      } catch {
        this.other += line + "\n";
      }
    });
    this.child.stderr!.on("data", (d) => (this.other += d));
    workers.push(this);
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** The partitions this process owns now, by its log. */
  owned(): number[] {
    const s = new Set<number>();
    for (const e of this.events) {
      if (e.ev === "assigned") for (const tp of e.partitions!) s.add(tp.partition);
      if (e.ev === "revoked") for (const tp of e.partitions!) s.delete(tp.partition);
    }
    return [...s].sort((a, b) => a - b);
  }

  memberId(): string | undefined {
    return this.events.filter((e) => e.ev === "joined").at(-1)?.memberId;
  }

  records(): WorkerEvent[] {
    return this.events.filter((e) => e.ev === "record");
  }

  async kill(): Promise<void> {
    if (this.endedAt !== null) return;
    this.killed = true;
    this.child.kill("SIGKILL");
    await this.exited;
  }

  /** SIGTERM: the consumer commits and leaves; the process must exit 0 on its own. */
  async stop(): Promise<void> {
    if (this.endedAt !== null) return;
    // a process still loading has no SIGTERM handler yet: let it start first
    await waitFor(
      `${this.name} running`,
      () => this.events.some((e) => e.ev === "running") || this.endedAt !== null,
      30_000,
      () => this.summary(),
    );
    this.child.kill("SIGTERM");
    const t = setTimeout(() => this.child.kill("SIGKILL"), 20_000);
    await this.exited;
    clearTimeout(t);
    expect(this.child.exitCode, `${this.name} did not stop cleanly:\n${this.other}`).toBe(0);
    expect(this.events.at(-1)?.ev).toBe("stopped");
  }

  summary(): string {
    const owned = this.owned();
    const errors = this.events.filter((e) => e.ev === "error").map((e) => `${e.code}: ${e.message}`);
    return `${this.name} pid ${this.pid} member ${this.memberId()?.slice(0, 8)} owns [${owned}] records ${this.records().length} ${
      errors.length ? `errors ${errors.slice(-3).join(" | ")}` : ""
    }${this.other ? `\n  output: ${this.other.slice(-500)}` : ""}`;
  }
}

const summaries = (ws: Worker[]) => ws.map((w) => w.summary()).join("\n");

// ---- log analysis --------------------------------------------------------------------------------

interface Interval {
  worker: string;
  pid: number;
  memberId: string;
  memberEpoch: number;
  partition: number;
  start: number;
  end: number;
  endedBy: string;
}

/**
 * Ownership intervals from the workers' logs: from the `assigned` line to the `revoked` line of
 * the same member; a killed (or still running) process's open intervals end when it ended.
 */
function ownershipIntervals(ws: Worker[], topic: string): Interval[] {
  const out: Interval[] = [];
  for (const w of ws) {
    const open = new Map<number, Interval>();
    for (const e of w.events) {
      if (e.ev === "assigned") {
        for (const tp of e.partitions!.filter((x) => x.topic === topic)) {
          expect(open.has(tp.partition), `${w.name} was assigned ${tp.partition} twice`).toBe(false);
          open.set(tp.partition, {
            worker: w.name,
            pid: w.pid,
            memberId: e.memberId!,
            memberEpoch: e.memberEpoch!,
            partition: tp.partition,
            start: e.t,
            end: NaN,
            endedBy: "",
          });
        }
      } else if (e.ev === "revoked") {
        for (const tp of e.partitions!.filter((x) => x.topic === topic)) {
          const i = open.get(tp.partition);
          expect(i, `${w.name} revoked ${tp.partition} it did not own`).toBeDefined();
          expect(i!.memberId).toBe(e.memberId);
          i!.end = e.t;
          i!.endedBy = e.reason!;
          out.push(i!);
          open.delete(tp.partition);
        }
      }
    }
    for (const i of open.values()) {
      i.end = w.endedAt ?? Number.POSITIVE_INFINITY;
      i.endedBy = w.killed ? "killed" : "running";
      out.push(i);
    }
  }
  return out;
}

/** No partition owned by two members at overlapping times; returns the violations. */
function overlaps(intervals: Interval[]): string[] {
  const bad: string[] = [];
  const byPartition = new Map<number, Interval[]>();
  for (const i of intervals) byPartition.set(i.partition, [...(byPartition.get(i.partition) ?? []), i]);
  for (const [p, list] of byPartition) {
    list.sort((a, b) => a.start - b.start);
    for (let a = 0; a < list.length; a++) {
      for (let b = a + 1; b < list.length; b++) {
        const x = list[a];
        const y = list[b];
        if (x.memberId !== y.memberId && x.start < y.end && y.start < x.end) {
          bad.push(
            `partition ${p}: ${x.worker}/${x.memberId.slice(0, 8)}@${x.memberEpoch} [${x.start.toFixed(1)}, ${x.end.toFixed(1)}] (${x.endedBy}) overlaps ` +
              `${y.worker}/${y.memberId.slice(0, 8)}@${y.memberEpoch} [${y.start.toFixed(1)}, ${y.end.toFixed(1)}] (${y.endedBy})`,
          );
        }
      }
    }
  }
  return bad;
}

/** Every processed record lies within an ownership interval of the member that processed it. */
function recordsOutsideOwnership(ws: Worker[], intervals: Interval[], topic: string): string[] {
  const bad: string[] = [];
  for (const w of ws) {
    for (const r of w.records().filter((x) => x.topic === topic)) {
      const ok = intervals.some((i) => i.memberId === r.memberId && i.partition === r.partition && i.start <= r.t && r.t <= i.end);
      if (!ok) bad.push(`${w.name}/${r.memberId?.slice(0, 8)} processed ${r.partition}@${r.offset} at ${r.t.toFixed(1)} without owning it`);
    }
  }
  return bad;
}

// ---- producing -----------------------------------------------------------------------------------

interface Produced {
  key: string;
  value: string;
  partition: number;
  offset: number;
}

async function produceKeyed(topic: string, records: { key: string; value: string }[]): Promise<Produced[]> {
  const res = await fetch(`${server.url}/api/v1/topics/${topic}/records`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ records }),
  });
  const body = (await res.json()) as { records: { partition: number; offset: number }[] };
  expect(res.status, JSON.stringify(body)).toBe(200);
  return records.map((r, i) => ({ ...r, partition: body.records[i].partition, offset: body.records[i].offset }));
}

/** `count` records valued `<n>:` padded to `size` characters, produced in stored batches of `perBatch`. */
async function produceNumbered(topic: string, count: number, perBatch: number, size: number): Promise<void> {
  for (let from = 0; from < count; from += perBatch)
    await produceKeyed(
      topic,
      Array.from({ length: perBatch }, (_, i) => ({ key: "k", value: `${from + i}:`.padEnd(size, "x") })),
    );
}

/**
 * Consumes `topic` (from produceNumbered) with `limits`, holding the first batch's handler for 1.5 s
 * while fetching goes on, up to the bounds; the batches handed over, each record once and in order.
 */
async function batchesWithFirstHeld(
  topic: string,
  count: number,
  limits: { maxRecords: number; maxBytes: number; maxBufferedRecords: number; maxBufferedBytes: number },
): Promise<{ bytes: number; count: number }[]> {
  const c = new Consumer({ baseUrl: server.url, groupId: `${topic}-g`, autoOffsetReset: "earliest", ...limits });
  c.subscribe({ topics: [topic] });
  const batches: { bytes: number; first: number; count: number }[] = [];
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  await c.run({
    eachBatch: async ({ messages }) => {
      batches.push({
        bytes: messages.reduce((n, m) => n + (m.value?.length ?? 0) + (m.key?.length ?? 0), 0),
        first: Number(messages[0].value!.toString().split(":")[0]),
        count: messages.length,
      });
      if (batches.length === 1) await held;
    },
  });
  await waitFor("a first batch", () => batches.length === 1, 15_000);
  await sleep(1500);
  release();
  await waitFor(`all ${count} records`, () => batches.reduce((n, b) => n + b.count, 0) >= count, 30_000);
  await c.stop();
  let next = 0;
  for (const b of batches) {
    expect(b.first).toBe(next);
    next += b.count;
  }
  expect(next).toBe(count);
  return batches;
}

/** Produces batches until stopped; keys key-0..key-(keys-1), values key:seq with a per-key sequence. */
function trickle(topic: string, perBatch: number, everyMs: number, keys: number) {
  const produced: Produced[] = [];
  const seq = new Map<string, number>();
  let n = 0;
  let running = true;
  const done = (async () => {
    while (running) {
      const batch = Array.from({ length: perBatch }, () => {
        const key = `key-${n++ % keys}`;
        const s = seq.get(key) ?? 0;
        seq.set(key, s + 1);
        return { key, value: `${key}:${s}` };
      });
      produced.push(...(await produceKeyed(topic, batch)));
      await sleep(everyMs);
    }
  })();
  return {
    produced,
    async stop() {
      running = false;
      await done;
    },
  };
}

function unprocessed(produced: Produced[], ws: Worker[], topic: string): Produced[] {
  const seen = new Set<string>();
  for (const w of ws) for (const r of w.records()) if (r.topic === topic) seen.add(`${r.partition}/${r.offset}`);
  return produced.filter((p) => !seen.has(`${p.partition}/${p.offset}`));
}

// ---- tests ---------------------------------------------------------------------------------------

describe("rebalancing across worker processes", () => {
  const TOPIC = "rb";
  const GROUP = "rb-g";
  const env = { WORKER_GROUP: GROUP, WORKER_TOPICS: TOPIC, WORKER_DELAY_MS: "1" };
  const ws: Worker[] = [];
  let producer: ReturnType<typeof trickle>;

  beforeAll(async () => {
    await admin.createTopic({ name: TOPIC, partitions: 12 });
    producer = trickle(TOPIC, 12, 100, 60);
  });

  afterAll(async () => {
    await producer?.stop();
  });

  /** The live workers own `sizes` partitions each (by their logs and the broker), all 12 together. */
  async function balanced(live: Worker[], size: number): Promise<boolean> {
    const owned = live.map((w) => w.owned());
    if (owned.some((o) => o.length !== size)) return false;
    if (new Set(owned.flat()).size !== 12) return false;
    const d = await admin.describeGroup(GROUP);
    return (
      d.state === "Stable" &&
      d.members.length === live.length &&
      d.members.every((m) => m.assignment.reduce((n, a) => n + a.partitions.length, 0) === size) &&
      live.every((w) => d.members.some((m) => m.memberId === w.memberId()))
    );
  }

  it("(a) 12 partitions over 3 workers: 4 each once stable; a 4th worker: 3 each", async () => {
    for (let i = 0; i < 3; i++) ws.push(new Worker(`rb-w${i}`, env));
    await waitFor(
      "3 workers with 4 partitions each",
      () => balanced(ws, 4),
      30_000,
      () => summaries(ws),
    );
    const before = ws.map((w) => w.owned());
    ws.push(new Worker("rb-w3", env));
    await waitFor(
      "4 workers with 3 partitions each",
      () => balanced(ws, 3),
      30_000,
      () => summaries(ws),
    );
    // the sticky assignor moved only what it had to: each of the first three kept 3 of its 4
    for (let i = 0; i < 3; i++) expect(before[i], ws[i].name).toEqual(expect.arrayContaining(ws[i].owned()));
  });

  it("(b) a SIGKILLed worker's partitions go to the survivors once its session times out", async () => {
    const victim = ws[0];
    const victimMember = victim.memberId()!;
    const victimPartitions = victim.owned();
    expect(victimPartitions).toHaveLength(3);
    const killedAt = now();
    await victim.kill();
    const survivors = ws.slice(1);
    const took = await waitFor(
      "survivors owning all 12",
      () => balanced(survivors, 4),
      SESSION_MS + 15_000,
      () => summaries(ws),
    );
    console.log(
      `[consumer.test] survivors owned all 12 partitions ${took.toFixed(0)} ms after the SIGKILL (session timeout ${SESSION_MS} ms)`,
    );
    expect((await admin.describeGroup(GROUP)).members.map((m) => m.memberId)).not.toContain(victimMember);
    // nobody got the dead member's partitions before its session could have expired
    const firstGrant = Math.min(
      ...survivors.flatMap((w) =>
        w.events
          .filter((e) => e.ev === "assigned" && e.t > killedAt && e.partitions!.some((tp) => victimPartitions.includes(tp.partition)))
          .map((e) => e.t),
      ),
    );
    expect(firstGrant - killedAt).toBeGreaterThan(SESSION_MS / 2);
  });

  it("(c) no partition was ever owned by two members at once; records were processed only while owned; nothing was skipped", async () => {
    await producer.stop();
    const live = ws.filter((w) => !w.killed);
    await waitFor(
      "every produced record processed",
      () => unprocessed(producer.produced, ws, TOPIC).length === 0,
      30_000,
      () => summaries(ws),
    );
    await Promise.all(live.map((w) => w.stop()));
    const intervals = ownershipIntervals(ws, TOPIC);
    // every worker owned something at some point; every member's epochs only go up
    for (const w of ws)
      expect(
        intervals.some((i) => i.pid === w.pid),
        w.name,
      ).toBe(true);
    for (const w of ws) {
      const epochs = w.events.filter((e) => e.ev === "assigned").map((e) => e.memberEpoch!);
      expect(epochs, w.name).toEqual([...epochs].sort((a, b) => a - b));
    }
    expect(
      intervals
        .filter((i) => i.endedBy === "killed")
        .map((i) => i.partition)
        .sort((a, b) => a - b),
    ).toHaveLength(3);
    expect(intervals.filter((i) => i.endedBy === "running")).toEqual([]);
    expect(overlaps(intervals)).toEqual([]);
    expect(recordsOutsideOwnership(ws, intervals, TOPIC)).toEqual([]);
    const lost = ws.flatMap((w) => w.events.filter((e) => e.ev === "revoked" && e.reason === "lost").map(() => w.name));
    console.log(
      `[consumer.test] ${intervals.length} ownership intervals over ${ws.length} workers; ${producer.produced.length} records produced; ` +
        `${ws.reduce((n, w) => n + w.records().length, 0)} processed; members fenced while alive: ${lost.length}`,
    );
  });
});

describe("at-least-once through SIGKILLs and restarts", () => {
  const TOPIC = "alo";
  const GROUP = "alo-g";
  const N = 3_000;
  const SEED = Number(process.env.TRIBUTARY_TEST_SEED ?? 20_261_125);

  it("(d) every record is processed at least once, in per-key order within each run; duplicates are counted", async () => {
    await admin.createTopic({ name: TOPIC, partitions: 12 });
    const random = rng(SEED);
    const env = {
      WORKER_GROUP: GROUP,
      WORKER_TOPICS: TOPIC,
      WORKER_DELAY_MS: "10",
      WORKER_AUTO_COMMIT_MS: "300",
      WORKER_MAX_RECORDS: "50",
    };
    const all: Worker[] = [];
    let generation = 0;
    const spawnSlot = (slot: number) => {
      const w = new Worker(`alo-s${slot}-g${generation++}`, env);
      all.push(w);
      return w;
    };
    // 3000 keyed records (150 keys, values key:seq with a per-key sequence), all there from the
    // start, so the workers are busy while they are killed
    const seq = new Map<string, number>();
    const produced: Produced[] = [];
    for (let b = 0; b < 3; b++) {
      const batch = Array.from({ length: N / 3 }, (_, i) => {
        const key = `key-${(b * 1000 + i) % 150}`;
        const s = seq.get(key) ?? 0;
        seq.set(key, s + 1);
        return { key, value: `${key}:${s}` };
      });
      produced.push(...(await produceKeyed(TOPIC, batch)));
    }
    expect(produced).toHaveLength(N);
    const slots = [0, 1, 2].map(spawnSlot);

    // seeded chaos: 6 SIGKILLs at random points of progress (5–80 % of the records processed, so
    // they hit workers in the middle of their work), each victim restarted 0.2–1.5 s later
    const points = Array.from({ length: 6 }, () => Math.floor((0.05 + random() * 0.75) * N)).sort((a, b) => a - b);
    const progress = () => N - unprocessed(produced, all, TOPIC).length;
    const plan: string[] = [];
    const chaosStart = now();
    const restarts: Promise<void>[] = [];
    for (const point of points) {
      await waitFor(
        `${point} records processed`,
        () => progress() >= point,
        30_000,
        () => summaries(all),
      );
      // a random slot among those whose worker is up and running (one may still be down or starting)
      const up = () => [0, 1, 2].filter((i) => slots[i].endedAt === null && slots[i].events.some((e) => e.ev === "running"));
      await waitFor(
        "a running worker",
        () => up().length > 0,
        30_000,
        () => summaries(all),
      );
      const candidates = up();
      const slot = candidates[Math.floor(random() * candidates.length)];
      const delay = 200 + random() * 1_300;
      const victim = slots[slot];
      await victim.kill();
      plan.push(
        `${(now() - chaosStart).toFixed(0)}ms at ${progress()}/${N} kill ${victim.name} (${victim.records().length} records) → restart in ${delay.toFixed(0)}ms`,
      );
      restarts.push(
        sleep(delay).then(() => {
          slots[slot] = spawnSlot(slot);
        }),
      );
    }
    await Promise.all(restarts);

    // the group's commits reach the end of every partition; commits only ever cover processed
    // records, so a record missing from the logs below means one was committed unprocessed
    await waitFor(
      "commits at the end of every partition",
      async () => {
        const d = await admin.describeGroup(GROUP);
        return d.offsets.length === 12 && d.offsets.every((o) => o.committedOffset === o.highWatermark);
      },
      45_000,
      () => `${unprocessed(produced, all, TOPIC).length} unprocessed\n${plan.join("\n")}\n${summaries(all)}`,
    );
    await Promise.all(slots.map((w) => w.stop()));

    // at least once, with the bytes intact
    const byOffset = new Map(produced.map((p) => [`${p.partition}/${p.offset}`, p]));
    let processed = 0;
    for (const w of all) {
      for (const r of w.records()) {
        processed++;
        const p = byOffset.get(`${r.partition}/${r.offset}`);
        expect(p, `${w.name} processed ${r.partition}/${r.offset}, which was never produced`).toBeDefined();
        expect([r.key, r.value]).toEqual([p!.key, p!.value]);
      }
    }
    expect(unprocessed(produced, all, TOPIC).map((p) => `${p.partition}/${p.offset}`)).toEqual([]);

    // per-key order within each process's membership: every key's sequence numbers only go up,
    // and within one ownership of a partition the offsets are consecutive (no gap, no repeat)
    const orderViolations: string[] = [];
    for (const w of all) {
      const lastSeq = new Map<string, number>();
      const lastOffset = new Map<string, number>();
      for (const e of w.events) {
        if (e.ev === "assigned" || e.ev === "revoked") {
          for (const tp of e.partitions!) lastOffset.delete(`${e.memberId}/${tp.partition}`);
          continue;
        }
        if (e.ev !== "record") continue;
        const s = Number(e.value!.split(":")[1]);
        const k = `${e.memberId}/${e.key}`;
        if (lastSeq.has(k) && s <= lastSeq.get(k)!) orderViolations.push(`${w.name}: ${e.key} seq ${s} after ${lastSeq.get(k)}`);
        lastSeq.set(k, s);
        const pk = `${e.memberId}/${e.partition}`;
        if (lastOffset.has(pk) && e.offset !== lastOffset.get(pk)! + 1) {
          orderViolations.push(`${w.name}: partition ${e.partition} offset ${e.offset} after ${lastOffset.get(pk)}`);
        }
        lastOffset.set(pk, e.offset!);
      }
    }
    expect(orderViolations.slice(0, 20)).toEqual([]);

    // the workers' ownership never overlapped either (a killed worker's log simply stops)
    const intervals = ownershipIntervals(all, TOPIC);
    expect(overlaps(intervals)).toEqual([]);
    expect(recordsOutsideOwnership(all, intervals, TOPIC)).toEqual([]);

    // after the clean stops everything is committed
    const d = await admin.describeGroup(GROUP);
    expect(d.state).toBe("Empty");
    expect(d.offsets.map((o) => o.committedOffset)).toEqual(d.offsets.map((o) => o.highWatermark));

    const killed = all.filter((w) => w.killed).length;
    console.log(
      `[consumer.test] at-least-once (seed ${SEED}): ${N} records, ${processed} processed, ${processed - N} duplicates; ` +
        `${killed} SIGKILLs, ${all.length} worker processes\n  ${plan.join("\n  ")}`,
    );
    expect(killed).toBe(6);
  });
});

describe("commits from an old generation", () => {
  it("(e) are refused over REST: stale epoch 409, partition moved away 409, expired member 404 — and change nothing", async () => {
    await admin.createTopic({ name: "stale", partitions: 2 });
    await produceKeyed(
      "stale",
      Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
    );
    const call = async (method: string, p: string, body?: unknown) => {
      const res = await fetch(`${server.url}/api/v1/groups/stale-g${p}`, {
        method,
        headers: body ? { "content-type": "application/json" } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };
    const hb = async (
      m: { memberId: string; memberEpoch: number; assignment: TP[] | { topic: string; partitions: number[] }[] },
      owned?: unknown,
    ) => {
      const r = await call("POST", `/members/${m.memberId}/heartbeat`, {
        memberEpoch: m.memberEpoch,
        ownedPartitions: owned ?? m.assignment,
      });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      Object.assign(m, { memberEpoch: r.body.memberEpoch, assignment: r.body.assignment });
    };
    const commit = (m: { memberId: string }, memberEpoch: number, partition: number, offset: number) =>
      call("POST", `/members/${m.memberId}/offsets`, { memberEpoch, offsets: [{ topic: "stale", partition, offset }] });

    const a = (await call("POST", "/members", { topics: ["stale"], autoOffsetReset: "earliest" })).body;
    expect(a.assignment).toEqual([{ topic: "stale", partitions: [0, 1] }]);
    const e1 = a.memberEpoch;
    expect((await commit(a, e1, 0, 1)).status).toBe(200);
    expect((await commit(a, e1, 1, 1)).status).toBe(200);

    const b = (await call("POST", "/members", { topics: ["stale"] })).body;
    await hb(a, [{ topic: "stale", partitions: [0, 1] }]);
    expect(a.memberEpoch).toBe(e1); // revoking: still at its epoch, and may still commit what it gives up
    const moved = [0, 1].find((p) => !a.assignment[0].partitions.includes(p))!;
    const kept = 1 - moved;
    expect((await commit(a, e1, moved, 2)).status).toBe(200);
    await hb(a); // lets go of it
    const e2 = a.memberEpoch;
    expect(e2).toBeGreaterThan(e1);
    await hb(b);
    expect(b.assignment).toEqual([{ topic: "stale", partitions: [moved] }]);

    let r = await commit(a, e1, kept, 3);
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe("STALE_MEMBER_EPOCH");
    r = await commit(a, e2, moved, 3);
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe("ILLEGAL_GENERATION");
    r = await commit(a, e2 + 1, kept, 3);
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe("FENCED_MEMBER_EPOCH");
    expect((await commit(b, b.memberEpoch, moved, 4)).status).toBe(200);

    // a goes silent (a zombie); b keeps heartbeating; after the session timeout a's commits are refused
    const start = now();
    while (now() - start < SESSION_MS + 1_500) {
      await hb(b);
      await sleep(HEARTBEAT_MS);
    }
    r = await commit(a, e2, kept, 5);
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe("UNKNOWN_MEMBER_ID");
    expect(b.assignment).toEqual([{ topic: "stale", partitions: [0, 1] }]);

    const d = await admin.describeGroup("stale-g");
    expect(d.offsets.map((o) => [o.partition, o.committedOffset])).toEqual([
      [0, moved === 0 ? 4 : 1],
      [1, moved === 1 ? 4 : 1],
    ]);
    expect((await call("DELETE", `/members/${b.memberId}`)).status).toBe(204);
  });
});

describe("Consumer and Admin in process", () => {
  it("eachBatch over a topic pattern; stop() commits and leaves; a new consumer resumes; typed errors", async () => {
    await admin.createTopic({ name: "inproc-1", partitions: 2 });
    await admin.createTopic({ name: "inproc-2", partitions: 1 });
    await produceKeyed(
      "inproc-1",
      Array.from({ length: 20 }, (_, i) => ({ key: `a${i}`, value: `x${i}` })),
    );
    await produceKeyed(
      "inproc-2",
      Array.from({ length: 5 }, (_, i) => ({ key: `b${i}`, value: `y${i}` })),
    );

    const seen: Message[] = [];
    const c1 = new Consumer({
      baseUrl: server.url,
      groupId: "inproc-g",
      autoOffsetReset: "earliest",
      autoCommit: true,
      autoCommitIntervalMs: 200,
    });
    const rebalances: { memberEpoch: number; assignment: TP[] }[] = [];
    c1.on("rebalance", (e) => rebalances.push({ memberEpoch: e.memberEpoch, assignment: e.assignment }));
    expect(() => c1.subscribe({ topics: [] })).toThrow(/non-empty/);
    c1.subscribe({ topicPattern: /inproc-\d/ });
    await expect(c1.run({})).rejects.toThrow(/exactly one/);
    await c1.run({
      eachBatch: async ({ messages, isActive }) => {
        expect(isActive()).toBe(true);
        // stop after 15 records of inproc-1 (5 of inproc-2 come too)
        seen.push(...messages);
      },
    });
    expect(c1.assignment()).toEqual([
      { topic: "inproc-1", partition: 0 },
      { topic: "inproc-1", partition: 1 },
      { topic: "inproc-2", partition: 0 },
    ]);
    expect(rebalances[0].assignment).toHaveLength(3);
    await waitFor("25 records", () => seen.length >= 25, 15_000);
    await c1.stop();
    expect(seen).toHaveLength(25);
    expect(seen.filter((m) => m.topic === "inproc-2").map((m) => [m.offset, m.key?.toString(), m.value?.toString()])).toEqual(
      Array.from({ length: 5 }, (_, i) => [i, `b${i}`, `y${i}`]),
    );
    expect(rebalances.at(-1)!.assignment).toEqual([]);
    let d = await admin.describeGroup("inproc-g");
    expect(d.state).toBe("Empty");
    expect(d.totalLag).toBe(0);
    expect(d.offsets.every((o) => o.committedOffset === o.highWatermark)).toBe(true);

    // new records; a fresh consumer (autoCommit off) resumes after the commit and commits by hand
    await produceKeyed("inproc-2", [{ key: "late", value: "late" }]);
    const c2 = new Consumer({ baseUrl: server.url, groupId: "inproc-g", autoOffsetReset: "earliest", autoCommit: false });
    c2.subscribe({ topics: ["inproc-1", "inproc-2"] });
    const late: Message[] = [];
    await c2.run({ eachMessage: ({ message }) => void late.push(message) });
    await waitFor("the late record", () => late.length >= 1, 15_000);
    await sleep(500);
    expect(late.map((m) => [m.topic, m.offset, m.value?.toString()])).toEqual([["inproc-2", 5, "late"]]);
    await c2.stop();
    d = await admin.describeGroup("inproc-g");
    expect(d.offsets.find((o) => o.topic === "inproc-2")!.committedOffset).toBe(5); // autoCommit off: not committed

    // typed errors from the admin client and from a join the broker refuses
    await expect(admin.describeGroup("no-such-group")).rejects.toMatchObject({ status: 404, code: "GROUP_ID_NOT_FOUND" });
    await expect(admin.resetOffsets("inproc-g", { to: "earliest" }, { topics: [{ topic: "nope" }] })).rejects.toBeInstanceOf(
      TributaryClientError,
    );
    const plan = await admin.resetOffsets("inproc-g", { to: "shift", shiftBy: -1 }, { topics: [{ topic: "inproc-2" }] });
    expect(plan.plan).toMatchObject([{ currentOffset: 5, newOffset: 4, recordsToReread: 1 }]);
    const bad = new Consumer({ baseUrl: server.url, groupId: "inproc-g" });
    bad.subscribe({ topicPattern: "inproc-(" });
    await expect(bad.run({ eachMessage: () => undefined })).rejects.toMatchObject({ status: 400, code: "INVALID_REGULAR_EXPRESSION" });
    expect((await admin.listGroups()).find((g) => g.groupId === "inproc-g")).toMatchObject({ state: "Empty", members: 0 });
    await admin.deleteGroup("inproc-g");
    await expect(admin.describeGroup("inproc-g")).rejects.toMatchObject({ code: "GROUP_ID_NOT_FOUND" });
  });

  it("rejoins with epoch 0 as a new member after being removed; a failing handler is retried on the same record", async () => {
    await admin.createTopic({ name: "rejoin", partitions: 1 });
    const c = new Consumer({ baseUrl: server.url, groupId: "rejoin-g", autoOffsetReset: "earliest", retryBackoffMs: 100 });
    const joins: { memberId: string; reason: string }[] = [];
    const revoked: string[] = [];
    const errors: string[] = [];
    c.on("joined", (e) => joins.push({ memberId: e.memberId, reason: e.reason }));
    c.on("revoked", (e) => revoked.push(e.reason));
    c.on("error", (e) => errors.push((e as TributaryClientError).code ?? e.message));
    c.subscribe({ topics: ["rejoin"] });
    const got: string[] = [];
    let failures = 0;
    await c.run({
      eachMessage: ({ message }) => {
        const v = message.value!.toString();
        if (v === "v2" && failures++ < 2) throw new Error("handler failed on v2");
        got.push(v);
      },
    });
    await produceKeyed(
      "rejoin",
      ["v0", "v1", "v2", "v3"].map((v) => ({ key: "k", value: v })),
    );
    await waitFor("4 records", () => got.length >= 4, 15_000);
    expect(got).toEqual(["v0", "v1", "v2", "v3"]);
    expect(errors.filter((e) => e === "handler failed on v2")).toHaveLength(2);

    // removed behind its back (as if its session had expired): it finds out and joins again
    const first = c.member.memberId!;
    await waitFor("a commit of all 4", async () => (await admin.describeGroup("rejoin-g")).offsets[0]?.committedOffset === 4, 15_000);
    const res = await fetch(`${server.url}/api/v1/groups/rejoin-g/members/${first}`, { method: "DELETE" });
    expect(res.status).toBe(204);
    await waitFor("a rejoin", () => joins.some((j) => j.reason === "rejoin"), 15_000);
    expect(c.member.memberId).not.toBe(first);
    expect(revoked).toContain("lost");
    expect(errors).toContain("UNKNOWN_MEMBER_ID");
    // it goes on from the group's commit: nothing re-delivered, new records arrive
    await produceKeyed("rejoin", [{ key: "k", value: "v4" }]);
    await waitFor("the 5th record", () => got.length >= 5, 15_000);
    await c.stop();
    expect(got).toEqual(["v0", "v1", "v2", "v3", "v4"]);
    const d = await admin.describeGroup("rejoin-g");
    expect(d.members).toEqual([]);
    expect(d.offsets[0].committedOffset).toBe(5);
  });
  it("fetching stops at maxBufferedBytes while a handler runs: the batch handed over next holds at most that (and one poll) of keys and values", async () => {
    await admin.createTopic({ name: "heavy", partitions: 1 });
    // 200 records of 10 KB (2 MB) in stored batches of 5 (a poll returns at least one whole batch);
    // polls of 64 KB, at most 256 KB buffered
    await produceNumbered("heavy", 200, 5, 10_000);
    const batches = await batchesWithFirstHeld("heavy", 200, {
      maxRecords: 1000,
      maxBytes: 64 * 1024,
      maxBufferedRecords: 100_000,
      maxBufferedBytes: 256 * 1024,
    });
    // the batch after the held one is what was buffered meanwhile: bounded (without the bound, all 2 MB)
    expect(batches[1].bytes).toBeGreaterThan(0);
    expect(Math.max(...batches.map((b) => b.bytes))).toBeLessThanOrEqual(256 * 1024 + 64 * 1024 + 50_010);
  });
  it("fetching stops near maxBufferedRecords however small the records: a poll asks for the bytes of about that many records, not maxBytes of them", async () => {
    await admin.createTopic({ name: "small", partitions: 1 });
    // 20,000 records of ~100 B (~2.3 MB stored) in stored batches of 500; polls may bring 4 MiB, at most 2,000 records buffered
    await produceNumbered("small", 20_000, 500, 100);
    const batches = await batchesWithFirstHeld("small", 20_000, {
      maxRecords: 1000,
      maxBytes: 4 * 1024 * 1024,
      maxBufferedRecords: 2000,
      maxBufferedBytes: 64 * 1024 * 1024,
    });
    // what was handed over at once stayed within the bound and a poll of about as many (sized to a
    // power of two: within √2 of it, and one stored batch more); a poll of 4 MiB took all 20,000
    expect(batches[1].count).toBeGreaterThan(0);
    expect(Math.max(...batches.map((b) => b.count))).toBeLessThanOrEqual(2000 + Math.SQRT2 * 2000 + 500);
  });
  it("storedMessages: each message reads its key and value from the stored batch, and holds what a plain message holds", async () => {
    await admin.createTopic({ name: "stored", partitions: 1 });
    const records = [
      { key: "k1", value: "plain" },
      { key: null, value: "no key" },
      { key: "k3", value: null },
      { key: "ключ", value: "значение 🚀", headers: { trace: "t-1", empty: null } },
      { key: "", value: "" },
    ];
    const res = await fetch(`${server.url}/api/v1/topics/stored/records`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ records }),
    });
    expect(res.status).toBe(200);
    const consume = async (storedMessages: boolean) => {
      const got: Message[] = [];
      const c = new Consumer({ baseUrl: server.url, groupId: `stored-${storedMessages}`, autoOffsetReset: "earliest", storedMessages });
      c.subscribe({ topics: ["stored"] });
      try {
        await c.run({ eachBatch: ({ messages }) => void got.push(...messages) });
        await waitFor("5 records", () => got.length >= 5, 15_000);
      } finally {
        await c.stop();
      }
      return got;
    };
    const shown = (m: Message) => ({
      offset: m.offset,
      timestamp: m.timestamp,
      key: m.key?.toString("utf8") ?? null,
      value: m.value?.toString("utf8") ?? null,
      headers: m.headers.map((h) => [h.key, h.value?.toString("utf8") ?? null]),
    });
    const plain = await consume(false);
    const stored = await consume(true);
    expect(plain.every((m) => !(m instanceof StoredMessage))).toBe(true);
    expect(stored.every((m) => m instanceof StoredMessage)).toBe(true);
    expect(stored.map(shown)).toEqual(plain.map(shown));
    expect(stored.map((m) => [m.key?.toString("utf8") ?? null, m.value?.toString("utf8") ?? null])).toEqual(
      records.map((r) => [r.key, r.value]),
    );
    // the ranges name the same bytes the getters view, and the bytes counted are the key's and the value's
    for (const m of stored as StoredMessage[]) {
      expect(m.keyLength < 0 ? null : m.batch.subarray(m.keyStart, m.keyStart + m.keyLength)).toEqual(m.key);
      expect(m.valueLength < 0 ? null : m.batch.subarray(m.valueStart, m.valueStart + m.valueLength)).toEqual(m.value);
      expect(bytesOfMessage(m)).toBe((m.key?.length ?? 0) + (m.value?.length ?? 0));
    }
    expect(stored.map(bytesOfMessage)).toEqual(plain.map(bytesOfMessage));
  });
  it("records processed are not held: while the consumer waits for more, every record it handed over can be collected", async () => {
    await admin.createTopic({ name: "released", partitions: 1 });
    // 2,000 records in stored batches of 500, polls of up to 1,000 records
    await produceNumbered("released", 2000, 500, 100);
    v8.setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    let collected = 0;
    const registry = new FinalizationRegistry<number>(() => collected++);
    let processed = 0;
    const c = new Consumer({ baseUrl: server.url, groupId: "released-g", autoOffsetReset: "earliest", maxRecords: 1000 });
    c.subscribe({ topics: ["released"] });
    try {
      await c.run({
        eachBatch: async ({ messages }) => {
          for (const m of messages) registry.register(m, 0);
          processed += messages.length;
        },
      });
      await waitFor("all 2000 records", () => processed === 2000, 30_000);
      // the consumer now long-polls an idle topic: nothing it handed over is needed any more
      await waitFor(
        "every record handed over to be collected",
        async () => {
          gc();
          await sleep(50);
          return collected === 2000;
        },
        5_000,
        () => `${collected} of 2000 collected`,
      );
    } finally {
      await c.stop();
    }
  });
  it("eachBatch with batchesInFlight 2: the next batch is handed over while the one before runs; a rejected batch comes again with all after it", async () => {
    await admin.createTopic({ name: "overlap", partitions: 1 });
    const values = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `v${from + i}`);
    await produceKeyed(
      "overlap",
      values(0, 5).map((value) => ({ key: "k", value })),
    );
    const c = new Consumer({
      baseUrl: server.url,
      groupId: "overlap-g",
      autoOffsetReset: "earliest",
      retryBackoffMs: 100,
      batchesInFlight: 2,
    });
    const errors: string[] = [];
    c.on("error", (e) => errors.push(e.message));
    c.subscribe({ topics: ["overlap"] });
    const calls: { values: string[]; running: boolean; settle(ok: boolean): void }[] = [];
    await c.run({
      eachBatch: ({ messages }) =>
        new Promise<void>((resolve, reject) => {
          const call = {
            values: messages.map((m) => m.value!.toString()),
            running: true,
            settle(ok: boolean) {
              call.running = false;
              if (ok) resolve();
              else reject(new Error("batch failed"));
            },
          };
          calls.push(call);
        }),
    });
    await waitFor("a first call", () => calls.length === 1, 15_000);
    expect(calls[0].values).toEqual(values(0, 5));
    // the first call has not finished: what comes meanwhile is handed over at once, after it
    await produceKeyed(
      "overlap",
      values(5, 10).map((value) => ({ key: "k", value })),
    );
    await waitFor("a second call while the first runs", () => calls.length === 2, 15_000);
    expect(calls[1].values).toEqual(values(5, 10));
    expect(calls[0].running).toBe(true);
    // the first fails, the second succeeds: every record from the first on comes again, in order
    calls[0].settle(false);
    calls[1].settle(true);
    await waitFor("the records handed over again", () => calls.length === 3, 15_000);
    expect(calls[2].values).toEqual(values(0, 10));
    expect(errors).toEqual(["batch failed"]);
    calls[2].settle(true);
    await c.stop();
    expect((await admin.describeGroup("overlap-g")).offsets[0].committedOffset).toBe(10);
  });
});
