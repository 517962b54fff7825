/**
 * The pipelines API against a real server: drafts, validation with every problem pinned to its
 * node and field, deploy, pause/resume/stop, versions, a state reset on a changed stateful node
 * (counting nothing twice), a delete that takes the pipeline's group and internal topics with it,
 * a restart that starts running pipelines again, and every bad input answered with a 4xx JSON
 * error naming the field.
 */
import { describe, expect, it } from "vitest";
import { Producer } from "../client/index.ts";
import { apiCaller } from "../testing/api-client.ts";
import { MAX_PIPELINES } from "../pipelines/pipeline-manager.ts";
import { withoutStall } from "../testing/hardening-kit.ts";
import { useTestServer } from "../testing/test-server.ts";
import { eventually, readCommitted } from "../testing/topic-reading.ts";

const server = useTestServer({ TRIBUTARY_GROUP_HEARTBEAT_INTERVAL_MS: "250", TRIBUTARY_GROUP_SESSION_TIMEOUT_MS: "3000" });
const serverErrors: string[] = [];
const call = apiCaller(
  () => server.url,
  (l) => serverErrors.push(l),
);
const edge = (from: string, to: string) => ({ from: { node: from, port: "out" }, to: { node: to, port: "in" } });

const values = async (topic: string) => (await readCommitted(server.url, topic)).map((r) => r.value ?? "");
const until = eventually;

const bigPayments = (condition = "value.amount >= 100.0") => ({
  name: "big-payments",
  nodes: [
    { id: "payments", config: { kind: "source", topics: ["payments"], start: "earliest" } },
    { id: "big", config: { kind: "filter", condition } },
    { id: "shape", config: { kind: "map", value: '{"user": value.user, "amount": value.amount}' } },
    { id: "out", config: { kind: "sink", topic: "big-payments", createTopic: { partitions: 1 } } },
  ],
  edges: [edge("payments", "big"), edge("big", "shape"), edge("shape", "out")],
});

/**
 * `name`: `source`'s records (2 partitions, from the start) re-keyed by `key` and counted per key
 * into `sink` — through a repartition topic, with a changelog for the count's store.
 */
const rekeyedCount = (name: string, source: string, key: string, sink: string, more: object[] = []) => ({
  name,
  nodes: [
    { id: "in", config: { kind: "source", topics: [source], start: "earliest" } },
    { id: "rekey", config: { kind: "selectKey", key } },
    { id: "count", config: { kind: "aggregate", aggregations: [{ fn: "count", as: "n" }, ...more] } },
    { id: "out", config: { kind: "sink", topic: sink, createTopic: { partitions: 2 } } },
  ],
  edges: [edge("in", "rekey"), edge("rekey", "count"), edge("count", "out")],
});

/** The latest count per key in a 2-partition sink of `rekeyedCount`. */
async function latestCounts(topic: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const r of await readCommitted(server.url, topic, 2)) out[r.key ?? ""] = JSON.parse(r.value ?? "{}").n;
  return out;
}

describe("pipelines API", () => {
  it("draft → validate (problems per node and field) → deploy → pause/resume → versions → restart", async () => {
    expect((await call("POST", "/api/v1/topics", { json: { name: "payments", partitions: 1 } })).status).toBe(201);
    // a producer per call: the server's address changes when it restarts
    const pay = (user: string, amount: number) =>
      new Producer({ baseUrl: server.url }).send("payments", { value: JSON.stringify({ user, amount }) });

    // an unfinished draft is saved as it is
    const broken = bigPayments("value.amount >=");
    broken.edges = broken.edges.filter((e) => e.to.node !== "out");
    broken.nodes[0].config = { kind: "source", topics: ["no-such-topic"], start: "earliest" };
    const created = await call("POST", "/api/v1/pipelines", { json: broken });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "big-payments", state: "draft", version: null });

    // validation names every problem the schema finds, with its node and field
    const structural = await call("POST", "/api/v1/pipelines/big-payments/validate");
    expect(structural.status).toBe(200);
    expect(structural.body.valid).toBe(false);
    // the parts that parse have their types already, for the editor's completion
    expect(structural.body.types.nodes.big.inputs.in).toEqual({ key: "string", value: "dyn", fields: [] });
    expect(structural.body.problems).toEqual(
      expect.arrayContaining([
        { node: "shape", field: "out.out", message: "output 'out' of 'shape' is not connected" },
        { node: "out", field: "in.in", message: "input 'in' of 'out' is not connected" },
        // the expressions of an unfinished graph are checked too, as the editor draws it
        expect.objectContaining({ node: "big", field: "config.condition" }),
      ]),
    );
    // once the graph holds, the topics are checked too
    const connected = bigPayments("value.amount >=");
    connected.nodes[0].config = { kind: "source", topics: ["no-such-topic"], start: "earliest" };
    expect((await call("PUT", "/api/v1/pipelines/big-payments", { json: connected })).status).toBe(200);
    const semantic = await call("POST", "/api/v1/pipelines/big-payments/validate");
    expect(semantic.body.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ node: "big", field: "config.condition" }),
        { node: "payments", field: "config.topics", message: "topic 'no-such-topic' does not exist" },
      ]),
    );
    // deploying an invalid draft is refused with the same problems
    const refused = await call("POST", "/api/v1/pipelines/big-payments/deploy", { json: {} });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe("INVALID_PIPELINE");
    expect(refused.body.error.details.problems.length).toBeGreaterThanOrEqual(2);

    expect((await call("PUT", "/api/v1/pipelines/big-payments", { json: bigPayments() })).status).toBe(200);
    const valid = await call("POST", "/api/v1/pipelines/big-payments/validate");
    expect(valid.body).toMatchObject({ valid: true, problems: [] });
    // the record type at each port, and what each node's CEL fields complete
    const { types } = valid.body;
    expect(types.nodes.big.inputs.in).toEqual({ key: "string", value: "dyn", fields: [] });
    expect(types.nodes.big.completions.map((c: { label: string }) => c.label)).toEqual([
      "key",
      "value",
      "headers",
      "timestamp",
      "topic",
      "partition",
      "offset",
    ]);
    expect(types.nodes.out.inputs.in).toEqual({
      key: "string",
      value: "map<string, dyn>",
      fields: [
        { path: "user", type: "dyn" },
        { path: "amount", type: "dyn" },
      ],
    });
    expect((await call("GET", "/api/v1/pipelines/big-payments")).body.state).toBe("validated");

    await pay("ann", 150);
    await pay("bob", 20);
    const deployed = await call("POST", "/api/v1/pipelines/big-payments/deploy", { json: {} });
    expect(deployed.status).toBe(200);
    expect(deployed.body).toMatchObject({ state: "running", version: 1 });
    await until(
      "ann's payment",
      () => values("big-payments"),
      (v) => v.length === 1,
    );
    expect(await values("big-payments")).toEqual(['{"user":"ann","amount":150}']);
    // the pipeline is a consumer group like any other
    expect((await call("GET", "/api/v1/groups/pipeline-big-payments")).status).toBe(200);

    const paused = await call("POST", "/api/v1/pipelines/big-payments/pause");
    expect(paused.body.state).toBe("paused");
    await pay("cat", 500);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await values("big-payments")).toHaveLength(1);
    expect((await call("POST", "/api/v1/pipelines/big-payments/resume")).body.state).toBe("running");
    await until(
      "cat's payment after resume",
      () => values("big-payments"),
      (v) => v.length === 2,
    );

    const list = await call("GET", "/api/v1/pipelines");
    expect(list.body.pipelines).toEqual([expect.objectContaining({ name: "big-payments", state: "running", version: 1 })]);
    expect(list.body.pipelines[0].metrics.recordsOut).toBeGreaterThanOrEqual(1);

    // running pipelines start again with the server, from their committed offsets
    await server.restart();
    await pay("dan", 900);
    await until(
      "dan's payment after the restart",
      () => values("big-payments"),
      (v) => v.length === 3,
    );
    expect(await values("big-payments")).toEqual([
      '{"user":"ann","amount":150}',
      '{"user":"cat","amount":500}',
      '{"user":"dan","amount":900}',
    ]);
    expect((await call("GET", "/api/v1/pipelines/big-payments")).body.state).toBe("running");

    const stopped = await call("POST", "/api/v1/pipelines/big-payments/stop");
    expect(stopped.body.state).toBe("stopped");
    expect((await call("POST", "/api/v1/pipelines/big-payments/pause")).status).toBe(409);
    const versions = await call("GET", "/api/v1/pipelines/big-payments/versions");
    expect(versions.body.versions.map((v: { version: number }) => v.version)).toEqual([1]);
    expect((await call("DELETE", "/api/v1/pipelines/big-payments")).status).toBe(204);
    expect((await call("GET", "/api/v1/pipelines/big-payments")).status).toBe(404);
    expect(serverErrors).toEqual([]);
  }, 120_000);

  it("a changed stateful node needs an explicit state reset to deploy", async () => {
    await call("POST", "/api/v1/topics", { json: { name: "clicks", partitions: 1 } });
    const counting = (size: number) => ({
      name: "clicks-count",
      nodes: [
        { id: "clicks", config: { kind: "source", topics: ["clicks"] } },
        {
          id: "count",
          config: { kind: "aggregate", window: { type: "tumbling", sizeMs: size }, aggregations: [{ fn: "count", as: "n" }] },
        },
        { id: "out", config: { kind: "sink", topic: "clicks-count", createTopic: { partitions: 1 } } },
      ],
      edges: [edge("clicks", "count"), edge("count", "out")],
    });
    await call("POST", "/api/v1/pipelines", { json: counting(60_000) });
    expect((await call("POST", "/api/v1/pipelines/clicks-count/deploy", { json: {} })).body.version).toBe(1);
    await call("PUT", "/api/v1/pipelines/clicks-count", { json: counting(30_000) });
    const refused = await call("POST", "/api/v1/pipelines/clicks-count/deploy", { json: {} });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: "PIPELINE_STATE_RESET_REQUIRED", details: { nodes: ["count"] } });
    expect(refused.body.error.message).toMatch(/'count' changed/);
    const reset = await call("POST", "/api/v1/pipelines/clicks-count/deploy", { json: { resetState: true } });
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ state: "running", version: 2 });
    // a rollback is a deploy of an earlier version: the same rule, and nothing changes when refused
    expect((await call("GET", "/api/v1/pipelines/clicks-count/versions/diff?from=2&to=1")).body.statefulChanged).toEqual(["count"]);
    const rollback = await call("POST", "/api/v1/pipelines/clicks-count/deploy", { json: { version: 1 } });
    expect(rollback.status).toBe(409);
    expect(rollback.body.error).toMatchObject({ code: "PIPELINE_STATE_RESET_REQUIRED", details: { nodes: ["count"] } });
    const still = (await call("GET", "/api/v1/pipelines/clicks-count")).body;
    expect(still).toMatchObject({ state: "running", version: 2 });
    expect(still.draft.nodes[1].config.window.sizeMs).toBe(30_000);
    const rolled = await call("POST", "/api/v1/pipelines/clicks-count/deploy", { json: { version: 1, resetState: true } });
    expect(rolled.body).toMatchObject({
      state: "running",
      version: 3,
      deployed: { nodes: [{}, { config: { window: { sizeMs: 60_000 } } }, {}] },
    });
    await call("POST", "/api/v1/pipelines/clicks-count/stop");
    expect(serverErrors).toEqual([]);
  }, 60_000);

  it("deleting a pipeline deletes its group and internal topics, not its sinks: one created again under its name starts afresh", async () => {
    expect((await call("POST", "/api/v1/topics", { json: { name: "page-views", partitions: 2 } })).status).toBe(201);
    const views = ["home", "cart", "home", "help", "home", "cart"];
    const producer = new Producer({ baseUrl: server.url });
    for (const [i, page] of views.entries()) await producer.send("page-views", { key: `user-${i}`, value: JSON.stringify({ page }) });
    const perPage = (sink: string) => rekeyedCount("views-per-page", "page-views", "value.page", sink);
    const expected: Record<string, number> = { home: 3, cart: 2, help: 1 };
    const counted = (c: Record<string, number>) => Object.keys(c).length === 3 && Object.entries(expected).every(([k, n]) => c[k] === n);
    const topicNames = async () =>
      ((await call("GET", "/api/v1/topics")).body.topics as { name: string }[])
        .map((t) => t.name)
        .filter((n) => n.includes("views-per-page"));

    expect((await call("POST", "/api/v1/pipelines", { json: perPage("page-counts") })).status).toBe(201);
    expect((await call("POST", "/api/v1/pipelines/views-per-page/deploy", { json: {} })).status).toBe(200);
    await until("the first pipeline's counts", () => latestCounts("page-counts"), counted);
    expect((await topicNames()).sort()).toEqual(["pipeline-views-per-page-changelog", "pipeline-views-per-page-repartition-count-in"]);
    expect((await call("GET", "/api/v1/groups/pipeline-views-per-page")).status).toBe(200);

    expect((await call("DELETE", "/api/v1/pipelines/views-per-page")).status).toBe(204);
    expect(await topicNames()).toEqual([]);
    expect((await call("GET", "/api/v1/groups/pipeline-views-per-page")).status).toBe(404);
    expect(await latestCounts("page-counts")).toEqual(expected); // the sink stays

    // created again: it reads its source from the start (no old offsets) into an empty store (no old changelog)
    expect((await call("POST", "/api/v1/pipelines", { json: perPage("page-counts-again") })).status).toBe(201);
    expect((await call("POST", "/api/v1/pipelines/views-per-page/deploy", { json: {} })).status).toBe(200);
    await until("the new pipeline's counts", () => latestCounts("page-counts-again"), counted);
    await producer.send("page-views", { key: "user-9", value: JSON.stringify({ page: "help" }) });
    await until(
      "one more view counted once",
      () => latestCounts("page-counts-again"),
      (c) => c.help === 2,
    );
    expect(await latestCounts("page-counts-again")).toEqual({ ...expected, help: 2 });
    await call("DELETE", "/api/v1/pipelines/views-per-page");
    expect(serverErrors).toEqual([]);
  }, 90_000);

  it("a state reset starts over with empty repartition topics: a re-keyed count counts each record once", async () => {
    expect((await call("POST", "/api/v1/topics", { json: { name: "button-clicks", partitions: 2 } })).status).toBe(201);
    const producer = new Producer({ baseUrl: server.url });
    const buttons = ["buy", "help", "buy", "buy", "share"];
    for (const [i, b] of buttons.entries()) await producer.send("button-clicks", { key: `session-${i}`, value: JSON.stringify({ b }) });
    const perButton = (sink: string, more: object[] = []) => rekeyedCount("clicks-per-button", "button-clicks", "value.b", sink, more);
    const once = (c: Record<string, number>) => c.buy === 3 && c.help === 1 && c.share === 1;
    await call("POST", "/api/v1/pipelines", { json: perButton("button-counts") });
    expect((await call("POST", "/api/v1/pipelines/clicks-per-button/deploy", { json: {} })).status).toBe(200);
    await until("the counts", () => latestCounts("button-counts"), once);

    // the count changes (a stateful node): its state and offsets go, the sources are read again from the start
    await call("PUT", "/api/v1/pipelines/clicks-per-button", {
      json: perButton("button-counts-reset", [{ fn: "distinctCount", of: "value.b", as: "names" }]),
    });
    const reset = await call("POST", "/api/v1/pipelines/clicks-per-button/deploy", { json: { resetState: true } });
    expect(reset.status).toBe(200);
    await until("the counts after the reset", () => latestCounts("button-counts-reset"), once);
    // a while for anything read twice to show (the repartitioned records of the first version were not purged yet)
    await new Promise((r) => setTimeout(r, 1500));
    expect(await latestCounts("button-counts-reset")).toEqual({ buy: 3, help: 1, share: 1 });
    await call("DELETE", "/api/v1/pipelines/clicks-per-button");
    expect(serverErrors).toEqual([]);
  }, 90_000);

  it("previews a draft over the real topics: what each node received and emitted, its errors; nothing written", async () => {
    await call("POST", "/api/v1/topics", { json: { name: "orders", partitions: 2 } });
    const producer = new Producer({ baseUrl: server.url });
    for (let i = 0; i < 6; i++) await producer.send("orders", { key: `k${i}`, value: JSON.stringify({ n: i, amount: i * 50 }) });
    await producer.send("orders", { key: "bad", value: "not json" });
    await producer.send("orders", { key: "k9", value: JSON.stringify({ n: 9 }) }); // no amount: the filter fails on it
    const draft = {
      name: "preview-me",
      nodes: [
        { id: "orders", config: { kind: "source", topics: ["orders"] } },
        { id: "big", config: { kind: "filter", condition: "value.amount >= 100.0" } },
        { id: "shape", config: { kind: "map", value: '{"n": value.n}' } },
        { id: "out", config: { kind: "sink", topic: "preview-out" } },
      ],
      edges: [edge("orders", "big"), edge("big", "shape"), edge("shape", "out")],
    };
    await call("POST", "/api/v1/pipelines", { json: draft });
    const preview = await call("POST", "/api/v1/pipelines/preview-me/preview", { json: { limit: 100 } });
    expect(preview.status).toBe(200);
    const p = preview.body;
    expect(p).toMatchObject({ read: 8, truncated: false, problems: [] });
    expect(p.nodes.orders).toMatchObject({ emitted: 7, failed: 1 });
    expect(p.nodes.orders.errors[0]).toMatchObject({ error: expect.stringMatching(/not JSON/), origin: { topic: "orders" } });
    expect(p.nodes.big).toMatchObject({ received: 7, emitted: 4, failed: 1 });
    expect(p.nodes.big.errors[0].error).toMatch(/^condition: /);
    expect(p.nodes.out.received).toBe(4);
    expect(p.nodes.out.records.map((r: { value: { n: number } }) => r.value.n).sort()).toEqual([2, 3, 4, 5]);
    expect(p.edges).toEqual({ "orders:out->big:in": 7, "big:out->shape:in": 4, "shape:out->out:in": 4 });
    // an unsaved definition can be previewed too; a bad one is refused with its problems
    const unsaved = await call("POST", "/api/v1/pipelines/preview-me/preview", {
      json: {
        definition: {
          ...draft,
          nodes: draft.nodes.map((n) => (n.id === "big" ? { id: "big", config: { kind: "filter", condition: "true" } } : n)),
        },
      },
    });
    expect(unsaved.body.nodes.out.received).toBe(7);
    const bad = await call("POST", "/api/v1/pipelines/preview-me/preview", { json: { definition: { ...draft, edges: [] } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("INVALID_PIPELINE");
    expect((await call("POST", "/api/v1/pipelines/preview-me/preview", { json: { limit: 100_000 } })).status).toBe(400);
    // nothing was written or committed
    expect((await call("GET", "/api/v1/topics/preview-out")).status).toBe(404);
    expect((await call("GET", "/api/v1/groups/pipeline-preview-me")).status).toBe(404);
    expect(serverErrors).toEqual([]);
  });

  it("previews a time range instead of the last records: only the records stamped in it, of every partition; bad ranges are 4xx naming the field", async () => {
    const T0 = Date.parse("2026-02-01T10:00:00Z");
    const MIN = 60_000;
    await call("POST", "/api/v1/topics", { json: { name: "timed", partitions: 2 } });
    // minute i on partition i % 2; one stamped 0.5 written after minute 4 (timestamps need not grow with offsets)
    const records = [0, 1, 2, 3, 4, 0.5, 5, 6].map((m) => ({
      partition: Math.floor(m) % 2,
      key: `m${m}`,
      value: JSON.stringify({ m }),
      timestamp: T0 + m * MIN,
    }));
    expect((await call("POST", "/api/v1/topics/timed/records", { json: { records } })).status).toBe(200);
    const draft = {
      name: "timed-preview",
      nodes: [
        { id: "in", config: { kind: "source", topics: ["timed"] } },
        { id: "out", config: { kind: "sink", topic: "timed-out" } },
      ],
      edges: [edge("in", "out")],
    };
    expect((await call("POST", "/api/v1/pipelines", { json: draft })).status).toBe(201);
    const preview = (json: unknown) => call("POST", "/api/v1/pipelines/timed-preview/preview", { json });
    const minutes = (body: { nodes: Record<string, { records: { value: { m: number } }[] }> }) =>
      body.nodes.out.records.map((r) => r.value.m).sort((a, b) => a - b);

    const ranged = await preview({ from: new Date(T0 + 2 * MIN).toISOString(), to: T0 + 4 * MIN });
    expect(ranged.status).toBe(200);
    expect(ranged.body).toMatchObject({ read: 3, truncated: false });
    expect(minutes(ranged.body)).toEqual([2, 3, 4]);
    // no end: up to now
    expect(minutes((await preview({ from: T0 + 5 * MIN })).body)).toEqual([5, 6]);
    // a range before every record, and one after: nothing read
    expect((await preview({ from: T0 - 10 * MIN, to: T0 - MIN })).body.read).toBe(0);
    expect((await preview({ from: T0 + 100 * MIN })).body.read).toBe(0);
    // the last records still work as before
    expect(minutes((await preview({ limit: 1 })).body)).toEqual([5, 6]);

    const refused = async (json: unknown, field: string) => {
      const r = await preview(json);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe("VALIDATION_FAILED");
      expect(r.body.error.message).toContain(`body.${field}:`);
    };
    await refused({ from: T0 + 4 * MIN, to: T0 }, "to");
    await refused({ to: T0 }, "from");
    await refused({ from: T0, limit: 10 }, "limit");
    await refused({ from: "yesterday" }, "from");
    await refused({ from: -1 }, "from");
    expect((await call("GET", "/api/v1/topics/timed-out")).status).toBe(404);
    expect(serverErrors).toEqual([]);
  });

  it("a preview of costly expressions over many records stalls nothing: it gives the event loop back and stops at its time budget", async () => {
    await call("POST", "/api/v1/topics", { json: { name: "costly", partitions: 4 } });
    for (let p = 0; p < 4; p++) {
      const values = Array.from({ length: 1000 }, (_, i) => ({ partition: p, value: JSON.stringify(`${"z".repeat(99)}${i % 10}`) }));
      expect((await call("POST", "/api/v1/topics/costly/records", { json: { records: values } })).status).toBe(200);
    }
    await call("POST", "/api/v1/pipelines", {
      json: {
        name: "costly-preview",
        nodes: [
          { id: "in", config: { kind: "source", topics: ["costly"] } },
          { id: "slow", config: { kind: "filter", condition: '!value.split("").all(a, value.split("").all(b, b != "q"))' } },
          { id: "out", config: { kind: "sink", topic: "costly-out" } },
        ],
        edges: [edge("in", "slow"), edge("slow", "out")],
      },
    });
    const preview = await withoutStall(server.url, () =>
      call("POST", "/api/v1/pipelines/costly-preview/preview", { json: { limit: 1000 } }),
    );
    expect(preview.status).toBe(200);
    expect(preview.body.read).toBeGreaterThan(0);
    expect(preview.body.nodes.slow.received).toBe(preview.body.read);
    expect(serverErrors).toEqual([]);
  }, 60_000);

  it("answers bad input with a 4xx JSON error naming the field", async () => {
    const badName = await call("POST", "/api/v1/pipelines", { json: { name: "no spaces!", nodes: [] } });
    expect(badName.status).toBe(400);
    expect(badName.body.error.message).toMatch(/name/);
    expect((await call("POST", "/api/v1/pipelines", { json: [] })).status).toBe(400);
    expect((await call("POST", "/api/v1/pipelines", { raw: "{" })).status).toBe(400);
    await call("POST", "/api/v1/pipelines", { json: { name: "dup" } });
    expect((await call("POST", "/api/v1/pipelines", { json: { name: "dup" } })).body.error.code).toBe("PIPELINE_ALREADY_EXISTS");
    const renamed = await call("PUT", "/api/v1/pipelines/dup", { json: { name: "other" } });
    expect(renamed.status).toBe(400);
    expect(renamed.body.error.details).toEqual({ field: "name" });
    expect((await call("POST", "/api/v1/pipelines/dup/resume")).status).toBe(409);
    expect((await call("POST", "/api/v1/pipelines/dup/deploy", { json: { resetState: "yes" } })).status).toBe(400);
    const missing = await call("GET", "/api/v1/pipelines/nope");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("PIPELINE_NOT_FOUND");
    expect((await call("GET", "/api/v1/pipelines/%00")).status).toBe(400);
    expect((await call("PATCH", "/api/v1/pipelines/dup")).status).toBe(405);
    // the number of pipelines is bounded
    const existing = (await call("GET", "/api/v1/pipelines")).body.pipelines.length;
    for (let i = existing; i < MAX_PIPELINES; i++)
      expect((await call("POST", "/api/v1/pipelines", { json: { name: `p${i}` } })).status).toBe(201);
    const over = await call("POST", "/api/v1/pipelines", { json: { name: "one-too-many" } });
    expect(over.status).toBe(400);
    expect(over.body.error.message).toBe(`at most ${MAX_PIPELINES} pipelines; delete one first`);
    expect(serverErrors).toEqual([]);
  });
});
