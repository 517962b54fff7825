/**
 * One pipeline's tasks spread over pipeline threads (TRIBUTARY_PIPELINE_THREADS=2), against a
 * real server: a pipeline reading four partitions runs as a member of its group on each of the
 * two threads, the group gives each member two of the four tasks (moving tasks, with their
 * state, from the first member as the second joins), and the outputs are still exactly once.
 * The API shows one pipeline: the threads it runs on, every task once with its thread, and
 * counters summed over the members. A member whose thread runs out of memory fails the whole
 * pipeline: its other member stops, and it is taken out of the group for its dead thread.
 */
import { describe, expect, it } from "vitest";
import { Producer } from "../client/index.ts";
import { apiCaller } from "../testing/api-client.ts";
import { deployed, throughOne } from "../testing/pipeline-definitions.ts";
import { produceDistinct } from "../testing/distinct-records.ts";
import { useTestServer } from "../testing/test-server.ts";
import { eventually, readCommitted } from "../testing/topic-reading.ts";

const server = useTestServer({
  TRIBUTARY_PIPELINE_THREADS: "2",
  TRIBUTARY_PIPELINE_THREAD_HEAP_MB: "128",
  TRIBUTARY_GROUP_HEARTBEAT_INTERVAL_MS: "250",
});
const call = apiCaller(() => server.url);

const PARTITIONS = 4;
const KEYS = 200;

/** `records` visits, key u0…u199 in turn (Kafka's partitioner spreads the keys over the four partitions). */
async function visit(records: number, from: number): Promise<void> {
  const producer = new Producer({ baseUrl: server.url, batchBytes: 1024 * 1024 });
  for (let i = 0; i < records; i += 10_000)
    await producer.sendMany(
      "visits",
      Array.from({ length: Math.min(10_000, records - i) }, (_, j) => ({
        key: `u${(from + i + j) % KEYS}`,
        value: JSON.stringify({ n: from + i + j }),
      })),
    );
}

/** Each key's counts as the sink holds them, in order. */
async function countsByKey(): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const r of await readCommitted(server.url, "visit-counts")) {
    const list = out.get(r.key!) ?? [];
    list.push((JSON.parse(r.value!) as { n: number }).n);
    out.set(r.key!, list);
  }
  return out;
}

/**
 * Exactly once: each key's counts rise (the record cache may fold updates between commits
 * together, but a record processed twice, or an update lost with a task's state, would break
 * the rise or the last count), and its last count is how many visits it had.
 */
function expectCounted(counts: Map<string, number[]>, visits: number): void {
  expect(counts.size).toBe(KEYS);
  for (const [key, ns] of counts) {
    for (let i = 1; i < ns.length; i++)
      expect(ns[i], `${key}'s counts ${ns.slice(Math.max(0, i - 3), i + 1).join(",")}`).toBeGreaterThan(ns[i - 1]);
    expect(ns.at(-1), key).toBe(visits / KEYS);
  }
}

describe("a pipeline spread over pipeline threads", () => {
  it("runs a member on each thread, each with its share of the tasks, and counts every record once", async () => {
    expect((await call("POST", "/api/v1/topics", { json: { name: "visits", partitions: PARTITIONS } })).status).toBe(201);
    // a backlog, which the first member may still be working through when the second joins and takes two tasks
    await visit(60_000, 0);
    await deployed(
      call,
      throughOne("visits-per-user", "visits", "perUser", { kind: "aggregate", aggregations: [{ fn: "count", as: "n" }] }, "visit-counts"),
    );

    const threads = (await call("GET", "/api/v1/pipelines/visits-per-user")).body.metrics.threads as number[];
    expect(threads).toHaveLength(2);
    type Task = { partition: number; thread: number };
    // every task on one of the pipeline's threads, both threads with two (the range assignor) once the second member joined
    const shares = (tasks: Task[]) => threads.map((th) => tasks.filter((t) => t.thread === th).length);
    // and every store whole: read as soon as the rest held, the keys summed to 95–162 of 200 in some runs (tasks
    // that had just moved to the second member, their stores not yet restored there)
    const storeKeys = (r: { body: { nodes: { perUser?: { stores?: { keys: number }[] } } } }) =>
      (r.body.nodes.perUser?.stores ?? []).reduce((n, s) => n + s.keys, 0);
    const first = await eventually(
      "the backlog processed, two tasks on each thread, every store restored",
      () => call("GET", "/api/v1/pipelines/visits-per-user/metrics"),
      (r) =>
        r.body.totals?.recordsIn >= 60_000 && r.body.totals.lag === 0 && shares(r.body.tasks).join() === "2,2" && storeKeys(r) === KEYS,
      120_000,
    );
    expect((first.body.tasks as Task[]).map((t) => t.partition)).toEqual([0, 1, 2, 3]);
    // the store's keys summed over the members: every user counted in the task of its partition
    expect(first.body.nodes.perUser.stores).toEqual([
      { store: expect.stringMatching(/^perUser\//), keys: KEYS, bytes: expect.any(Number) },
    ]);
    expectCounted(await countsByKey(), 60_000);

    // both members go on: more visits, every key's count carried on from its committed state
    await visit(20_000, 60_000);
    await eventually(
      "the second lot processed",
      () => call("GET", "/api/v1/pipelines/visits-per-user/metrics"),
      (r) => r.body.totals.lag === 0 && r.body.nodes.perUser.recordsIn >= 80_000,
      120_000,
    );
    expectCounted(await countsByKey(), 80_000);

    // stopping stops every member: the group is empty, and nothing runs
    expect((await call("POST", "/api/v1/pipelines/visits-per-user/stop", { json: {} })).body.state).toBe("stopped");
    expect((await call("GET", "/api/v1/pipelines/visits-per-user")).body.metrics).toBeNull();
    const group = await eventually(
      "the group empty",
      () => call("GET", "/api/v1/groups/pipeline-visits-per-user"),
      (r) => r.status === 200 && r.body.members?.length === 0,
    );
    expect(group.body.members).toEqual([]);
  }, 300_000);

  it("a member whose thread runs out of memory fails the pipeline: both members leave the group at once", async () => {
    const RECORDS_IN_P0 = 700_000;
    expect((await call("POST", "/api/v1/topics", { json: { name: "swell", partitions: 2 } })).status).toBe(201);
    // partition 0: 700,000 distinct values of ~220 bytes over 100 keys, more than a 128 MB thread
    // holds in those keys' sets; partition 1: a few
    await produceDistinct(server.url, "swell", RECORDS_IN_P0, 0, { keys: 100, pad: 200 });
    const producer = new Producer({ baseUrl: server.url });
    await producer.sendMany(
      "swell",
      Array.from({ length: 100 }, (_, i) => ({ key: `q${i}`, value: JSON.stringify({ v: `q${i}` }), partition: 1 })),
    );
    await deployed(
      call,
      throughOne(
        "swell-counts",
        "swell",
        "kinds",
        { kind: "aggregate", aggregations: [{ fn: "distinctCount", of: "value.v", as: "n" }] },
        "swell-out",
        { maxStateKeysPerTask: 750_000, maxStateBytesPerTask: 240 * 1024 * 1024 },
      ),
    );
    expect((await call("GET", "/api/v1/pipelines/swell-counts")).body.metrics.threads).toHaveLength(2);
    const failed = await eventually(
      "the pipeline failed",
      () => call("GET", "/api/v1/pipelines/swell-counts"),
      (r) => r.body.state === "failed",
      120_000,
    );
    expect(failed.body.error).toEqual({ message: "the pipeline thread ran out of memory (its heap is limited to 128 MB)" });
    expect(failed.body.metrics).toBeNull();
    // both members left the group: the one on the thread that lived, stopped, and the one on the
    // thread that ended, removed for it well within the group's 45 s session timeout
    const group = await eventually(
      "the group empty",
      () => call("GET", "/api/v1/groups/pipeline-swell-counts"),
      (r) => r.status === 200 && r.body.members?.length === 0,
      10_000,
    );
    expect(group.body.members).toEqual([]);
    // the broker never stopped
    expect((await call("GET", "/api/v1/topics/swell")).body.partitions[0].highWatermark).toBe(RECORDS_IN_P0);
  }, 300_000);
});
