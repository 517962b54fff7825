/**
 * GET /api/v1/pipelines/{name}/metrics against a real server: exact counts per node and port
 * after known input (errors of nodes without a dead-letter sink included), per task records,
 * commits, state size and lag reaching 0; the list's summary; a pipeline not running answers its
 * state with empty metrics; a deleted sink topic fails the pipeline naming the node, and it can
 * be resumed once the topic is back without losing a record; 404 and 400 answers.
 */
import { describe, expect, it } from "vitest";
import { Producer } from "../client/index.ts";
import { apiCaller } from "../testing/api-client.ts";
import { useTestServer } from "../testing/test-server.ts";
import { eventually, readCommitted } from "../testing/topic-reading.ts";

const server = useTestServer({ TRIBUTARY_GROUP_HEARTBEAT_INTERVAL_MS: "250", TRIBUTARY_GROUP_SESSION_TIMEOUT_MS: "3000" });
const serverErrors: string[] = [];
const call = apiCaller(
  () => server.url,
  (l) => serverErrors.push(l),
);
const edge = (from: string, to: string, fromPort = "out") => ({ from: { node: from, port: fromPort }, to: { node: to, port: "in" } });

describe("pipeline metrics API", () => {
  it("counts per node and port exactly, per task records, commits, state and lag (reaching 0); the list sums it up", async () => {
    expect((await call("POST", "/api/v1/topics", { json: { name: "payments", partitions: 2 } })).status).toBe(201);
    const producer = new Producer({ baseUrl: server.url });
    const pay = (partition: number, user: string, value: unknown) =>
      ({ key: user, value: typeof value === "string" ? value : JSON.stringify(value), partition }) as const;
    await producer.sendMany("payments", [
      pay(0, "ann", { amount: 150 }),
      pay(0, "ann", { amount: 50 }),
      pay(0, "bob", { amount: 300 }),
      pay(0, "x", "not json"), // the source fails on it
      pay(1, "cat", { amount: 20 }),
      pay(1, "cat", { amount: 120 }),
      pay(1, "dan", { note: "no amount" }), // the filter fails on it
      pay(1, "eve", { amount: 10 }),
    ]);
    const def = {
      name: "routes",
      nodes: [
        { id: "payments", config: { kind: "source", topics: ["payments"], start: "earliest" } },
        { id: "valid", config: { kind: "filter", condition: "value.amount > 0.0" } },
        { id: "route", config: { kind: "branch", branches: [{ name: "big", condition: "value.amount >= 100.0" }] } },
        { id: "bigOut", config: { kind: "sink", topic: "big", createTopic: { partitions: 1 } } },
        { id: "perUser", config: { kind: "aggregate", aggregations: [{ fn: "count", as: "n" }] } },
        { id: "counts", config: { kind: "sink", topic: "small-counts", createTopic: { partitions: 1 } } },
      ],
      edges: [
        edge("payments", "valid"),
        edge("valid", "route"),
        edge("route", "bigOut", "big"),
        edge("route", "perUser", "default"),
        edge("perUser", "counts"),
      ],
    };
    expect((await call("POST", "/api/v1/pipelines", { json: def })).status).toBe(201);

    // not running yet: its state, and empty metrics
    const idle = await call("GET", "/api/v1/pipelines/routes/metrics");
    expect(idle.status).toBe(200);
    expect(idle.body).toMatchObject({ name: "routes", state: "draft", version: null, running: false, nodes: {}, tasks: [] });
    expect(idle.body.totals).toEqual({
      recordsIn: 0,
      recordsOut: 0,
      recordsInPerSec: 0,
      recordsOutPerSec: 0,
      errors: 0,
      late: 0,
      lag: 0,
      tasks: 0,
    });

    expect((await call("POST", "/api/v1/pipelines/routes/deploy", { json: {} })).body.state).toBe("running");
    const m = (
      await eventually(
        "every record processed and the lag at 0",
        () => call("GET", "/api/v1/pipelines/routes/metrics"),
        (r) => r.body.totals?.recordsIn === 8 && r.body.totals.lag === 0,
      )
    ).body;
    expect(m).toMatchObject({ name: "routes", state: "running", version: 1, running: true });
    expect(m.totals).toMatchObject({ recordsIn: 8, recordsOut: 6, errors: 2, late: 0, lag: 0, tasks: 2 });
    const counts = Object.fromEntries(
      Object.entries(m.nodes as Record<string, { recordsIn: number; recordsOut: number; errors: number }>).map(([id, n]) => [
        id,
        [n.recordsIn, n.recordsOut, n.errors],
      ]),
    );
    expect(counts).toEqual({
      payments: [8, 7, 1],
      valid: [7, 6, 1],
      route: [6, 6, 0],
      bigOut: [3, 3, 0],
      perUser: [3, 3, 0],
      counts: [3, 3, 0],
    });
    // lag per source as the server measured it (the console matches no topic pattern itself); none for other nodes
    expect(m.nodes.payments.lag).toBe(0);
    expect(m.nodes.valid.lag).toBeNull();
    expect(m.nodes.route.out).toEqual({
      big: { records: 3, perSec: expect.any(Number) },
      default: { records: 3, perSec: expect.any(Number) },
    });
    expect(m.nodes.route.kind).toBe("branch");
    expect(m.nodes.payments.watermark).toEqual(expect.any(Number));
    // the un-windowed count keeps one key per user of the default branch: ann (task 0), cat and eve (task 1)
    expect(m.nodes.perUser.stores).toEqual([{ store: "perUser/windows", keys: 3, bytes: expect.any(Number) }]);
    expect(m.nodes.perUser.stores[0].bytes).toBeGreaterThan(0);
    expect(m.tasks.map((t: { partition: number; recordsIn: number }) => [t.partition, t.recordsIn])).toEqual([
      [0, 4],
      [1, 4],
    ]);
    for (const t of m.tasks) {
      expect(t.commits).toBeGreaterThanOrEqual(1);
      expect(t.commitLatencyMs).toMatchObject({ last: expect.any(Number), p50: expect.any(Number), p99: expect.any(Number) });
      expect(t.commitLatencyMs.p99).toBeGreaterThanOrEqual(t.commitLatencyMs.p50);
      expect(t.inputs).toEqual([{ topic: "payments", partition: t.partition, position: 4, end: 4, lag: 0 }]);
      expect(t.failures).toBe(0);
    }
    expect(m.tasks.map((t: { stores: { keys: number }[] }) => t.stores[0].keys)).toEqual([1, 2]);

    // more input: the lag is seen, then processed back to 0; rates are per second
    await producer.sendMany("payments", [pay(0, "ann", { amount: 500 }), pay(1, "cat", { amount: 700 })]);
    const later = await eventually(
      "the new records processed",
      () => call("GET", "/api/v1/pipelines/routes/metrics"),
      (r) => r.body.totals.recordsIn === 10 && r.body.totals.lag === 0,
    );
    expect(later.body.nodes.bigOut.recordsIn).toBe(5);
    expect(later.body.totals.recordsInPerSec).toBeGreaterThan(0);

    const list = await eventually(
      "the list's summary",
      () => call("GET", "/api/v1/pipelines"),
      (r) => r.body.pipelines[0].metrics?.lag === 0,
    );
    expect(list.body.pipelines[0]).toMatchObject({
      name: "routes",
      state: "running",
      metrics: { recordsIn: 10, errors: 2, lag: 0, tasks: 2, recordsInPerSec: expect.any(Number) },
    });

    expect((await call("POST", "/api/v1/pipelines/routes/stop")).body.state).toBe("stopped");
    const stopped = await call("GET", "/api/v1/pipelines/routes/metrics");
    expect(stopped.body).toMatchObject({ state: "stopped", running: false, nodes: {}, tasks: [] });
    expect(serverErrors).toEqual([]);
  }, 90_000);

  it("fails when a topic it reads is deleted, naming the source", async () => {
    await call("POST", "/api/v1/topics", { json: { name: "visits", partitions: 2 } });
    await new Producer({ baseUrl: server.url }).send("visits", { key: "v1", value: JSON.stringify({ page: "/" }) });
    await call("POST", "/api/v1/pipelines", {
      json: {
        name: "visits-copy",
        nodes: [
          { id: "visits", config: { kind: "source", topics: ["visits"], start: "earliest" } },
          { id: "copy", config: { kind: "sink", topic: "visits-copied", createTopic: { partitions: 1 } } },
        ],
        edges: [edge("visits", "copy")],
      },
    });
    expect((await call("POST", "/api/v1/pipelines/visits-copy/deploy", { json: {} })).body.state).toBe("running");
    await eventually(
      "the visit copied",
      () => readCommitted(server.url, "visits-copied"),
      (v) => v.length === 1,
    );
    expect((await call("DELETE", "/api/v1/topics/visits")).status).toBe(204);
    const failed = await eventually(
      "the pipeline to fail",
      () => call("GET", "/api/v1/pipelines/visits-copy"),
      (r) => r.body.state === "failed",
    );
    expect(failed.body.error).toEqual({ message: "topic 'visits' of the source 'visits' no longer exists", node: "visits" });
  }, 60_000);

  it("fails when a sink's topic is deleted (the error names the topic and the node); resumed once it is back, nothing is lost", async () => {
    await call("POST", "/api/v1/topics", { json: { name: "orders", partitions: 1 } });
    await call("POST", "/api/v1/topics", { json: { name: "shipped", partitions: 1 } });
    const producer = new Producer({ baseUrl: server.url });
    const order = (n: number) => ({ key: `o${n}`, value: JSON.stringify({ n }) });
    await producer.send("orders", order(1));
    await call("POST", "/api/v1/pipelines", {
      json: {
        name: "ship",
        nodes: [
          { id: "orders", config: { kind: "source", topics: ["orders"], start: "earliest" } },
          { id: "label", config: { kind: "map", value: '{"shipped": value.n}' } },
          { id: "toShipped", config: { kind: "sink", topic: "shipped" } },
        ],
        edges: [edge("orders", "label"), edge("label", "toShipped")],
      },
    });
    expect((await call("POST", "/api/v1/pipelines/ship/deploy", { json: {} })).body.state).toBe("running");
    await eventually(
      "the first order shipped",
      () => readCommitted(server.url, "shipped"),
      (v) => v.length === 1,
    );

    expect((await call("DELETE", "/api/v1/topics/shipped")).status).toBe(204);
    await producer.send("orders", order(2));
    const failed = await eventually(
      "the pipeline to fail",
      () => call("GET", "/api/v1/pipelines/ship"),
      (r) => r.body.state === "failed",
    );
    expect(failed.body.error).toEqual({ message: "topic 'shipped' of the sink 'toShipped' no longer exists", node: "toShipped" });
    const listed = (await call("GET", "/api/v1/pipelines")).body.pipelines.find((p: { name: string }) => p.name === "ship");
    expect(listed).toMatchObject({ state: "failed", error: { node: "toShipped" }, metrics: null });
    const metrics = await call("GET", "/api/v1/pipelines/ship/metrics");
    expect(metrics.body).toMatchObject({ state: "failed", running: false, error: { node: "toShipped" } });

    // failed: nothing runs to pause; resuming without the topic fails again, at the start, naming the node
    const pause = await call("POST", "/api/v1/pipelines/ship/pause");
    expect(pause.status).toBe(409);
    expect(pause.body.error.code).toBe("INVALID_PIPELINE_STATE");
    const again = await call("POST", "/api/v1/pipelines/ship/resume");
    expect(again.body).toMatchObject({
      state: "failed",
      error: { node: "toShipped", message: expect.stringMatching(/'shipped' does not exist/) },
    });

    // the topic is back: resumed from the committed offsets, the order that failed is shipped
    await call("POST", "/api/v1/topics", { json: { name: "shipped", partitions: 1 } });
    expect((await call("POST", "/api/v1/pipelines/ship/resume")).body).toMatchObject({ state: "running", error: null });
    const shipped = await eventually(
      "order 2 shipped after the resume",
      () => readCommitted(server.url, "shipped"),
      (v) => v.length === 1,
    );
    expect(shipped.map((r) => r.value)).toEqual(['{"shipped":2}']);
    // and failed → stop is allowed (acknowledged)
    expect((await call("POST", "/api/v1/pipelines/ship/stop")).body.state).toBe("stopped");
    expect(serverErrors).toEqual([]);
  }, 90_000);

  it("answers 404 for an unknown pipeline and 400 naming the field for a bad name", async () => {
    const missing = await call("GET", "/api/v1/pipelines/nope/metrics");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("PIPELINE_NOT_FOUND");
    const bad = await call("GET", `/api/v1/pipelines/${encodeURIComponent("bad name!")}/metrics`);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: "VALIDATION_FAILED", message: expect.stringMatching(/^invalid name: pipeline name may/) });
    expect(serverErrors).toEqual([]);
  });
});
