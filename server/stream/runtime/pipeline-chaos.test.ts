/**
 * Exactly-once under crashes (issue #15's acceptance): a pipeline with a map, a re-key, a
 * windowed count and a stream–table join runs in a real server while the server process is
 * killed with SIGKILL at random moments (the supervisor starts it again on the same port, and
 * the running pipeline starts again with it). The input goes in as known transactional batches;
 * after every restart the pipeline must catch up with what it had committed so far being part
 * of the answer (no duplicate, nothing wrong), and at the end what a read_committed reader sees
 * equals the answer computed here — nothing lost, nothing twice, the windows' counts and the
 * table carried over every crash in the restored state.
 *
 * The input has three partitions, so the re-keyed clicks reach the count through the
 * pipeline's repartition topic (and event time through the watermarks announced there), and the
 * table is read by the task that owns each user's partition.
 *
 * Seeded: the seed is printed; CHAOS_SEED=<n> replays a run's data and kill schedule.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { Admin, Producer } from "../../client/index.ts";
import { apiJson } from "../../testing/api-client.ts";
import { rng } from "../../testing/prng.ts";
import { repartitionTopicOf } from "../repartition.ts";
import { useTestServer, type TestServer } from "../../testing/test-server.ts";
import { eventually, readCommitted } from "../../testing/topic-reading.ts";

/** the server of the variant running (each starts its own, below) */
let server: TestServer;

const SEED = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const MINUTE = 60_000;
// an hour of history that ended a little while ago: event times within the topics' 7-day
// retention (at 2026-01-01 the cleaner, every 30 s, could delete inputs and outputs mid-test:
// "offset 0 is out of range … log start 108"), on an hour boundary like the windows
const BASE = Math.floor(Date.now() / (60 * MINUTE)) * 60 * MINUTE - 3 * 60 * MINUTE;
const PARTITIONS = 3;
const BATCHES = 12;
const PER_BATCH = 1500;
/** event time advances this much per record, plus a jitter below the source's out-of-orderness */
const STEP_MS = 200;
const JITTER_MS = 20_000;
const USERS = ["ann", "bob", "cat", "dan", "eve", "fay", "gus", "hal", "ivy", "jon", "kim", "zed"];
/** the table's rows; zed has none (the left join gives a null tier) */
const TIERS: Record<string, string> = Object.fromEntries(
  USERS.filter((u) => u !== "zed").map((u, i) => [u, ["gold", "silver", "bronze"][i % 3]]),
);

interface Click {
  user: string;
  page: string;
  ts: number;
  /** the input partition it is sent to (round-robin: every partition's event time moves on) */
  partition: number;
}

const edge = (from: string, to: string, toPort = "in", fromPort = "out") => ({
  from: { node: from, port: fromPort },
  to: { node: to, port: toPort },
});

const pipeline = {
  name: "clicks-per-user-minute",
  nodes: [
    {
      id: "clicks",
      // windows close by event time only: the input is history, and the crashes leave the input idle for seconds
      config: { kind: "source", topics: ["chaos-clicks"], eventTime: "value.ts", outOfOrdernessMs: 30_000, idleTimeoutMs: 3_600_000 },
    },
    { id: "tidy", config: { kind: "map", value: '{"user": value.user.lowerAscii(), "page": value.page, "ts": value.ts}' } },
    { id: "byUser", config: { kind: "selectKey", key: "value.user" } },
    {
      id: "perMinute",
      config: { kind: "aggregate", window: { type: "tumbling", sizeMs: MINUTE }, aggregations: [{ fn: "count", as: "n" }], emit: "final" },
    },
    { id: "users", config: { kind: "table", topic: "chaos-users" } },
    {
      id: "withTier",
      config: {
        kind: "join",
        type: "left",
        value: '{"start": left.window.start, "n": left.n, "tier": right == null ? "none" : right.tier}',
      },
    },
    { id: "out", config: { kind: "sink", topic: "chaos-counts", createTopic: { partitions: 1 } } },
    { id: "failed", config: { kind: "deadLetter", topic: "chaos-failed", createTopic: { partitions: 1 } } },
  ],
  edges: [
    edge("clicks", "tidy"),
    edge("tidy", "byUser"),
    edge("byUser", "perMinute"),
    edge("perMinute", "withTier", "left"),
    edge("users", "withTier", "right"),
    edge("withTier", "out"),
  ],
  settings: { commitIntervalMs: 100 },
};

/** The answer: every closed window's count per user, joined with the user's tier, as `user start n tier`. */
function expected(clicks: Click[]): string[] {
  const counts = new Map<string, number>();
  for (const c of clicks) {
    const k = `${c.user.toLowerCase()} ${Math.floor(c.ts / MINUTE) * MINUTE}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${k} ${n} ${TIERS[k.split(" ")[0]] ?? "none"}`).sort();
}

/** What the pipeline committed, in the answer's form (unsorted: duplicates stay visible). */
async function committedCounts(): Promise<string[]> {
  return (await readCommitted(server.url, "chaos-counts")).map((r) => {
    const v = JSON.parse(r.value!) as { start: number; n: number; tier: string };
    return `${r.key} ${v.start} ${v.n} ${v.tier}`;
  });
}

/** Commits one batch of clicks in one transaction (the server is up: the batch is in or the test fails). */
async function produceBatch(clicks: Click[]): Promise<void> {
  const producer = new Producer({ baseUrl: server.url, transactionalId: "chaos-feed", batchBytes: 1 << 20 });
  await producer.initTransactions();
  await producer.beginTransaction();
  await producer.sendMany(
    "chaos-clicks",
    clicks.map(({ partition, ...c }) => ({ value: JSON.stringify(c), partition })),
  );
  await producer.commitTransaction();
}

/** SIGKILL to the server process; resolves once the supervisor's new process serves. */
async function crash(): Promise<void> {
  const old = server.pid;
  process.kill(old, "SIGKILL");
  await eventually(
    `a server process to replace ${old}`,
    async () => server.pid,
    (pid) => pid !== old,
    90_000,
  );
}

/** The group's committed offsets reached the end of every partition of the clicks and the repartition topic (markers included). */
async function caughtUp(): Promise<void> {
  await eventually(
    "the pipeline to catch up with its input",
    async () => {
      try {
        const g = await new Admin({ baseUrl: server.url }).describeGroup("pipeline-clicks-per-user-minute");
        const clicks = g.offsets.filter((o) => o.topic === "chaos-clicks");
        return clicks.length === PARTITIONS ? g.totalLag : `${clicks.length} of the clicks' partitions have offsets`;
      } catch (e) {
        return (e as Error).message; // the group is not back yet
      }
    },
    (lag) => lag === 0,
    60_000,
  );
}

// on the main thread (the default on two cores), and spread over two pipeline threads (the
// default on four): there the group's two members share the three tasks, which move between
// them as each restarted server's members join one after the other
describe.each([
  ["on the main thread", "0"],
  ["spread over two pipeline threads", "2"],
])("a pipeline killed with SIGKILL at random moments, %s", (_where, threads) => {
  const started = useTestServer({
    TRIBUTARY_PIPELINE_THREADS: threads,
    TRIBUTARY_GROUP_HEARTBEAT_INTERVAL_MS: "250",
    TRIBUTARY_GROUP_SESSION_TIMEOUT_MS: "3000",
  });
  beforeAll(() => {
    server = started;
  });

  it("commits exactly the answer: no duplicate, no loss, its state restored after every crash", async () => {
    console.log(`pipeline-chaos: seed ${SEED} (CHAOS_SEED=${SEED} replays it)`);
    const rnd = rng(SEED);
    const admin = new Admin({ baseUrl: server.url });
    await admin.createTopic({ name: "chaos-clicks", partitions: PARTITIONS });
    // keyed by user with the default partitioner: co-partitioned with the repartitioned counts
    await admin.createTopic({ name: "chaos-users", partitions: PARTITIONS, configs: { "cleanup.policy": "compact" } });
    await new Producer({ baseUrl: server.url }).sendMany(
      "chaos-users",
      Object.entries(TIERS).map(([user, tier]) => ({ key: user, value: JSON.stringify({ tier }) })),
    );

    // the input: batches of clicks of random users (in random letter case), event time moving on with a bounded jitter
    const batches: Click[][] = [];
    for (let b = 0, i = 0; b < BATCHES; b++) {
      const batch: Click[] = [];
      for (let j = 0; j < PER_BATCH; j++, i++) {
        const user = USERS[Math.floor(rnd() * USERS.length)];
        batch.push({
          user: rnd() < 0.3 ? user.toUpperCase() : user,
          page: `/p/${Math.floor(rnd() * 50)}`,
          ts: BASE + i * STEP_MS + Math.floor(rnd() * JITTER_MS),
          partition: i % PARTITIONS,
        });
      }
      batches.push(batch);
    }
    // the kills: after 4 random batches, at a random moment while the pipeline works on it;
    // after one of them, once more at a random moment of the restart (restoring, rejoining)
    const killAfter = new Map<number, { delayMs: number; again: number | null }>();
    while (killAfter.size < 4) killAfter.set(1 + Math.floor(rnd() * (BATCHES - 2)), { delayMs: Math.floor(rnd() * 1500), again: null });
    const twice = [...killAfter.keys()][Math.floor(rnd() * killAfter.size)];
    killAfter.get(twice)!.again = Math.floor(rnd() * 3000);
    console.log(
      `pipeline-chaos: kills after batches ${[...killAfter]
        .sort(([a], [b]) => a - b)
        .map(([b, k]) => `${b} (+${k.delayMs} ms${k.again === null ? "" : `, again ${k.again} ms after the restart`})`)
        .join(", ")}`,
    );

    await apiJson(server.url, "POST", "/api/v1/pipelines", pipeline);
    const deployed = await apiJson(server.url, "POST", `/api/v1/pipelines/${pipeline.name}/deploy`, {});
    expect(deployed.state).toBe("running");

    const sent: Click[] = [];
    let kills = 0;
    for (let b = 0; b < BATCHES; b++) {
      await produceBatch(batches[b]);
      sent.push(...batches[b]);
      const kill = killAfter.get(b);
      if (!kill) continue;
      await new Promise((r) => setTimeout(r, kill.delayMs));
      await crash();
      kills++;
      if (kill.again !== null) {
        await new Promise((r) => setTimeout(r, kill.again!));
        await crash();
        kills++;
      }
      // back on its own: it catches up, and what it committed so far is part of the answer, once
      await caughtUp();
      const so = await committedCounts();
      const answer = new Set(expected(sent));
      expect(so.filter((c) => !answer.has(c))).toEqual([]);
      expect(new Set(so).size).toBe(so.length);
      expect((await apiJson(server.url, "GET", `/api/v1/pipelines/${pipeline.name}`)).state).toBe("running");
    }
    expect(kills).toBe(5);
    // the re-keyed clicks went through the repartition topic, one partition per input partition
    expect((await admin.describeTopic(repartitionTopicOf(pipeline.name, "perMinute", "in"))).partitions).toHaveLength(PARTITIONS);

    // a click far later in event time on every partition closes every window the input opened (the closer's stay open)
    const end = BASE + BATCHES * PER_BATCH * STEP_MS + 10 * MINUTE;
    await produceBatch(Array.from({ length: PARTITIONS }, (_, partition) => ({ user: "closer", page: "/", ts: end, partition })));
    const answer = expected(sent);
    const got = await eventually(`${answer.length} window counts`, committedCounts, (v) => v.length >= answer.length, 60_000);
    await caughtUp();
    // nothing more comes after a while (a late duplicate would)
    await new Promise((r) => setTimeout(r, 1000));
    expect((await committedCounts()).length).toBe(got.length);
    console.log(`pipeline-chaos: ${sent.length} clicks, ${answer.length} window counts, ${kills} kills`);
    expect([...got].sort()).toEqual(answer);
    expect(await readCommitted(server.url, "chaos-failed")).toEqual([]);
    // where it ran: the main thread, or a member of its group on each of the two threads
    const placed = await eventually(
      "the pipeline's summary from the last server",
      () => apiJson(server.url, "GET", `/api/v1/pipelines/${pipeline.name}`) as Promise<{ metrics: { threads: number[] } | null }>,
      (p) => p.metrics !== null,
    );
    expect(placed.metrics!.threads).toHaveLength(threads === "0" ? 0 : 2);
  }, 180_000);
});
