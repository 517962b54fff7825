/**
 * Version history over a real server: the diff between any two versions (or a version and the
 * draft) with every changed field, each version's note, and a rollback — deploying an earlier
 * version as a new one, which then runs (its outputs show it) and becomes the draft (a rollback
 * over a changed stateful node: pipelines-api.test.ts); bad input is a 4xx naming the field.
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
const edge = (from: string, to: string) => ({ from: { node: from, port: "out" }, to: { node: to, port: "in" } });

const bigOrders = (threshold: number) => ({
  name: "big-orders",
  nodes: [
    { id: "orders", config: { kind: "source", topics: ["orders"], start: "earliest" } },
    { id: "big", config: { kind: "filter", condition: `value.amount >= ${threshold}.0` } },
    { id: "out", config: { kind: "sink", topic: "big-orders", createTopic: { partitions: 1 } } },
  ],
  edges: [edge("orders", "big"), edge("big", "out")],
});

describe("pipeline versions: diff and rollback", () => {
  it("diffs any two versions, notes each, and rolls back to an earlier one that then runs", async () => {
    expect((await call("POST", "/api/v1/topics", { json: { name: "orders", partitions: 1 } })).status).toBe(201);
    const order = (amount: number) => new Producer({ baseUrl: server.url }).send("orders", { value: JSON.stringify({ amount }) });
    const outputs = async () => (await readCommitted(server.url, "big-orders")).map((r) => JSON.parse(r.value!).amount as number);

    expect((await call("POST", "/api/v1/pipelines", { json: bigOrders(100) })).status).toBe(201);
    expect((await call("POST", "/api/v1/pipelines/big-orders/deploy", { json: {} })).body).toMatchObject({ version: 1 });
    await order(150);
    await eventually("v1 passes 150", outputs, (o) => o.length === 1);

    // v2: the threshold goes up to 500
    expect((await call("PUT", "/api/v1/pipelines/big-orders", { json: bigOrders(500) })).status).toBe(200);
    const draftDiff = await call("GET", "/api/v1/pipelines/big-orders/versions/diff?from=1&to=draft");
    expect(draftDiff.status).toBe(200);
    expect(draftDiff.body).toMatchObject({ from: 1, to: "draft", identical: false, summary: "changed big" });
    expect((await call("POST", "/api/v1/pipelines/big-orders/deploy", { json: {} })).body).toMatchObject({ state: "running", version: 2 });
    await order(200); // under v2's threshold: dropped
    await order(600);
    await eventually("v2 passes 600 only", outputs, (o) => o.length === 2);
    expect(await outputs()).toEqual([150, 600]);

    const diff = await call("GET", "/api/v1/pipelines/big-orders/versions/diff?from=1&to=2");
    expect(diff.status).toBe(200);
    expect(diff.body).toEqual({
      from: 1,
      to: 2,
      identical: false,
      nodes: {
        added: [],
        removed: [],
        changed: [
          {
            id: "big",
            kind: "filter",
            fields: [{ path: "config.condition", before: "value.amount >= 100.0", after: "value.amount >= 500.0" }],
          },
        ],
        moved: [],
      },
      edges: { added: [], removed: [] },
      pipeline: [],
      statefulChanged: [],
      summary: "changed big",
    });
    // either direction
    const back = await call("GET", "/api/v1/pipelines/big-orders/versions/diff?from=2&to=1");
    expect(back.body.nodes.changed[0].fields[0]).toEqual({
      path: "config.condition",
      before: "value.amount >= 500.0",
      after: "value.amount >= 100.0",
    });

    // a test case written since (saved with the draft) outlives the rollback
    const tests = [
      {
        name: "250 passes",
        inputs: { orders: [{ value: { amount: 250 }, timestamp: 0 }] },
        expected: { outputs: { out: [{ value: { amount: 250 } }] } },
      },
    ];
    expect((await call("PUT", "/api/v1/pipelines/big-orders", { json: { ...bigOrders(500), tests } })).status).toBe(200);
    // roll back to v1: deployed as v3, running, and the draft is v1's definition again
    const rolled = await call("POST", "/api/v1/pipelines/big-orders/deploy", { json: { version: 1 } });
    expect(rolled.status).toBe(200);
    expect(rolled.body).toMatchObject({ state: "running", version: 3 });
    const condition = (def: { nodes: { id: string; config: { condition?: string } }[] }) =>
      def.nodes.find((n) => n.id === "big")!.config.condition;
    expect(condition(rolled.body.deployed)).toBe("value.amount >= 100.0");
    expect(condition(rolled.body.draft)).toBe("value.amount >= 100.0");
    expect(rolled.body.draft.tests).toEqual(tests);
    expect(rolled.body.deployed.tests).toBeUndefined();
    expect((await call("GET", "/api/v1/pipelines/big-orders/versions/diff?from=1&to=3")).body.identical).toBe(true);
    expect((await call("GET", "/api/v1/pipelines/big-orders/versions/diff?from=3&to=draft")).body.identical).toBe(true);
    // it runs from the committed offsets with v1's threshold
    await order(300);
    await eventually("v3 (= v1) passes 300", outputs, (o) => o.length === 3);
    expect(await outputs()).toEqual([150, 600, 300]);

    const versions = await call("GET", "/api/v1/pipelines/big-orders/versions");
    expect(versions.body.versions.map((v: { version: number; note: string }) => [v.version, v.note])).toEqual([
      [1, "first deploy"],
      [2, "changed big"],
      [3, "rollback to v1"],
    ]);
    await call("POST", "/api/v1/pipelines/big-orders/stop");
    expect(serverErrors).toEqual([]);
  }, 90_000);

  it("a redeploy that leaves the stateful nodes as they were needs no state reset", async () => {
    await call("POST", "/api/v1/topics", { json: { name: "taps", partitions: 1 } });
    const counting = (over: number) => ({
      name: "taps-count",
      nodes: [
        { id: "taps", config: { kind: "source", topics: ["taps"] } },
        {
          id: "count",
          config: {
            kind: "aggregate",
            window: { type: "tumbling", sizeMs: 60_000 },
            aggregations: [{ fn: "count", as: "n" }],
            emit: "final",
          },
        },
        { id: "many", config: { kind: "filter", condition: `value.n > ${over}` } },
        { id: "out", config: { kind: "sink", topic: "taps-count", createTopic: { partitions: 1 } } },
      ],
      edges: [edge("taps", "count"), edge("count", "many"), edge("many", "out")],
    });
    await call("POST", "/api/v1/pipelines", { json: counting(5) });
    expect((await call("POST", "/api/v1/pipelines/taps-count/deploy", { json: {} })).status).toBe(200);
    await call("PUT", "/api/v1/pipelines/taps-count", { json: counting(9) });
    // the stored v1 comes back from jsonb with its keys in another order: still the same aggregate
    const redeploy = await call("POST", "/api/v1/pipelines/taps-count/deploy", { json: {} });
    expect(redeploy.status).toBe(200);
    expect(redeploy.body).toMatchObject({ state: "running", version: 2 });
    expect((await call("GET", "/api/v1/pipelines/taps-count/versions/diff?from=1&to=2")).body.statefulChanged).toEqual([]);
    await call("POST", "/api/v1/pipelines/taps-count/stop");
    expect(serverErrors).toEqual([]);
  }, 60_000);

  it("answers bad input with a 4xx JSON error naming the field", async () => {
    await call("POST", "/api/v1/pipelines", { json: { name: "never-deployed" } });
    const noVersion = await call("POST", "/api/v1/pipelines/never-deployed/deploy", { json: { version: 1 } });
    expect(noVersion.status).toBe(404);
    expect(noVersion.body.error).toMatchObject({
      code: "PIPELINE_NOT_FOUND",
      message: "pipeline 'never-deployed' has no version 1",
      details: { field: "version" },
    });
    for (const version of [0, -1, 1.5, "1", null]) {
      const bad = await call("POST", "/api/v1/pipelines/never-deployed/deploy", { json: { version } });
      expect(bad.status, String(version)).toBe(400);
      expect(bad.body.error.message).toMatch(/version/);
    }
    for (const query of ["from=0&to=1", "from=abc&to=1", "from=1", "from=1&to=1e3", "from=1&to=2&x=3", "from=1&from=2&to=3"]) {
      const bad = await call("GET", `/api/v1/pipelines/never-deployed/versions/diff?${query}`);
      expect(bad.status, query).toBe(400);
      expect(bad.body.error.code, query).toBe("VALIDATION_FAILED");
    }
    expect((await call("GET", "/api/v1/pipelines/never-deployed/versions/diff?from=0&to=2")).body.error.message).toMatch(
      /^invalid query\.from: /,
    );
    const missing = await call("GET", "/api/v1/pipelines/never-deployed/versions/diff?from=draft&to=7");
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe("pipeline 'never-deployed' has no version 7");
    const none = await call("GET", "/api/v1/pipelines/nope/versions/diff?from=draft&to=draft");
    expect(none.status).toBe(404);
    expect(none.body.error.message).toBe("pipeline 'nope' does not exist");
    // a draft against itself
    expect((await call("GET", "/api/v1/pipelines/never-deployed/versions/diff?from=draft&to=draft")).body.identical).toBe(true);
    expect((await call("POST", "/api/v1/pipelines/never-deployed/versions/diff?from=1&to=2")).status).toBe(405);
    expect(serverErrors).toEqual([]);
  });
});
