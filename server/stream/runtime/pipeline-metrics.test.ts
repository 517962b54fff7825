/**
 * Pipeline metrics: exact counts per node and port from a real topology (errors of a pipeline
 * without a dead-letter sink, late records, state size), work aborted and done again counted
 * once, rates over time, commit latency percentiles and lag; and against a real server, a task
 * whose transactions keep failing fails the pipeline after 5 attempts in a row, naming the node.
 */
import { describe, expect, it } from "vitest";
import { Admin, Producer } from "../../client/index.ts";
import { ZPipelineDefinition, type TPipelineDefinitionInput } from "../../schemas/pipeline.ts";
import { useTestServer } from "../../testing/test-server.ts";
import { eventually, readCommitted } from "../../testing/topic-reading.ts";
import type { StreamRecord } from "../record.ts";
import { Topology } from "../topology.ts";
import { NO_LAG_READING, PipelineMetrics, RATE_WINDOW_MS } from "./pipeline-metrics.ts";
import { PipelineRunner } from "./pipeline-runner.ts";
import type { TaskFailure } from "./pipeline-metrics.ts";
import { MAX_FAILURES_IN_A_ROW } from "./task-supervisor.ts";

const server = useTestServer({ TRIBUTARY_GROUP_HEARTBEAT_INTERVAL_MS: "250", TRIBUTARY_GROUP_SESSION_TIMEOUT_MS: "3000" });
const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1, 10);
const edge = (from: string, to: string, fromPort = "out", toPort = "in") => ({
  from: { node: from, port: fromPort },
  to: { node: to, port: toPort },
});

/** Orders: valid ones (amount > 0) routed big/small; small ones counted per user and minute; no dead-letter sink. */
const orders: TPipelineDefinitionInput = {
  name: "orders",
  nodes: [
    { id: "orders", config: { kind: "source", topics: ["orders"], idleTimeoutMs: 10 * MIN } },
    { id: "valid", config: { kind: "filter", condition: "value.amount > 0.0" } },
    { id: "route", config: { kind: "branch", branches: [{ name: "big", condition: "value.amount >= 100.0" }] } },
    { id: "big", config: { kind: "sink", topic: "big" } },
    {
      id: "perMinute",
      config: { kind: "aggregate", window: { type: "tumbling", sizeMs: MIN }, aggregations: [{ fn: "count", as: "n" }], emit: "final" },
    },
    { id: "counts", config: { kind: "sink", topic: "counts" } },
    { id: "lateOnes", config: { kind: "sink", topic: "late" } },
  ],
  edges: [
    edge("orders", "valid"),
    edge("valid", "route"),
    edge("route", "big", "big"),
    edge("route", "perMinute", "default"),
    edge("perMinute", "counts"),
    edge("perMinute", "lateOnes", "late"),
  ],
};

let offset = 0;
function order(user: string, amount: unknown, atMs: number): StreamRecord {
  return { key: user, value: { amount }, headers: {}, timestamp: atMs, origin: { topic: "orders", partition: 0, offset: offset++ } };
}

/** A commit of what `topology` did since the last one, as a task makes it. */
function commit(metrics: PipelineMetrics, topology: Topology, recordsIn: number, commitMs = 5) {
  topology.drain();
  metrics.committed(0, { recordsIn, nodes: topology.counters.split(), offsets: [{ topic: "orders", offset }], commitMs });
}

describe("pipeline metrics", () => {
  it("counts per node and port exactly: errors without a dead-letter sink, late records, state; aborted work once", () => {
    const def = ZPipelineDefinition.parse(orders);
    let now = T0;
    const metrics = new PipelineMetrics(def, () => now);
    // a first task instance processes two records, and its transaction fails: nothing of it counts
    const failed = Topology.build(def).topology!;
    metrics.opened(0, failed);
    failed.process("orders", order("ann", 5, T0), T0);
    failed.process("orders", order("ann", 500, T0), T0);
    failed.drain();
    failed.counters.split(); // taken for a transaction that never commits
    offset = 0;
    const t = Topology.build(def).topology!;
    metrics.opened(0, t); // opened again: the same two records come again
    const input = [
      order("ann", 5, T0),
      order("ann", 500, T0), // big
      order("bob", 7, T0 + 1000),
      order("bob", "much", T0 + 2000), // the filter fails on it: no dead-letter sink, so counted and dropped
      order("cat", 150, T0 + 3000), // big
      order("cat", 3, T0 + 2 * MIN), // closes minute 0 (watermark at 10:02)
      order("dan", 4, T0 + 30_000), // late: minute 0 closed
    ];
    for (const r of input) t.process("orders", r, T0);
    commit(metrics, t, input.length);
    const m = metrics.snapshot(NO_LAG_READING);
    const counts = Object.fromEntries(Object.entries(m.nodes).map(([id, n]) => [id, [n.recordsIn, n.recordsOut, n.errors, n.late]]));
    expect(counts).toEqual({
      orders: [7, 7, 0, 0],
      valid: [7, 6, 1, 0],
      route: [6, 6, 0, 0],
      big: [2, 2, 0, 0],
      // ann 5, bob 7 (minute 0), cat 3 (minute 2), dan 4 (late): out = ann's and bob's counts, and dan on the late port
      perMinute: [4, 3, 0, 1],
      counts: [2, 2, 0, 0],
      lateOnes: [1, 1, 0, 0],
    });
    expect(m.nodes.route.out).toEqual({ big: { records: 2, perSec: 0 }, default: { records: 4, perSec: 0 } });
    expect(m.nodes.perMinute.out).toMatchObject({ out: { records: 2 }, late: { records: 1 } });
    expect(m.nodes.perMinute.stores).toEqual([{ store: "perMinute/windows", keys: 1, bytes: expect.any(Number) }]); // cat's minute 2
    expect(m.nodes.perMinute.stores[0].bytes).toBeGreaterThan(10);
    expect(m.nodes.orders.watermark).toBe(T0 + 2 * MIN);
    expect(m.totals).toMatchObject({ recordsIn: 7, recordsOut: 5, errors: 1, late: 1, tasks: 1 });
    expect(m.tasks[0]).toMatchObject({ partition: 0, recordsIn: 7, commits: 1, failures: 0, watermark: T0 + 2 * MIN });

    // rates: the counters' change over the window of samples
    metrics.sample();
    now += 2000;
    for (let i = 0; i < 10; i++) t.process("orders", order("eve", 200, T0 + 3 * MIN), T0);
    commit(metrics, t, input.length + 10);
    const r = metrics.snapshot(NO_LAG_READING);
    expect(r.totals.recordsInPerSec).toBe(5);
    expect(r.nodes.big.recordsInPerSec).toBe(5);
    expect(r.nodes.valid.recordsOutPerSec).toBe(5);
    // nothing more: the rate falls to 0 once the samples before the last records leave the window
    now += 1000;
    metrics.sample();
    now += RATE_WINDOW_MS;
    metrics.sample();
    expect(metrics.snapshot(NO_LAG_READING).totals.recordsInPerSec).toBe(0);
  });

  it("commit latency percentiles over the last minute, lag per input partition, failures in a row", () => {
    const def = ZPipelineDefinition.parse(orders);
    let now = T0;
    const metrics = new PipelineMetrics(def, () => now);
    const t = Topology.build(def).topology!;
    metrics.opened(0, t);
    offset = 40;
    for (let i = 1; i <= 100; i++) commit(metrics, t, 0, i);
    const lag = { ends: new Map([["orders", new Map([[0, 55]])]]), committedLag: new Map([["orders:1", 7]]) };
    const m = metrics.snapshot(lag, [0, 1]);
    expect(m.tasks[0].commitLatencyMs).toEqual({ last: 100, p50: 50, p99: 99, samples: 100 });
    expect(m.tasks[0].inputs).toEqual([{ topic: "orders", partition: 0, position: 40, end: 55, lag: 15 }]);
    // partition 1 is owned but its task committed nothing yet: the group's lag from its committed offset
    expect(m.tasks[1]).toMatchObject({ partition: 1, recordsIn: 0, lag: 7, commitLatencyMs: null });
    expect(m.totals.lag).toBe(22);
    expect(metrics.lag(lag, [0, 1])).toBe(22);
    // per node: the source's lag, none for the nodes that read no topic
    expect(m.nodes.orders.lag).toBe(22);
    expect(m.nodes.valid.lag).toBeNull();
    now += 61_000;
    expect(metrics.snapshot(lag).tasks[0].commitLatencyMs).toEqual({ last: 100, p50: 100, p99: 100, samples: 0 });
    const failure: TaskFailure = { message: "boom", node: "big" };
    expect(metrics.failed(0, failure)).toBe(1);
    expect(metrics.failed(0, failure)).toBe(2);
    expect(metrics.snapshot(lag).tasks[0]).toMatchObject({ failures: 2, lastError: { message: "boom", node: "big", at: now } });
    commit(metrics, t, 0);
    expect(metrics.failuresOf(0)).toBe(0);
  });

  it("a pattern source's lag covers the topics it matched, not the pipeline's repartition topics", () => {
    const def = ZPipelineDefinition.parse({
      ...orders,
      nodes: orders.nodes.map((n) => (n.id === "orders" ? { id: "orders", config: { kind: "source", topicPattern: "orders-.*" } } : n)),
    });
    const metrics = new PipelineMetrics(def, () => T0);
    metrics.readFrom(
      new Map([
        ["orders-eu", [{ node: "orders" }]],
        ["orders-us", [{ node: "orders" }]],
        ["pipeline-orders-repartition-perMinute-in", [{ node: "perMinute", repartition: true as const }]],
      ]),
    );
    const ends = new Map([
      ["orders-eu", new Map([[0, 5]])],
      ["orders-us", new Map([[0, 3]])],
      ["pipeline-orders-repartition-perMinute-in", new Map([[0, 4]])],
    ]);
    const committedLag = new Map([
      ["orders-eu:0", 5],
      ["orders-us:0", 3],
      ["pipeline-orders-repartition-perMinute-in:0", 4],
    ]);
    const m = metrics.snapshot({ ends, committedLag }, [0]);
    expect(m.totals.lag).toBe(12);
    expect(m.nodes.orders.lag).toBe(8);
    expect(m.nodes.perMinute.lag).toBeNull();
  });

  it("counts records crossing a repartition topic once, wherever the task that receives them runs", async () => {
    const admin = new Admin({ baseUrl: server.url });
    await admin.createTopic({ name: "clicks", partitions: 3 });
    const producer = new Producer({ baseUrl: server.url });
    await producer.sendMany(
      "clicks",
      Array.from({ length: 30 }, (_, i) => ({ value: JSON.stringify({ user: `u${i % 5}` }), partition: i % 3 })),
    );
    const def = ZPipelineDefinition.parse({
      name: "clicks-per-user",
      nodes: [
        { id: "clicks", config: { kind: "source", topics: ["clicks"], start: "earliest" } },
        { id: "byUser", config: { kind: "selectKey", key: "value.user" } },
        { id: "perUser", config: { kind: "aggregate", aggregations: [{ fn: "count", as: "n" }] } },
        { id: "out", config: { kind: "sink", topic: "clicks-per-user", createTopic: { partitions: 1 } } },
      ],
      edges: [edge("clicks", "byUser"), edge("byUser", "perUser"), edge("perUser", "out")],
    });
    const runner = new PipelineRunner({ baseUrl: server.url, definition: def });
    await runner.start();
    try {
      // the sink holds each user's final total once every click is counted and committed…
      const out = await eventually(
        "each user's total of 6 in the sink",
        () => readCommitted(server.url, "clicks-per-user", 1),
        (rs) => {
          const latest = new Map(rs.map((r) => [r.key, JSON.parse(r.value!).n]));
          return latest.size === 5 && [...latest.values()].every((n) => n === 6);
        },
      );
      // …and the metrics count exactly what went there. The source's lag reaching 0 is not enough
      // to wait for: the repartition topic's records may still sit in a task's record cache.
      const m = await eventually(
        "every click counted and every total the sink holds counted once",
        () => runner.readMetrics(),
        (x) => x.nodes.perUser.recordsIn === 30 && x.totals.lag === 0 && x.nodes.out.recordsOut === out.length,
      );
      const counts = Object.fromEntries(Object.entries(m.nodes).map(([id, n]) => [id, [n.recordsIn, n.recordsOut]]));
      // a user's updates between two commits collapse into one (the record cache): 5 to 30 totals go out
      const totals = m.nodes.perUser.recordsOut;
      expect(totals).toBeGreaterThanOrEqual(5);
      expect(totals).toBeLessThanOrEqual(30);
      expect(counts).toEqual({ clicks: [30, 30], byUser: [30, 30], perUser: [30, totals], out: [totals, totals] });
      expect(out).toHaveLength(totals);
      expect(m.tasks.map((t) => t.partition)).toEqual([0, 1, 2]);
      expect(m.totals.recordsIn).toBe(30);
      // a task's input counts the repartition topic's records too
      expect(m.tasks.reduce((n, t) => n + t.recordsIn, 0)).toBe(60);
      expect(m.nodes.perUser.stores[0].keys).toBe(5);
    } finally {
      await runner.stop();
    }
  }, 60_000);

  it("a task whose transactions keep failing fails the pipeline after 5 in a row, naming the node that writes", async () => {
    const admin = new Admin({ baseUrl: server.url });
    await admin.createTopic({ name: "notes", partitions: 1 });
    await admin.createTopic({ name: "small-notes", partitions: 1, configs: { "max.message.bytes": "200" } });
    const def = ZPipelineDefinition.parse({
      name: "notes",
      nodes: [
        { id: "notes", config: { kind: "source", topics: ["notes"], start: "earliest", valueFormat: "text" } },
        { id: "copy", config: { kind: "sink", topic: "small-notes" } },
      ],
      edges: [edge("notes", "copy")],
    });
    await new Producer({ baseUrl: server.url }).send("notes", { value: "x".repeat(1000) }); // too large for small-notes
    const failures: TaskFailure[] = [];
    const runner = new PipelineRunner({ baseUrl: server.url, definition: def, onFailed: (f) => failures.push(f) });
    await runner.start();
    try {
      await eventually(
        "the pipeline to fail",
        async () => failures,
        (f) => f.length > 0,
      );
      expect(failures).toHaveLength(1);
      expect(failures[0].node).toBe("copy");
      expect(failures[0].message).toMatch(
        new RegExp(`^writing to 'small-notes': .*\\(${MAX_FAILURES_IN_A_ROW} attempts in a row failed\\)$`),
      );
      const m = await runner.readMetrics();
      expect(m.tasks[0]).toMatchObject({ failures: MAX_FAILURES_IN_A_ROW, lastError: { node: "copy" }, commits: 0 });
      expect(m.tasks[0].inputs[0]).toMatchObject({ lag: 1 });
    } finally {
      await runner.stop();
    }
  }, 60_000);
});
