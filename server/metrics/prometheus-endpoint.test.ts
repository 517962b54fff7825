/**
 * GET /metrics on a real server over a real database: the exposition parses with a strict
 * Prometheus text parser and carries what a Kafka dashboard reads: a group's lag per partition
 * under Kafka-exporter's names, partition offsets, traffic per topic, request latencies by
 * route (never by raw URL), WebSocket clients and the process's memory.
 */
import http from "node:http";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { useTestServer } from "../testing/test-server.ts";
import { apiCaller } from "../testing/api-client.ts";
import { parsePrometheusText, sampleValue, type MetricFamily } from "../testing/prometheus-text.ts";

// the member commits by hand; a long session keeps it in the group meanwhile
const server = useTestServer({ TRIBUTARY_GROUP_SESSION_TIMEOUT_MS: "300000", TRIBUTARY_GROUP_HEARTBEAT_INTERVAL_MS: "5000" });
const call = apiCaller(() => server.url + "/api/v1");

async function scrape(): Promise<Map<string, MetricFamily>> {
  const res = await fetch(server.url + "/metrics");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

describe("GET /metrics", () => {
  it("carries a group's lag per partition, partition offsets and traffic per topic", async () => {
    const topic = "metrics-orders";
    const group = "metrics-billing";
    expect((await call("POST", "/topics", { json: { name: topic, partitions: 2 } })).status).toBe(201);
    const records = [
      ...Array.from({ length: 10 }, (_, i) => ({ partition: 0, value: `a${i}` })),
      ...Array.from({ length: 4 }, (_, i) => ({ partition: 1, value: `b${i}` })),
    ];
    const produced = await call("POST", `/topics/${topic}/records`, { json: { records } });
    expect(produced.status, produced.text).toBe(200);
    const fetched = await call("GET", `/topics/${topic}/partitions/1/records?offset=0`);
    expect(fetched.status, fetched.text).toBe(200);

    const joined = await call("POST", `/groups/${group}/members`, { json: { topics: [topic], autoOffsetReset: "earliest" } });
    expect(joined.status, joined.text).toBe(201);
    const { memberId, memberEpoch } = joined.body as { memberId: string; memberEpoch: number };
    const committed = await call("POST", `/groups/${group}/members/${memberId}/offsets`, {
      json: {
        memberEpoch,
        offsets: [
          { topic, partition: 0, offset: 3 },
          { topic, partition: 1, offset: 4 },
        ],
      },
    });
    expect(committed.status, committed.text).toBe(200);

    const m = await scrape();
    const p0 = { consumergroup: group, topic, partition: "0" };
    const p1 = { consumergroup: group, topic, partition: "1" };
    expect(m.get("kafka_consumergroup_lag")?.type).toBe("gauge");
    expect(sampleValue(m, "kafka_consumergroup_lag", p0)).toBe(7);
    expect(sampleValue(m, "kafka_consumergroup_lag", p1)).toBe(0);
    expect(sampleValue(m, "kafka_consumergroup_lag_sum", { consumergroup: group, topic })).toBe(7);
    expect(sampleValue(m, "kafka_consumergroup_current_offset", p0)).toBe(3);
    expect(sampleValue(m, "kafka_consumergroup_members", { consumergroup: group })).toBe(1);
    expect(sampleValue(m, "kafka_topic_partitions", { topic })).toBe(2);
    expect(sampleValue(m, "kafka_topic_partition_current_offset", { topic, partition: "0" })).toBe(10);
    expect(sampleValue(m, "kafka_topic_partition_oldest_offset", { topic, partition: "0" })).toBe(0);
    expect(sampleValue(m, "tributary_topic_partition_records", { topic, partition: "1" })).toBe(4);
    expect(sampleValue(m, "tributary_topic_partition_size_bytes", { topic, partition: "1" })).toBeGreaterThan(0);
    expect(m.get("tributary_topic_records_in_total")?.type).toBe("counter");
    expect(sampleValue(m, "tributary_topic_records_in_total", { topic })).toBe(14);
    expect(sampleValue(m, "tributary_topic_bytes_in_total", { topic })).toBeGreaterThan(0);
    expect(sampleValue(m, "tributary_topic_records_out_total", { topic })).toBe(4);

    // a commit moves the lag at the next scrape
    await call("POST", `/groups/${group}/members/${memberId}/offsets`, {
      json: { memberEpoch, offsets: [{ topic, partition: 0, offset: 9 }] },
    });
    expect(sampleValue(await scrape(), "kafka_consumergroup_lag", p0)).toBe(1);

    // a deleted topic leaves the output
    await call("DELETE", `/groups/${group}/members/${memberId}`);
    await call("DELETE", `/groups/${group}/offsets?topic=${topic}`);
    expect((await call("DELETE", `/topics/${topic}`)).status).toBe(204);
    const after = await scrape();
    expect(sampleValue(after, "kafka_topic_partitions", { topic })).toBeUndefined();
    expect(sampleValue(after, "tributary_topic_records_in_total", { topic })).toBeUndefined();
  });

  it("times requests by route template, counts WebSocket clients and reports the process's memory", async () => {
    for (const name of ["lat-a", "lat-b", "lat-c"]) {
      expect((await call("GET", `/topics/${name}`)).status).toBe(404);
    }
    const ws = new WebSocket(server.url.replace("http", "ws") + "/ws");
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    try {
      const m = await scrape();
      const latency = m.get("tributary_http_request_duration_seconds");
      expect(latency?.type).toBe("histogram");
      const routes = new Set(latency!.samples.map((s) => s.labels.route));
      expect(routes).toContain("/api/v1/topics/{topic}");
      for (const r of routes) expect(r).not.toMatch(/lat-/); // never the raw URL
      expect(
        sampleValue(m, "tributary_http_request_duration_seconds_count", { route: "/api/v1/topics/{topic}", method: "GET", code: "404" }),
      ).toBe(3);
      expect(sampleValue(m, "tributary_websocket_clients")).toBe(1);
      expect(sampleValue(m, "process_resident_memory_bytes")).toBeGreaterThan(0);
      expect(sampleValue(m, "nodejs_heap_size_used_bytes")).toBeGreaterThan(0);
    } finally {
      ws.close();
    }
  });

  it("is behind the request guard: GET and HEAD only, loopback or configured Host names", async () => {
    const post = await fetch(server.url + "/metrics", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(post.status).toBe(405);
    const head = await fetch(server.url + "/metrics", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    // a page under another name (DNS rebinding) must not read it
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.get(server.url + "/metrics", { headers: { host: "metrics.evil.example" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.once("error", reject);
    });
    expect(status).toBe(421);
  });
});
