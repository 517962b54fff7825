/**
 * Pipelines run against a real server: the runner joins the group `pipeline-<name>`, processes
 * with one transactional producer per task, and commits outputs, state and input offsets
 * together; what read_committed readers see is checked against answers known in advance.
 */
import { describe, expect, it } from "vitest";
import { Admin, PartitionReader, Producer } from "../../client/index.ts";
import { ZPipelineDefinition, type TPipelineDefinitionInput } from "../../schemas/pipeline.ts";
import { useTestServer } from "../../testing/test-server.ts";
import { eventually, readCommitted as readTopic } from "../../testing/topic-reading.ts";
import type { TaskFailure } from "./pipeline-metrics.ts";
import { PipelineRunner, PipelineStartError } from "./pipeline-runner.ts";

const server = useTestServer({ TRIBUTARY_GROUP_HEARTBEAT_INTERVAL_MS: "250", TRIBUTARY_GROUP_SESSION_TIMEOUT_MS: "3000" });
const MIN = 60_000;
const edge = (from: string, to: string, fromPort = "out", toPort = "in") => ({
  from: { node: from, port: fromPort },
  to: { node: to, port: toPort },
});
// event times of yesterday: outputs carry them, and a topic's retention (7 days) deletes older ones
const DAY = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000;
const hour = (h: number) => DAY + h * 60 * MIN;
const at = (h: number, m: number) => new Date(hour(h) + m * MIN).toISOString();

const readCommitted = (topic: string, partitions = 1) => readTopic(server.url, topic, partitions);
const waitFor = eventually;

function fraudAlert(name: string, input: string, output: string): TPipelineDefinitionInput {
  return {
    name,
    nodes: [
      {
        id: "purchases",
        config: { kind: "source", topics: [input], eventTime: "timestamp(value.at)", outOfOrdernessMs: 5 * MIN, idleTimeoutMs: 1000 },
      },
      { id: "byUser", config: { kind: "selectKey", key: "value.user" } },
      {
        id: "perHour",
        config: {
          kind: "aggregate",
          window: { type: "tumbling", sizeMs: 60 * MIN, graceMs: MIN },
          aggregations: [{ fn: "count", as: "purchases" }],
          emit: "final",
        },
      },
      { id: "overTen", config: { kind: "filter", condition: "value.purchases > 10" } },
      { id: "alerts", config: { kind: "sink", topic: output, createTopic: { partitions: 1 } } },
      { id: "failed", config: { kind: "deadLetter", topic: `${output}-dlq`, createTopic: { partitions: 1 } } },
    ],
    edges: [edge("purchases", "byUser"), edge("byUser", "perHour"), edge("perHour", "overTen"), edge("overTen", "alerts")],
    settings: { commitIntervalMs: 100 },
  };
}

describe("a pipeline run by the server's stream runtime", () => {
  it("the seed's fraud alert: exactly the expected alerts, the last hour's without new input; a bad record to the dead letters", async () => {
    const admin = new Admin({ baseUrl: server.url });
    await admin.createTopic({ name: "purchases", partitions: 1 });
    // produced in a transaction: the input ends in a commit marker, which the group's offsets must pass
    const producer = new Producer({ baseUrl: server.url, transactionalId: "purchases-feed" });
    await producer.initTransactions();
    await producer.beginTransaction();
    const feed: [string, number, number][] = [];
    for (let i = 0; i < 12; i++) feed.push(["ann", 10, 50 - i * 4]); // out of order within 5 minutes
    for (let i = 0; i < 10; i++) feed.push(["bob", 10, 5 + i * 5]); // exactly 10: no alert
    for (let i = 0; i < 11; i++) feed.push(["cat", 11, 10 + i * 3]); // the last hour: alert only once idle
    feed.push(["ann", 10, 59]); // late: hour 10 closed when cat's purchases passed 11:06
    await producer.sendMany(
      "purchases",
      feed.map(([user, h, m]) => ({ key: null, value: JSON.stringify({ user, at: at(h, m) }) })),
    );
    await producer.send("purchases", { value: "{not json" });
    await producer.commitTransaction();

    const runner = new PipelineRunner({
      baseUrl: server.url,
      definition: ZPipelineDefinition.parse(fraudAlert("fraud-alert", "purchases", "fraud-alerts")),
    });
    await runner.start();
    try {
      const alerts = await waitFor(
        "two alerts",
        () => readCommitted("fraud-alerts"),
        (v) => v.length >= 2,
      );
      expect(alerts.map((a) => [a.key, JSON.parse(a.value!)])).toEqual([
        ["ann", { window: { start: hour(10), end: hour(11) }, purchases: 12 }],
        ["cat", { window: { start: hour(11), end: hour(12) }, purchases: 11 }],
      ]);
      const dead = await readCommitted("fraud-alerts-dlq");
      expect(dead).toHaveLength(1);
      expect(dead[0].value).toBe("{not json");
      expect(dead[0].headers).toMatchObject({
        "tributary.node": "purchases",
        "tributary.topic": "purchases",
        "tributary.offset": String(feed.length),
      });
      expect(dead[0].headers["tributary.error"]).toMatch(/not JSON/);
      // the input offsets went in with the outputs: the group has read everything
      const group = await waitFor(
        "the group's lag to reach 0",
        () => admin.describeGroup("pipeline-fraud-alert"),
        (g) => g.totalLag === 0,
      );
      expect(group.totalLag).toBe(0);
      // idle inputs: the watermark keeps moving with the clock, but a tick with nothing to write commits nothing
      const settled = await waitFor(
        "the last transaction to end",
        async () => {
          const before = runner.counters().commits;
          await new Promise((r) => setTimeout(r, 300));
          return runner.counters().commits === before;
        },
        Boolean,
      );
      expect(settled).toBe(true);
      const commits = runner.counters().commits;
      await new Promise((r) => setTimeout(r, 1000));
      expect(runner.counters().commits).toBe(commits);
    } finally {
      await runner.stop();
    }
    // nothing more after a while: no duplicate alert from a later tick
    await new Promise((r) => setTimeout(r, 500));
    expect(await readCommitted("fraud-alerts")).toHaveLength(2);
  }, 60_000);

  it("restores its windows after a restart: counts carry over, nothing is emitted twice", async () => {
    const admin = new Admin({ baseUrl: server.url });
    await admin.createTopic({ name: "clicks", partitions: 2 });
    const def = ZPipelineDefinition.parse({
      name: "clicks-per-minute",
      nodes: [
        { id: "clicks", config: { kind: "source", topics: ["clicks"], eventTime: "timestamp(value.at)", idleTimeoutMs: 60_000 } },
        {
          id: "perMinute",
          config: { kind: "aggregate", window: { type: "tumbling", sizeMs: MIN }, aggregations: [{ fn: "count", as: "n" }], emit: "final" },
        },
        { id: "out", config: { kind: "sink", topic: "clicks-per-minute", createTopic: { partitions: 1 } } },
      ],
      edges: [edge("clicks", "perMinute"), edge("perMinute", "out")],
    });
    const producer = new Producer({ baseUrl: server.url });
    const send = (user: string, h: number, m: number) => producer.send("clicks", { key: user, value: JSON.stringify({ at: at(h, m) }) });
    for (let i = 0; i < 3; i++) await send("u1", 9, 0);
    let runner = new PipelineRunner({ baseUrl: server.url, definition: def });
    await runner.start();
    await waitFor(
      "3 records processed",
      async () => runner.counters().recordsIn,
      (n) => n >= 3,
    );
    await runner.stop();
    // a new instance (as after a crash or on another server) picks up the committed state
    for (let i = 0; i < 2; i++) await send("u1", 9, 0);
    await send("u1", 9, 2); // moves u1's partition's watermark past 9:01
    runner = new PipelineRunner({ baseUrl: server.url, definition: def });
    await runner.start();
    try {
      const out = await waitFor(
        "the 9:00 minute",
        () => readCommitted("clicks-per-minute"),
        (v) => v.length >= 1,
      );
      expect(out.map((o) => [o.key, JSON.parse(o.value!).n])).toEqual([["u1", 5]]);
    } finally {
      await runner.stop();
    }
  }, 60_000);

  it("re-keyed records cross a repartition topic: counts per user are global over 3 partitions", async () => {
    const admin = new Admin({ baseUrl: server.url });
    await admin.createTopic({ name: "purchases-3", partitions: 3 });
    const producer = new Producer({ baseUrl: server.url });
    const feed: [string, number, number][] = [];
    for (let i = 0; i < 12; i++) feed.push(["ann", 10, 50 - i * 4]);
    for (let i = 0; i < 10; i++) feed.push(["bob", 10, 5 + i * 5]);
    for (let i = 0; i < 11; i++) feed.push(["cat", 11, 10 + i * 3]);
    // keyed by purchase: each user's purchases land on all three partitions
    const sent = await producer.sendMany(
      "purchases-3",
      feed.map(([user, h, m], i) => ({ key: `purchase-${i}`, value: JSON.stringify({ user, at: at(h, m) }) })),
    );
    for (const user of ["ann", "bob", "cat"])
      expect(new Set(sent.filter((_, i) => feed[i][0] === user).map((m) => m.partition)).size).toBeGreaterThan(1);

    const runner = new PipelineRunner({
      baseUrl: server.url,
      definition: ZPipelineDefinition.parse(fraudAlert("fraud-3", "purchases-3", "fraud-alerts-3")),
      repartitionPurgeMs: 200,
    });
    await runner.start();
    try {
      const alerts = await waitFor(
        "two alerts",
        () => readCommitted("fraud-alerts-3"),
        (v) => v.length >= 2,
      );
      expect(alerts.map((a) => [a.key, JSON.parse(a.value!).purchases]).sort()).toEqual([
        ["ann", 12],
        ["cat", 11],
      ]);
      const internal = await admin.describeTopic("pipeline-fraud-3-repartition-perHour-in");
      expect(internal.partitions).toHaveLength(3);
      const group = await waitFor(
        "the group's lag (inputs and the repartition topic) to reach 0",
        () => admin.describeGroup("pipeline-fraud-3"),
        (g) => g.totalLag === 0,
      );
      expect(group.totalLag).toBe(0);
      // what the group committed of the repartition topic is purged: each partition's log start
      // offset reaches its committed offset, so the topic holds nothing already processed
      const purged = await waitFor(
        "the repartition topic purged up to the committed offsets",
        async () => {
          const [t, g] = await Promise.all([admin.describeTopic(internal.name), admin.describeGroup("pipeline-fraud-3")]);
          const committed = new Map(g.offsets.filter((o) => o.topic === internal.name).map((o) => [o.partition, o.committedOffset]));
          return t.partitions.map((p) => ({ logStart: p.logStartOffset, committed: committed.get(p.partition), records: p.recordCount }));
        },
        (ps) => ps.every((p) => p.logStart === p.committed),
      );
      // every partition had records (the purchases, and the tasks' watermark announcements to each)
      expect(purged.every((p) => p.logStart > 0)).toBe(true);
      expect(purged.reduce((s, p) => s + p.logStart, 0)).toBeGreaterThan(33); // the 33 purchases crossed it
    } finally {
      await runner.stop();
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(await readCommitted("fraud-alerts-3")).toHaveLength(2);
  }, 60_000);

  it("a task opened again while its upstream tasks are idle closes its windows at once, without waiting out their silence", async () => {
    const admin = new Admin({ baseUrl: server.url });
    await admin.createTopic({ name: "user-clicks-3", partitions: 3 });
    const name = "user-clicks-per-minute";
    const def = ZPipelineDefinition.parse({
      name,
      nodes: [
        { id: "clicks", config: { kind: "source", topics: ["user-clicks-3"], outOfOrdernessMs: 0, idleTimeoutMs: 1000 } },
        { id: "byUser", config: { kind: "selectKey", key: "value.user" } },
        {
          id: "perMinute",
          config: { kind: "aggregate", window: { type: "tumbling", sizeMs: MIN }, aggregations: [{ fn: "count", as: "n" }], emit: "final" },
        },
        { id: "out", config: { kind: "sink", topic: "user-clicks-per-minute", createTopic: { partitions: 1 } } },
      ],
      edges: [edge("clicks", "byUser"), edge("byUser", "perMinute"), edge("perMinute", "out")],
      settings: { commitIntervalMs: 50 },
    });
    // the pipeline's clock, set by the test: the window [end - 1 min, end) closes once event time
    // passes `end`; at half speed until then, so however slow the machine, the first wait below
    // (30 s) times out before the window could close by the clock (78 s)
    const end = (Math.floor(Date.now() / MIN) + 2) * MIN;
    let base = end - 40_000;
    let since = Date.now();
    let rate = 0.5;
    const clock = () => base + (Date.now() - since) * rate;
    const setClock = (to: number, r: number) => {
      base = to;
      since = Date.now();
      rate = r;
    };
    const repartition = `pipeline-${name}-repartition-perMinute-in`;
    const readPartition = async (p: number) => {
      const reader = new PartitionReader(server.url, repartition, p, 0, "read_committed");
      const out: { headers: Record<string, string>; value: Buffer | null }[] = [];
      for (;;) {
        const batch = await reader.fetch();
        for (const r of batch.records)
          out.push({ headers: Object.fromEntries(r.headers.map((h) => [h.key, h.value?.toString() ?? ""])), value: r.value });
        if (batch.records.length === 0 && reader.offset >= batch.lastStableOffset) return out;
      }
    };
    const producer = new Producer({ baseUrl: server.url });
    const runner = new PipelineRunner({ baseUrl: server.url, definition: def, clock });
    await runner.start();
    try {
      // dan's clicks on every partition, in the window
      for (let p = 0; p < 3; p++)
        await producer.send("user-clicks-3", { value: JSON.stringify({ user: "dan" }), partition: p, timestamp: end - 50_000 + p });
      // every upstream task announced to every partition that its source is idle, and the
      // readers committed past the announcements (the window stays open: event time is ~end - 38 s)
      const downstream = await waitFor(
        "idle announcements of all three tasks, read and committed",
        async () => {
          const [parts, group] = await Promise.all([[0, 1, 2].map(readPartition), admin.describeGroup(`pipeline-${name}`)]);
          const read = await Promise.all(parts);
          const lag = group.offsets.filter((o) => o.topic === repartition).reduce((s, o) => s + o.lag, 0);
          return { read, lag, committed: group.offsets.filter((o) => o.topic === repartition).length };
        },
        ({ read, lag, committed }) =>
          committed === 3 &&
          lag === 0 &&
          read.every(
            (rs) => new Set(rs.filter((r) => r.headers["tributary.idle"] === "true").map((r) => r.headers["tributary.task"])).size === 3,
          ),
      );
      expect(await readCommitted("user-clicks-per-minute")).toEqual([]);
      // the task reading dan's re-keyed clicks
      const d = downstream.read.findIndex((rs) => rs.some((r) => r.value !== null));
      expect(d).toBeGreaterThanOrEqual(0);

      // event time slows to near standstill 5 s before the window's end; then task d's producer is
      // fenced (as by a zombie's successor), so its next transaction fails and the task opens again
      // from its changelog, reading the repartition topic from past the idle announcements
      setClock(end - 5_000, 0.02);
      const fencer = new Producer({ baseUrl: server.url, transactionalId: `pipeline-${name}-${d}` });
      await fencer.initTransactions();
      const [eve] = await producer.sendMany("user-clicks-3", [
        { value: JSON.stringify({ user: "eve" }), partition: d, timestamp: end - 45_000 },
      ]);
      await waitFor(
        "task d opened again and committed eve's click",
        () => admin.describeGroup(`pipeline-${name}`),
        (g) => g.offsets.some((o) => o.topic === "user-clicks-3" && o.partition === d && o.committedOffset === eve.offset + 1),
      );
      // the task opened again: its initTransactions fenced the fencer in turn
      await fencer.beginTransaction();
      const fenced = await fencer.send("user-clicks-3", { value: "{}", partition: d }).catch((e: unknown) => e);
      expect(fenced).toMatchObject({ code: "PRODUCER_FENCED" });

      // 3 s past the window's end, 8 s after the task opened again: less than the idle timeout and
      // the upstream silence (11 s) the two other tasks would need to count as gone. They said they
      // are idle; the window closes now, with all of dan's clicks.
      setClock(end + 3_000, 0.02);
      const counts = await waitFor(
        "dan's count",
        () => readCommitted("user-clicks-per-minute"),
        (v) => v.some((o) => o.key === "dan"),
      );
      expect(clock()).toBeLessThan(end + 5_000);
      expect(counts.filter((o) => o.key === "dan").map((o) => JSON.parse(o.value!).n)).toEqual([3]);
    } finally {
      await runner.stop();
    }
  }, 90_000);

  it("a backlog replayed slower than the idle timeout is lagging, not idle: the windowed counts equal the offline ones", async () => {
    const admin = new Admin({ baseUrl: server.url });
    await admin.createTopic({ name: "views-backlog", partitions: 2 });
    // six hours of yesterday's history, 12 keys, each key's records in event-time order
    const feed: { key: string; timestamp: number }[] = [];
    const n = 20_000;
    for (let i = 0; i < n; i++) feed.push({ key: `page-${i % 12}`, timestamp: hour(6) + Math.floor((i * 6 * 60 * MIN) / n) });
    const producer = new Producer({ baseUrl: server.url });
    for (let i = 0; i < feed.length; i += 2_000)
      await producer.sendMany(
        "views-backlog",
        feed.slice(i, i + 2_000).map((f) => ({ key: f.key, value: "{}", timestamp: f.timestamp })),
      );
    const expected = new Map<string, number>();
    for (const f of feed) {
      const k = `${f.key}@${Math.floor(f.timestamp / (60 * MIN)) * 60 * MIN}`;
      expected.set(k, (expected.get(k) ?? 0) + 1);
    }
    const def = ZPipelineDefinition.parse({
      name: "views-per-hour",
      nodes: [
        { id: "views", config: { kind: "source", topics: ["views-backlog"], start: "earliest", idleTimeoutMs: 100 } },
        {
          id: "perHour",
          config: {
            kind: "aggregate",
            window: { type: "tumbling", sizeMs: 60 * MIN },
            aggregations: [{ fn: "count", as: "n" }],
            emit: "final",
          },
        },
        { id: "out", config: { kind: "sink", topic: "views-per-hour", createTopic: { partitions: 1 } } },
        { id: "late", config: { kind: "sink", topic: "views-per-hour-late", createTopic: { partitions: 1 } } },
      ],
      edges: [edge("views", "perHour"), edge("perHour", "out"), edge("perHour", "late", "late")],
      settings: { commitIntervalMs: 10 },
    });
    // the pipeline's clock runs 1,000 times faster than the real one: every pause between two of a
    // partition's batches (a poll, a transaction) lasts longer than the 100 ms idle timeout, and
    // the replay (batches of at most 2,000 records, one transaction each) many times longer
    const started = Date.now();
    const clock = () => started + (Date.now() - started) * 1_000;
    const runner = new PipelineRunner({ baseUrl: server.url, definition: def, clock });
    await runner.start();
    try {
      // every window's final count, or (the bug) a record counted late
      const [out, late] = await waitFor(
        "every window's final count",
        () => Promise.all([readCommitted("views-per-hour"), readCommitted("views-per-hour-late")]),
        ([o, l]) => o.length >= expected.size || l.length > 0,
      );
      expect(late).toHaveLength(0);
      const counted = new Map(
        out.map((o) => {
          const v = JSON.parse(o.value!) as { window: { start: number }; n: number };
          return [`${o.key}@${v.window.start}`, v.n] as const;
        }),
      );
      expect(out).toHaveLength(expected.size);
      expect(counted).toEqual(expected);
    } finally {
      await runner.stop();
    }
  }, 60_000);

  it("state past the task's limit fails the pipeline naming the node, while processing and again on restore, instead of filling the heap", async () => {
    const admin = new Admin({ baseUrl: server.url });
    await admin.createTopic({ name: "signups", partitions: 1 });
    const producer = new Producer({ baseUrl: server.url });
    await producer.sendMany(
      "signups",
      Array.from({ length: 80 }, (_, i) => ({ key: `user-${i}`, value: "{}" })),
    );
    const def = (maxStateKeysPerTask: number) =>
      ZPipelineDefinition.parse({
        name: "signups-per-user",
        nodes: [
          { id: "signups", config: { kind: "source", topics: ["signups"], start: "earliest" } },
          { id: "perUser", config: { kind: "aggregate", aggregations: [{ fn: "count", as: "n" }] } },
          { id: "out", config: { kind: "sink", topic: "signups-per-user", createTopic: { partitions: 1 } } },
        ],
        edges: [edge("signups", "perUser"), edge("perUser", "out")],
        settings: { commitIntervalMs: 100, maxStateKeysPerTask },
      });
    const run = async (limit: number) => {
      const failures: TaskFailure[] = [];
      const runner = new PipelineRunner({ baseUrl: server.url, definition: def(limit), onFailed: (f) => failures.push(f) });
      await runner.start();
      return { runner, failures };
    };

    // 80 keys against a limit of 50: the pipeline fails, nothing of the batch is committed
    let { runner, failures } = await run(50);
    try {
      await waitFor(
        "the pipeline to fail",
        async () => failures.length,
        (n) => n > 0,
      );
      expect(failures).toEqual([
        {
          node: "perUser",
          message: expect.stringMatching(
            /node 'perUser' would pass the pipeline's limit of 50 keys per task \(settings\.maxStateKeysPerTask\)/,
          ),
        },
      ]);
      expect(await readCommitted("signups-per-user")).toEqual([]);
    } finally {
      await runner.stop();
    }

    // within a limit of 100 the 80 keys are counted and their state committed
    ({ runner, failures } = await run(100));
    try {
      await waitFor(
        "80 counts",
        () => readCommitted("signups-per-user"),
        (v) => v.length >= 80,
      );
      expect(failures).toEqual([]);
    } finally {
      await runner.stop();
    }

    // the committed state (80 keys) is past a limit of 50: restoring it fails the pipeline at once, naming the node
    ({ runner, failures } = await run(50));
    try {
      await waitFor(
        "the pipeline to fail on restore",
        async () => failures.length,
        (n) => n > 0,
      );
      expect(failures[0]).toMatchObject({ node: "perUser", message: expect.stringMatching(/limit of 50 keys per task/) });
      expect(runner.counters().recordsIn).toBe(0);
    } finally {
      await runner.stop();
    }
  }, 60_000);

  it("refuses to start what it cannot run correctly, naming the node", async () => {
    const admin = new Admin({ baseUrl: server.url });
    await admin.createTopic({ name: "orders-3", partitions: 3 });
    await admin.createTopic({ name: "orders-1", partitions: 1 });
    const mixed = fraudAlert("mixed", "orders-3", "never");
    mixed.nodes[0] = { ...mixed.nodes[0], config: { kind: "source", topics: ["orders-3", "orders-1"] } };
    const err = await new PipelineRunner({ baseUrl: server.url, definition: ZPipelineDefinition.parse(mixed) })
      .start()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PipelineStartError);
    expect((err as PipelineStartError).problems).toEqual([
      { message: "the inputs are not co-partitioned: orders-3 has 3, orders-1 has 1 partitions; give them the same partition count" },
    ]);
    const missing = ZPipelineDefinition.parse(fraudAlert("missing", "no-such-topic", "never"));
    const err2 = (await new PipelineRunner({ baseUrl: server.url, definition: missing })
      .start()
      .catch((e: unknown) => e)) as PipelineStartError;
    expect(err2.problems).toEqual([{ node: "purchases", field: "config.topics", message: "topic 'no-such-topic' does not exist" }]);
  });
});
