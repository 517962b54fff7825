/**
 * Pipeline tests through the API against a real server: the cases saved in a draft run in
 * memory and pass; cases sent in the body fail with a diff; an unsaved definition can be
 * tested; bad bodies are answered 400 naming the field, an unknown pipeline 404; nothing is
 * written or committed; a costly case does not stall the server.
 */
import { describe, expect, it } from "vitest";
import { apiCaller } from "../testing/api-client.ts";
import { withoutStall } from "../testing/hardening-kit.ts";
import { useTestServer } from "../testing/test-server.ts";

const server = useTestServer();
const serverErrors: string[] = [];
const call = apiCaller(
  () => server.url,
  (l) => serverErrors.push(l),
);
const edge = (from: string, to: string, fromPort = "out") => ({ from: { node: from, port: fromPort }, to: { node: to, port: "in" } });
const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1, 10);

/** Clicks counted per user per minute; the counts over 2 go to `busy`. */
const clicksDraft = (tests?: unknown[]) => ({
  name: "busy-users",
  nodes: [
    { id: "clicks", config: { kind: "source", topics: ["clicks"], idleTimeoutMs: 1000 } },
    {
      id: "perMinute",
      config: { kind: "aggregate", window: { type: "tumbling", sizeMs: MIN }, aggregations: [{ fn: "count", as: "n" }], emit: "final" },
    },
    { id: "overTwo", config: { kind: "filter", condition: "value.n > 2" } },
    { id: "busy", config: { kind: "sink", topic: "busy-users", createTopic: { partitions: 1 } } },
    { id: "dlq", config: { kind: "deadLetter", topic: "busy-users-dlq" } },
  ],
  edges: [edge("clicks", "perMinute"), edge("perMinute", "overTwo"), edge("overTwo", "busy")],
  ...(tests ? { tests } : {}),
});

const click = (user: string, second: number) => ({ key: user, value: { page: "/" }, timestamp: T0 + second * 1000 });
const clicks = [click("ann", 1), click("ann", 2), click("bob", 3), click("ann", 4), click("bob", 70)];
const passing = {
  name: "ann is busy in the first minute",
  inputs: { clicks: [...clicks, { key: "cat", valueText: "{oops", timestamp: T0 + 5000 }] },
  advanceTo: "2026-01-01T10:05:00Z",
  expected: {
    outputs: { busy: [{ key: "ann", value: { window: { start: T0, end: T0 + MIN }, n: 3 } }] },
    deadLetters: [{ node: "clicks", errorContains: "not JSON", key: "cat", value: "{oops" }],
  },
};

describe("pipeline tests API", () => {
  it("runs the draft's saved tests in memory and reports each case; a failing case comes with a diff; nothing is written", async () => {
    expect((await call("POST", "/api/v1/pipelines", { json: clicksDraft([passing]) })).status).toBe(201);
    // the saved tests are part of the draft and of the definition that validates
    const saved = await call("GET", "/api/v1/pipelines/busy-users");
    expect(saved.body.draft.tests[0].name).toBe(passing.name);

    const run = await call("POST", "/api/v1/pipelines/busy-users/test", { json: {} });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ passed: 1, failed: 0, incomplete: 0 });
    expect(run.body.cases[0]).toMatchObject({ name: passing.name, status: "passed", read: 6, diff: [] });
    expect(run.body.cases[0].actual.outputs.busy).toEqual([
      { key: "ann", value: { window: { start: T0, end: T0 + MIN }, n: 3 }, headers: {}, timestamp: expect.any(Number) },
    ]);

    // cases in the body replace the saved ones
    const failing = {
      name: "bob is busy too (he is not)",
      inputs: { clicks },
      advanceTo: T0 + 5 * MIN,
      expected: {
        outputs: {
          busy: [
            { key: "ann", value: { window: { start: T0, end: T0 + MIN }, n: 4 } },
            { key: "bob", value: { n: 3 } },
          ],
        },
      },
    };
    const failed = await call("POST", "/api/v1/pipelines/busy-users/test", { json: { cases: [passing, failing] } });
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({ passed: 1, failed: 1 });
    const c = failed.body.cases[1];
    expect(c).toMatchObject({ status: "failed", counts: { changed: 1, missing: 1, unexpected: 0 } });
    expect(c.diff).toEqual([
      expect.objectContaining({
        kind: "changed",
        list: "outputs.busy",
        expectedIndex: 0,
        actualIndex: 0,
        fields: [{ path: "value.n", expected: 4, actual: 3 }],
        message: "outputs.busy[0] differs from the record produced (#0): value.n expected 4, got 3",
      }),
      expect.objectContaining({ kind: "missing", list: "outputs.busy", expectedIndex: 1 }),
    ]);

    // an unsaved definition: with no threshold every user and minute counts (compared in any order)
    const unsaved = clicksDraft();
    unsaved.nodes[2] = { id: "overTwo", config: { kind: "filter", condition: "value.n > 0" } };
    const byDefinition = await call("POST", "/api/v1/pipelines/busy-users/test", {
      json: {
        definition: unsaved,
        cases: [
          { ...failing, name: "bob too", order: "any", expected: { outputs: { busy: [{ key: "bob" }, { key: "bob" }, { key: "ann" }] } } },
        ],
      },
    });
    expect(byDefinition.body.cases[0].status).toBe("passed");

    // nothing was written or committed
    expect((await call("GET", "/api/v1/topics/busy-users")).status).toBe(404);
    expect((await call("GET", "/api/v1/topics/busy-users-dlq")).status).toBe(404);
    expect((await call("GET", "/api/v1/groups/pipeline-busy-users")).status).toBe(404);
    expect(serverErrors).toEqual([]);
  });

  it("answers bad bodies with 400 naming the field, and an unknown pipeline with 404", async () => {
    const checked = (tests?: unknown[]) => ({ ...clicksDraft(tests), name: "checked" });
    await call("POST", "/api/v1/pipelines", { json: checked() });
    const path = "/api/v1/pipelines/checked/test";
    const bad = async (json: unknown) => {
      const r = await call("POST", path, { json });
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      return r.body.error;
    };
    // schema: the zod path of the field
    const noTime = await bad({ cases: [{ name: "x", inputs: { clicks: [{ value: 1 }] }, expected: {} }] });
    expect(noTime.code).toBe("VALIDATION_FAILED");
    expect(noTime.message).toMatch(/^invalid body\.cases\.0\.inputs\.clicks\.0\.timestamp: /);
    const both = await bad({ cases: [{ name: "x", inputs: { clicks: [{ value: 1, valueText: "1", timestamp: 0 }] }, expected: {} }] });
    expect(both.message).toBe("invalid body.cases.0.inputs.clicks.0.valueText: give either value or valueText, not both");
    expect((await bad({ cases: [], extra: true })).message).toMatch(/^invalid body: .*extra/);
    expect((await bad({ cases: [{ name: "x", inputs: {}, expected: {}, order: "random" }] })).message).toMatch(
      /^invalid body\.cases\.0\.order: /,
    );
    const tooMany = await bad({ cases: Array.from({ length: 51 }, (_, i) => ({ name: `c${i}`, inputs: {}, expected: {} })) });
    expect(tooMany.message).toBe("invalid body.cases: at most 50 test cases");
    // the case against the pipeline: unknown nodes, values the source's format cannot carry
    const unknownSource = await bad({ cases: [{ name: "x", inputs: { nope: [] }, expected: {} }] });
    expect(unknownSource).toMatchObject({
      code: "VALIDATION_FAILED",
      message: "invalid body.cases.0.inputs.nope: no source or table node 'nope' in the pipeline",
      details: { field: "cases.0.inputs.nope" },
    });
    const notASink = await bad({ cases: [{ name: "x", inputs: {}, expected: { outputs: { overTwo: [] } } }] });
    expect(notASink.message).toBe("invalid body.cases.0.expected.outputs.overTwo: no sink node 'overTwo' in the pipeline");
    const textKey = await bad({ cases: [{ name: "x", inputs: { clicks: [{ key: 42, timestamp: 0 }] }, expected: {} }] });
    expect(textKey.message).toBe("invalid body.cases.0.inputs.clicks.0.key: the node reads text keys: give a string");
    // no cases at all: none sent and none saved
    expect(await bad({})).toMatchObject({ code: "VALIDATION_FAILED", details: { field: "cases" } });
    // saved tests that do not fit are named by their place in the draft
    await call("PUT", "/api/v1/pipelines/checked", { json: checked([{ name: "stale", inputs: { old: [] }, expected: {} }]) });
    expect((await bad({})).message).toBe("invalid tests.0.inputs.old: no source or table node 'old' in the pipeline");
    // a draft that does not validate (bad saved tests included) is INVALID_PIPELINE with its problems
    await call("PUT", "/api/v1/pipelines/checked", { json: checked([{ name: "no expected", inputs: {} }]) });
    const invalidTests = await bad({});
    expect(invalidTests.code).toBe("INVALID_PIPELINE");
    expect(invalidTests.details.problems).toEqual([expect.objectContaining({ field: "tests.0.expected" })]);
    const badCel = clicksDraft();
    badCel.nodes[2] = { id: "overTwo", config: { kind: "filter", condition: "value.n >" } };
    const celRefused = await bad({ definition: badCel, cases: [passing] });
    expect(celRefused.code).toBe("INVALID_PIPELINE");
    expect(celRefused.details.problems).toEqual([expect.objectContaining({ node: "overTwo", field: "config.condition" })]);
    expect((await call("POST", path, { raw: "{" })).status).toBe(400);

    const missing = await call("POST", "/api/v1/pipelines/nope/test", { json: { cases: [passing] } });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("PIPELINE_NOT_FOUND");
    expect((await call("GET", path)).status).toBe(405);
    expect(serverErrors).toEqual([]);
  });

  it("a costly case stalls nothing: the run gives the event loop back and stops at its time budget", async () => {
    const draft = {
      name: "costly-tests",
      nodes: [
        { id: "in", config: { kind: "source", topics: ["costly"], valueFormat: "text" } },
        {
          id: "slow",
          config: { kind: "filter", condition: '!value.split("").all(a, value.split("").all(b, value.split("").all(c, c != "q")))' },
        },
        { id: "out", config: { kind: "sink", topic: "costly-out" } },
      ],
      edges: [edge("in", "slow"), edge("slow", "out")],
    };
    await call("POST", "/api/v1/pipelines", { json: draft });
    // every record spends its whole CEL budget (60³ steps): 4,800 of them take more than the run's 5 s
    const inputs = { in: Array.from({ length: 800 }, (_, i) => ({ value: `${"z".repeat(59)}${i % 10}`, timestamp: i })) };
    const cases = [0, 1, 2, 3, 4, 5].map((i) => ({ name: `costly ${i}`, inputs, expected: { outputs: { out: [] } } }));
    // a route's first request loads its code and compiles its schemas (once per process, whatever the run): not measured here
    const warm = [{ name: "warm", inputs: { in: inputs.in.slice(0, 1) }, expected: {} }];
    expect((await call("POST", "/api/v1/pipelines/costly-tests/test", { json: { cases: warm } })).status).toBe(200);
    const run = await withoutStall(server.url, () => call("POST", "/api/v1/pipelines/costly-tests/test", { json: { cases } }));
    expect(run.status).toBe(200);
    expect(run.body.cases).toHaveLength(6);
    expect(run.body.cases[0].read).toBeGreaterThan(0);
    expect(run.body.cases[0].actual.deadLetters[0].error).toMatch(/^condition: CEL (cost|time) budget exceeded/);
    expect(run.body.cases.at(-1)).toMatchObject({ status: "incomplete", reason: expect.stringMatching(/time budget of 5000 ms ran out/) });
    expect(serverErrors).toEqual([]);
  }, 60_000);
});
