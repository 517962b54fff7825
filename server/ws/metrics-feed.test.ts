/** The overview's metrics pushed over /ws: a real server, a real WebSocket client. */
import { describe, expect, it } from "vitest";
import { useTestServer } from "../testing/test-server.ts";
import { connectFrames } from "../testing/ws-frames.ts";

const server = useTestServer();

const connect = () => connectFrames(server.url);

describe("subscribe-metrics", () => {
  it("pushes storage, counts and per-topic throughput every second until unsubscribed", async () => {
    await fetch(`${server.url}/api/v1/topics`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "m", partitions: 2 }),
    });
    const c = await connect();
    c.ws.send(JSON.stringify({ type: "subscribe-metrics", id: "m1" }));
    const first = await c.next((f) => f.type === "metrics");
    expect(first).toMatchObject({ id: "m1", metrics: { topics: 1, partitions: 2 } });
    await fetch(`${server.url}/api/v1/topics/m/records`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ records: Array.from({ length: 25 }, (_, i) => ({ value: `v${i}`, partition: 0 })) }),
    });
    const seen = await c.next((f) => f.type === "metrics" && f.metrics.storage.recordCount === 25);
    const topic = seen.metrics.byTopic.find((t: { topic: string }) => t.topic === "m");
    const later = await c.next(
      (f) =>
        f.type === "metrics" &&
        f.metrics.byTopic.find((t: { topic: string }) => t.topic === "m")?.history.some((p: { inRecords: number }) => p.inRecords === 25),
    );
    expect(topic).toBeDefined();
    expect(later.metrics.total.in.recordsPerSec).toBeGreaterThan(0);
    // a second subscription under the same id is refused; the socket keeps working
    c.ws.send(JSON.stringify({ type: "subscribe-metrics", id: "m1" }));
    expect(await c.next((f) => f.type === "error")).toMatchObject({ id: "m1", error: { code: "VALIDATION_FAILED" } });
    c.ws.send(JSON.stringify({ type: "unsubscribe", id: "m1" }));
    await c.next((f) => f.type === "unsubscribed" && f.id === "m1");
    const count = c.frames.filter((f) => f.type === "metrics").length;
    await new Promise((r) => setTimeout(r, 2500));
    expect(c.frames.filter((f) => f.type === "metrics").length).toBe(count);
    c.ws.close();
  });
});
