/**
 * A scenario the server stopped in the middle of (SIGKILL): after the restart it is shown failed
 * with what it created, Reset deletes exactly that — its topics, its pipeline (which had started
 * again with the server) and its groups — and it runs again under a new run number. Before the
 * ledger, the restarted server had forgotten the run: its topics refused every new start (409)
 * and nothing could reset them short of deleting them by hand.
 */
import { afterAll, expect, it } from "vitest";
import type { TScenario } from "../schemas/topology.ts";
import { apiCaller } from "../testing/api-client.ts";
import { createScratchDatabase, type ScratchDatabase } from "../testing/databases.ts";
import { startServer, type ServerProcess } from "../testing/server-process.ts";
import { eventually } from "../testing/topic-reading.ts";

const ID = "stream-processing-fraud";
let db: ScratchDatabase | undefined;
let server: ServerProcess | undefined;
const call = apiCaller(() => server!.url + "/api/v1");
const scenario = async () => (await call("GET", `/scenarios/${ID}`)).body as TScenario;

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

it("a run cut short by a crash is failed after the restart, reset deletes what it created, and it runs again", async () => {
  db = await createScratchDatabase("postgres");
  server = await startServer(db);
  expect((await call("POST", `/scenarios/${ID}/start`)).status).toBe(202);
  // killed once its pipeline runs: topics, pipeline, group and internal topics all exist
  const before = await eventually(
    "the scenario's pipeline deployed",
    scenario,
    (s) => s.steps.some((x) => x.text.startsWith("Pipeline ")) || s.state !== "running",
    120_000,
  );
  expect(before.state).toBe("running");
  const pipeline = /Pipeline (\S+) deployed/.exec(before.steps.map((s) => s.text).join("\n"))![1];
  await server.kill();

  server = await startServer(db);
  const after = await scenario();
  expect(after.state).toBe("failed");
  expect(after.error).toMatch(/server stopped during this run/);
  expect(after.topics).toEqual(expect.arrayContaining(before.topics));
  // the pipeline came back with the server, as running pipelines do
  expect((await call("GET", `/pipelines/${pipeline}`)).status).toBe(200);

  const reset = await call("POST", `/scenarios/${ID}/reset`);
  expect(reset.status, reset.text).toBe(200);
  expect((reset.body as TScenario).state).toBe("idle");
  expect((await call("GET", `/pipelines/${pipeline}`)).status).toBe(404);
  for (const topic of after.topics) expect((await call("GET", `/topics/${topic}`)).status, topic).toBe(404);

  // and it starts again (no 409 for topics of its own names), under a new run number
  const again = await call("POST", `/scenarios/${ID}/start`);
  expect(again.status, again.text).toBe(202);
  const next = await eventually(
    "the new run's pipeline deployed",
    scenario,
    (s) => s.steps.some((x) => x.text.startsWith("Pipeline ")) || s.state !== "running",
    120_000,
  );
  const nextPipeline = /Pipeline (\S+) deployed/.exec(next.steps.map((s) => s.text).join("\n"))?.[1];
  expect(nextPipeline).toBeDefined();
  expect(nextPipeline).not.toBe(pipeline);
  expect((await call("POST", `/scenarios/${ID}/reset`)).status).toBe(200);
  expect((await call("GET", `/pipelines/${nextPipeline}`)).status).toBe(404);
}, 400_000);
