/**
 * Pipelines over /ws, a real server and a real WebSocket client: every pipeline's state and
 * then each change (created, deployed, paused, deleted), one pipeline's metrics pushed every
 * second with exact counts, and refusals that name the field.
 */
import { describe, expect, it } from "vitest";
import { Producer } from "../client/index.ts";
import { apiCaller } from "../testing/api-client.ts";
import { useTestServer } from "../testing/test-server.ts";
import { connectFrames } from "../testing/ws-frames.ts";

const server = useTestServer({ TRIBUTARY_GROUP_HEARTBEAT_INTERVAL_MS: "250", TRIBUTARY_GROUP_SESSION_TIMEOUT_MS: "3000" });
const serverErrors: string[] = [];
const call = apiCaller(
  () => server.url,
  (l) => serverErrors.push(l),
);
const edge = (from: string, to: string) => ({ from: { node: from, port: "out" }, to: { node: to, port: "in" } });

const connect = () => connectFrames(server.url);

describe("pipelines over the WebSocket", () => {
  it("states then each change; metrics every second with exact counts; deletion ends the metrics", async () => {
    const c = await connect();
    c.ws.send(JSON.stringify({ type: "subscribe-pipeline-states", id: "states" }));
    expect(await c.next((f) => f.type === "pipeline-states")).toEqual({ type: "pipeline-states", id: "states", pipelines: [] });

    await call("POST", "/api/v1/topics", { json: { name: "visits", partitions: 1 } });
    await new Producer({ baseUrl: server.url }).sendMany(
      "visits",
      Array.from({ length: 20 }, (_, i) => ({ key: `u${i % 4}`, value: JSON.stringify({ page: i % 2 === 0 ? "home" : "cart" }) })),
    );
    await call("POST", "/api/v1/pipelines", {
      json: {
        name: "carts",
        nodes: [
          { id: "visits", config: { kind: "source", topics: ["visits"], start: "earliest" } },
          { id: "cart", config: { kind: "filter", condition: 'value.page == "cart"' } },
          { id: "out", config: { kind: "sink", topic: "cart-visits", createTopic: { partitions: 1 } } },
        ],
        edges: [edge("visits", "cart"), edge("cart", "out")],
      },
    });
    expect(await c.next((f) => f.type === "pipeline-state")).toEqual({
      type: "pipeline-state",
      id: "states",
      pipeline: { name: "carts", state: "draft", version: null, error: null },
    });
    await call("POST", "/api/v1/pipelines/carts/deploy", { json: {} });
    expect((await c.next((f) => f.type === "pipeline-state" && f.pipeline.state === "running")).pipeline).toEqual({
      name: "carts",
      state: "running",
      version: 1,
      error: null,
    });

    c.ws.send(JSON.stringify({ type: "subscribe-pipeline-metrics", id: "m", pipeline: "carts" }));
    const first = await c.next((f) => f.type === "pipeline-metrics");
    expect(first).toMatchObject({ id: "m", metrics: { name: "carts", state: "running", running: true } });
    const done = await c.next((f) => f.type === "pipeline-metrics" && f.metrics.totals.recordsIn === 20 && f.metrics.totals.lag === 0);
    expect(done.metrics.nodes.cart).toMatchObject({ recordsIn: 20, recordsOut: 10, errors: 0 });
    expect(done.metrics.nodes.out).toMatchObject({ recordsIn: 10, recordsOut: 10 });
    expect(done.metrics.tasks).toHaveLength(1);
    // pushed every second, not only on change
    c.frames.length = 0;
    for (let i = 0; i < 2; i++) expect((await c.next((f) => f.type === "pipeline-metrics")).metrics.totals.recordsIn).toBe(20);

    await call("POST", "/api/v1/pipelines/carts/pause");
    expect((await c.next((f) => f.type === "pipeline-state" && f.pipeline.state === "paused")).pipeline).toMatchObject({
      name: "carts",
      version: 1,
    });
    expect(await c.next((f) => f.type === "pipeline-metrics" && f.metrics.state === "paused")).toMatchObject({
      metrics: { running: false, tasks: [], nodes: {} },
    });
    await call("POST", "/api/v1/pipelines/carts/stop");
    expect(await c.next((f) => f.type === "pipeline-state" && f.pipeline.state === "stopped")).toBeTruthy();
    expect((await call("DELETE", "/api/v1/pipelines/carts")).status).toBe(204);
    expect((await c.next((f) => f.type === "pipeline-state" && f.pipeline.state === null)).pipeline).toEqual({
      name: "carts",
      state: null,
      version: null,
      error: null,
    });
    // the metrics subscription of a deleted pipeline ends with an error naming the pipeline
    expect(await c.next((f) => f.type === "error" && f.id === "m")).toMatchObject({
      error: { code: "PIPELINE_NOT_FOUND", details: { field: "pipeline" } },
    });
    await new Promise((r) => setTimeout(r, 1500));
    expect(c.frames.filter((f) => f.type === "pipeline-metrics")).toEqual([]);

    c.ws.send(JSON.stringify({ type: "unsubscribe", id: "states" }));
    await c.next((f) => f.type === "unsubscribed" && f.id === "states");
    await call("POST", "/api/v1/pipelines", { json: { name: "later", nodes: [], edges: [] } });
    await new Promise((r) => setTimeout(r, 500));
    expect(c.frames.filter((f) => f.type === "pipeline-state")).toEqual([]);
    c.ws.close();
    expect(serverErrors).toEqual([]);
  }, 90_000);

  it("refuses a bad subscription with an error frame naming the field; the socket goes on", async () => {
    const c = await connect();
    c.ws.send(JSON.stringify({ type: "subscribe-pipeline-metrics", id: "a", pipeline: "no such/name" }));
    expect(await c.next((f) => f.type === "error" && f.id === "a")).toMatchObject({
      error: {
        code: "VALIDATION_FAILED",
        message: expect.stringMatching(/^invalid message at pipeline: /),
        details: { field: "pipeline" },
      },
    });
    c.ws.send(JSON.stringify({ type: "subscribe-pipeline-metrics", id: "b" }));
    expect(await c.next((f) => f.type === "error" && f.id === "b")).toMatchObject({
      error: { code: "VALIDATION_FAILED", details: { field: "pipeline" } },
    });
    c.ws.send(JSON.stringify({ type: "subscribe-pipeline-metrics", id: "c", pipeline: "nope" }));
    expect(await c.next((f) => f.type === "error" && f.id === "c")).toMatchObject({
      error: { code: "PIPELINE_NOT_FOUND", message: "pipeline 'nope' does not exist", details: { field: "pipeline" } },
    });
    c.ws.send(JSON.stringify({ type: "subscribe-pipeline-states", id: "s", extra: 1 }));
    expect(await c.next((f) => f.type === "error" && f.id === "s")).toMatchObject({ error: { code: "VALIDATION_FAILED" } });
    // an id in use is refused, whatever kind of subscription holds it
    c.ws.send(JSON.stringify({ type: "subscribe-metrics", id: "x" }));
    c.ws.send(JSON.stringify({ type: "subscribe-pipeline-states", id: "x" }));
    expect(await c.next((f) => f.type === "error" && f.id === "x")).toMatchObject({ error: { code: "VALIDATION_FAILED" } });
    c.ws.send(JSON.stringify({ type: "ping" }));
    expect(await c.next((f) => f.type === "pong")).toEqual({ type: "pong" });
    c.ws.close();
    expect(serverErrors).toEqual([]);
  });
});
