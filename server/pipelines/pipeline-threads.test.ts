/**
 * Pipelines on a pipeline thread (TRIBUTARY_PIPELINE_THREADS=1), against a real server started
 * as `npm start` starts it (its heap limited by a V8 flag) whose pipeline threads have a heap of
 * 128 MB: a pipeline whose state passes its limits fails naming the limit; a pipeline whose
 * state would fit its limits but not the thread's heap ends the thread, and fails with that
 * reason. Either way the server (its main thread, the broker) goes on answering, and the next
 * pipeline runs on a thread (a new one after the thread ended), its records committed exactly
 * once and its metrics read from the thread.
 */
import { describe, expect, it } from "vitest";
import { Producer } from "../client/index.ts";
import { apiCaller } from "../testing/api-client.ts";
import { useTestServer } from "../testing/test-server.ts";
import { deployed, throughOne } from "../testing/pipeline-definitions.ts";
import { produceDistinct } from "../testing/distinct-records.ts";
import { eventually, readCommitted } from "../testing/topic-reading.ts";

const server = useTestServer({ TRIBUTARY_PIPELINE_THREADS: "1", TRIBUTARY_PIPELINE_THREAD_HEAP_MB: "128" });
const call = apiCaller(() => server.url);
const RECORDS = 700_000;

/**
 * `many-keys`: 700,000 records over 100 keys, each with a value of its own of ~220 bytes
 * (produced once): 7,000 distinct values per key, ~150 MB of them in all.
 */
let manyKeys: Promise<void> | null = null;
function produceManyKeys(): Promise<void> {
  manyKeys ??= (async () => {
    expect((await call("POST", "/api/v1/topics", { json: { name: "many-keys", partitions: 1 } })).status).toBe(201);
    await produceDistinct(server.url, "many-keys", RECORDS, 0, { keys: 100, pad: 200 });
  })();
  return manyKeys;
}

/** A distinct count per key over `many-keys`: one entry per key, a set of its 7,000 values. */
const distinctPerKey = (name: string, settings: Record<string, number>) =>
  throughOne(
    name,
    "many-keys",
    "kinds",
    { kind: "aggregate", aggregations: [{ fn: "distinctCount", of: "value.v", as: "n" }] },
    `${name}-out`,
    settings,
  );

async function failedPipeline(name: string) {
  const failed = await eventually(
    "the pipeline failed",
    () => call("GET", `/api/v1/pipelines/${name}`),
    (r) => r.body.state === "failed",
    120_000,
  );
  // the broker never stopped: the server answers, and its records are all there
  const topic = await call("GET", "/api/v1/topics/many-keys");
  expect(topic.status).toBe(200);
  expect(topic.body.partitions[0].highWatermark).toBe(RECORDS);
  return failed.body.error as { message: string; node?: string };
}

/** The one thread a pipeline of one partition runs on (its one task: one member of its group). */
function onlyThread(threads: number[]): number {
  expect(threads).toHaveLength(1);
  return threads[0];
}

/**
 * The thread pipeline `name` runs on, read while it runs. It may have failed already: it passes
 * these limits within a second or two, and a failed pipeline has no metrics. It then ran where
 * every pipeline of this server has run so far: on its one thread, which is numbered 1 (the
 * first test sees it live on; a thread that ended would make the next one 2).
 */
async function threadOf(name: string): Promise<number> {
  const metrics = (await call("GET", `/api/v1/pipelines/${name}`)).body.metrics as { threads: number[] } | null;
  return metrics ? onlyThread(metrics.threads) : 1;
}

/** A pipeline deployed after the failure runs on a pipeline thread (returned), every record once. */
async function nextPipelineRuns(input: string): Promise<number> {
  await call("POST", "/api/v1/topics", { json: { name: input, partitions: 1 } });
  await new Producer({ baseUrl: server.url }).sendMany(
    input,
    Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ n: i }), partition: 0 })),
  );
  const name = `${input}-copy`;
  await deployed(call, throughOne(name, input, "even", { kind: "filter", condition: "int(value.n) % 2 == 0" }, `${input}-even`));
  const thread = onlyThread((await call("GET", `/api/v1/pipelines/${name}`)).body.metrics.threads);
  const out = await eventually(
    "50 even records",
    () => readCommitted(server.url, `${input}-even`, 1),
    (rs) => rs.length >= 50,
  );
  expect(out.map((r) => JSON.parse(r.value!).n)).toEqual(Array.from({ length: 50 }, (_, i) => 2 * i));
  const m = await eventually(
    "its metrics from the thread",
    () => call("GET", `/api/v1/pipelines/${name}/metrics`),
    (r) => r.body.totals?.recordsIn === 100 && r.body.totals.lag === 0,
  );
  expect(m.body.nodes.out).toMatchObject({ recordsIn: 50, recordsOut: 50 });
  return thread;
}

describe("pipeline threads", () => {
  it("a pipeline passing its state limit on a thread fails naming the limit; the server goes on, and the next pipeline runs", async () => {
    await produceManyKeys();
    await deployed(call, distinctPerKey("capped", { maxStateKeysPerTask: 750_000, maxStateBytesPerTask: 4 * 1024 * 1024 }));
    const thread = await threadOf("capped");
    expect(thread).toBeGreaterThanOrEqual(1); // on a pipeline thread, numbered from 1
    const error = await failedPipeline("capped");
    expect(error).toMatchObject({ node: "kinds" });
    expect(error.message).toMatch(/passed the pipeline's limit of 4194304 bytes per task/);
    // the thread lives on: the next pipeline runs on it
    expect(await nextPipelineRuns("few")).toBe(thread);
  }, 180_000);

  it("a pipeline whose state fits its limits but not its thread's heap ends the thread: it fails with the reason, and the next pipeline gets a new thread", async () => {
    await produceManyKeys();
    // 100 keys within the pipeline's limits, few enough to stay decoded: their sets of 700,000 values of
    // ~220 bytes take more than 128 MB of heap (a store packs keys off the heap, not a key's value)
    await deployed(call, distinctPerKey("swollen", { maxStateKeysPerTask: 750_000, maxStateBytesPerTask: 240 * 1024 * 1024 }));
    const thread = await threadOf("swollen");
    expect(thread).toBeGreaterThanOrEqual(1);
    const error = await failedPipeline("swollen");
    expect(error).toEqual({ message: "the pipeline thread ran out of memory (its heap is limited to 128 MB)" });
    // a new thread, numbered on (an ended thread's number is not used again)
    expect(await nextPipelineRuns("after")).toBeGreaterThan(thread);
  }, 180_000);
});
