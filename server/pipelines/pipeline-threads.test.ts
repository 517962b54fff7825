/**
 * Pipelines on a pipeline thread (TRIBUTARY_PIPELINE_THREADS=1), against a real server whose
 * threads have a small heap (16 MB of old generation): a pipeline whose state grows past its
 * limits fails naming the limit, its thread's heap never the one to give out (state is packed
 * off the heap and bounded by the per-task limits), while the server (its main thread, the
 * broker) goes on answering; another pipeline then runs on a thread, its records committed
 * exactly once and its metrics read from the thread.
 */
import { describe, expect, it } from "vitest";
import { Producer } from "../client/index.ts";
import { apiCaller } from "../testing/api-client.ts";
import { useTestServer } from "../testing/test-server.ts";
import { deployed, throughOne } from "../testing/pipeline-definitions.ts";
import { eventually, readCommitted } from "../testing/topic-reading.ts";

const server = useTestServer({ TRIBUTARY_PIPELINE_THREADS: "1", TRIBUTARY_PIPELINE_THREAD_HEAP_MB: "16" });
const call = apiCaller(() => server.url);

describe("pipeline threads", () => {
  it("a pipeline passing its state limit on a small-heap thread fails naming the limit; the server goes on, and the next pipeline runs", async () => {
    expect((await call("POST", "/api/v1/topics", { json: { name: "many-keys", partitions: 1 } })).status).toBe(201);
    const producer = new Producer({ baseUrl: server.url, batchBytes: 1024 * 1024 });
    // 700,000 distinct keys, each with its own distinct set: past the 48 MiB the pipeline allows, and far past a 16 MB heap
    const pad = "p".repeat(40);
    for (let from = 0; from < 700_000; from += 50_000)
      await producer.sendMany(
        "many-keys",
        Array.from({ length: 50_000 }, (_, i) => ({
          key: `k${from + i}`,
          value: JSON.stringify({ v: `${pad}${from + i}` }),
          partition: 0,
        })),
      );
    const hog = throughOne(
      "hog",
      "many-keys",
      "kinds",
      { kind: "aggregate", aggregations: [{ fn: "distinctCount", of: "value.v", as: "n" }] },
      "hog-out",
      { maxStateKeysPerTask: 750_000, maxStateBytesPerTask: 48 * 1024 * 1024 },
    );
    await deployed(call, hog);
    const failed = await eventually(
      "the pipeline failed",
      () => call("GET", "/api/v1/pipelines/hog"),
      (r) => r.body.state === "failed",
      120_000,
    );
    expect(failed.body.error).toMatchObject({ node: "kinds" });
    expect(failed.body.error.message).toMatch(/passed the pipeline's limit of 50331648 bytes per task/);
    // the broker never stopped: the server answers, and its records are all there
    const topic = await call("GET", "/api/v1/topics/many-keys");
    expect(topic.status).toBe(200);
    expect(topic.body.partitions[0].highWatermark).toBe(700_000);

    // another pipeline runs on a new thread: every record once
    await call("POST", "/api/v1/topics", { json: { name: "few", partitions: 1 } });
    await producer.sendMany(
      "few",
      Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ n: i }), partition: 0 })),
    );
    await deployed(call, throughOne("copy", "few", "even", { kind: "filter", condition: "int(value.n) % 2 == 0" }, "few-even"));
    // it runs on a pipeline thread (numbered from 1), not on the main thread
    const placed = (await call("GET", "/api/v1/pipelines/copy")).body.metrics.thread;
    expect(placed).toBeGreaterThanOrEqual(1);
    const out = await eventually(
      "50 even records",
      () => readCommitted(server.url, "few-even", 1),
      (rs) => rs.length >= 50,
    );
    expect(out.map((r) => JSON.parse(r.value!).n)).toEqual(Array.from({ length: 50 }, (_, i) => 2 * i));
    const m = await eventually(
      "its metrics from the thread",
      () => call("GET", "/api/v1/pipelines/copy/metrics"),
      (r) => r.body.totals?.recordsIn === 100 && r.body.totals.lag === 0,
    );
    expect(m.body.nodes.out).toMatchObject({ recordsIn: 50, recordsOut: 50 });
  }, 180_000);
});
