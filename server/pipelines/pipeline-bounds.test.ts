/**
 * What a running pipeline holds in memory is bounded however much its records multiply or
 * weigh, on the main thread (no pipeline threads), against a real server: a flatMap making
 * 1,000 records of each of 1,500 (1,500,000 outputs of one poll's input, which held in one
 * transaction ran the server's 384 MB heap out and killed it) commits in parts of at most
 * MAX_PENDING_OUTPUTS, and every output reaches its topic exactly once, in order; a map making
 * 64 KiB of each 1 KiB record commits in parts of at most MAX_PENDING_OUTPUT_BYTES; a hopping
 * window counting each record in 60 windows commits its changed state keys in parts too.
 */
import { describe, expect, it } from "vitest";
import { PartitionReader, Producer } from "../client/index.ts";
import { MAX_PENDING_OUTPUT_BYTES, MAX_PENDING_OUTPUTS } from "../stream/runtime/stream-task.ts";
import { apiCaller } from "../testing/api-client.ts";
import { useTestServer } from "../testing/test-server.ts";
import { deployed, throughOne } from "../testing/pipeline-definitions.ts";
import { eventually } from "../testing/topic-reading.ts";

const server = useTestServer({ TRIBUTARY_PIPELINE_THREADS: "0" });
const call = apiCaller(() => server.url);

/** The pipeline once it processed `records` input records and has no lag; it must still be running. */
async function processedAll(name: string, records: number) {
  const done = await eventually(
    "every input record processed",
    () => call("GET", `/api/v1/pipelines/${name}`),
    (r) => r.body.state !== "running" || (r.body.metrics?.recordsIn === records && r.body.metrics.lag === 0),
    120_000,
  );
  expect(done.body.state).toBe("running");
  return done;
}

describe("a pipeline's memory bounds", () => {
  it("a flatMap of 1,000 outputs per record commits in parts: every output once, in order, the server up", async () => {
    const RECORDS = 1500;
    const EACH = 1000;
    expect((await call("POST", "/api/v1/topics", { json: { name: "lists", partitions: 1 } })).status).toBe(201);
    const list = Array.from({ length: EACH }, (_, i) => i);
    await new Producer({ baseUrl: server.url, batchBytes: 1024 * 1024 }).sendMany(
      "lists",
      Array.from({ length: RECORDS }, (_, i) => ({ key: `r${i}`, value: JSON.stringify({ list }), partition: 0 })),
    );
    await deployed(call, throughOne("spread", "lists", "each", { kind: "flatMap", values: "value.list" }, "spread-out"));
    const done = await processedAll("spread", RECORDS);
    expect(done.body.metrics.threads).toEqual([]); // on the main thread
    expect(done.body.metrics.recordsOut).toBe(RECORDS * EACH);
    // in parts: at least as many transactions as the outputs need at MAX_PENDING_OUTPUTS each
    expect(done.body.metrics.commits).toBeGreaterThanOrEqual((RECORDS * EACH) / MAX_PENDING_OUTPUTS);

    // read_committed: output n is element n mod 1,000 of input record ⌊n / 1,000⌋
    const reader = new PartitionReader(server.url, "spread-out", 0, 0, "read_committed");
    let n = 0;
    let wrong = 0;
    for (;;) {
      const r = await reader.poll((v) => {
        if (v.key?.toString() !== `r${Math.floor(n / EACH)}` || v.value?.toString() !== String(n % EACH)) wrong++;
        n++;
      });
      if (reader.offset >= r.lastStableOffset) break;
    }
    expect({ n, wrong }).toEqual({ n: RECORDS * EACH, wrong: 0 });
  }, 180_000);

  it("a map making 64 KiB of each 1 KiB record commits in parts of bounded bytes: every output once, the server up", async () => {
    const RECORDS = 1000;
    const COPIES = 64;
    expect((await call("POST", "/api/v1/topics", { json: { name: "small", partitions: 1 } })).status).toBe(201);
    const s = "s".repeat(1024);
    await new Producer({ baseUrl: server.url, batchBytes: 1024 * 1024 }).sendMany(
      "small",
      Array.from({ length: RECORDS }, (_, i) => ({ key: `r${i}`, value: JSON.stringify({ s }), partition: 0 })),
    );
    // one input record of 1 KiB becomes an output of 64 KiB: 1,000 of them (1 MiB, one poll) make 64 MiB of outputs
    const value = `{${Array.from({ length: COPIES }, (_, i) => `"k${i}": value.s`).join(", ")}}`;
    await deployed(call, throughOne("widen", "small", "wide", { kind: "map", value }, "widen-out"));
    const done = await processedAll("widen", RECORDS);
    expect(done.body.metrics.recordsOut).toBe(RECORDS);
    const outputBytes = RECORDS * JSON.stringify(Object.fromEntries(Array.from({ length: COPIES }, (_, i) => [`k${i}`, s]))).length;
    // in parts: at least as many transactions as the outputs' bytes need at MAX_PENDING_OUTPUT_BYTES each
    expect(done.body.metrics.commits).toBeGreaterThanOrEqual(Math.floor(outputBytes / MAX_PENDING_OUTPUT_BYTES));

    const reader = new PartitionReader(server.url, "widen-out", 0, 0, "read_committed");
    let n = 0;
    let wrong = 0;
    for (;;) {
      const r = await reader.poll((v) => {
        const o = JSON.parse(v.value!.toString()) as Record<string, string>;
        if (v.key?.toString() !== `r${n}` || Object.keys(o).length !== COPIES || o.k63 !== s) wrong++;
        n++;
      });
      if (reader.offset >= r.lastStableOffset) break;
    }
    expect({ n, wrong }).toEqual({ n: RECORDS, wrong: 0 });
  }, 180_000);

  it("a hopping window of 60 windows per record commits its 180,000 changed state keys in parts", async () => {
    const RECORDS = 3000;
    const WINDOWS = 60;
    expect((await call("POST", "/api/v1/topics", { json: { name: "clicks", partitions: 1 } })).status).toBe(201);
    // a day ahead: no window closes (and emits) while the test runs, so only state changes make the transactions
    const at = Date.now() + 86_400_000;
    await new Producer({ baseUrl: server.url, batchBytes: 1024 * 1024 }).sendMany(
      "clicks",
      Array.from({ length: RECORDS }, (_, i) => ({ key: `u${i}`, value: "{}", timestamp: at, partition: 0 })),
    );
    const window = { type: "hopping", sizeMs: WINDOWS * 60_000, advanceMs: 60_000 };
    await deployed(
      call,
      throughOne(
        "hours",
        "clicks",
        "perHour",
        { kind: "aggregate", window, aggregations: [{ fn: "count", as: "n" }], emit: "final" },
        "hours-out",
      ),
    );
    const done = await processedAll("hours", RECORDS);
    // every record counted once in each of its 60 windows
    const m = (await call("GET", "/api/v1/pipelines/hours/metrics")).body;
    expect(m.nodes.perHour.stores).toEqual([{ store: "perHour/windows", keys: RECORDS * WINDOWS, bytes: expect.any(Number) }]);
    expect(m.nodes.perHour.out.out.records).toBe(0); // nothing closed
    // one poll's records, but at least as many transactions as the changes need at MAX_PENDING_OUTPUTS each
    expect(done.body.metrics.commits).toBeGreaterThanOrEqual(Math.ceil((RECORDS * WINDOWS) / MAX_PENDING_OUTPUTS));
  }, 180_000);
});
