/**
 * Pipeline test cases run in memory: the seed's fraud alert (purchases per user per hour, an
 * alert past 10) fed out-of-order and late purchases, with the last hour's alert only once the
 * inputs go idle; a failing case reads as a diff with field paths; dead letters are expected
 * like outputs; a case that does not fit the pipeline is refused by path; the time budget holds.
 */
import { describe, expect, it } from "vitest";
import { ZPipelineDefinition, type TPipelineDefinitionInput } from "../../schemas/pipeline.ts";
import { ZPipelineTestCases, type TPipelineTestCaseInput } from "../../schemas/pipeline-tests.ts";
import { runPipelineTests, testCaseProblems } from "./test-run.ts";

const MIN = 60_000;
const edge = (from: string, to: string, fromPort = "out", toPort = "in") => ({
  from: { node: from, port: fromPort },
  to: { node: to, port: toPort },
});
const at = (h: number, m: number) => new Date(Date.UTC(2026, 0, 1, h, m)).toISOString();
const hour = (h: number) => ({ start: Date.UTC(2026, 0, 1, h), end: Date.UTC(2026, 0, 1, h + 1) });

const fraudAlert: TPipelineDefinitionInput = {
  name: "fraud-alert",
  nodes: [
    {
      id: "purchases",
      config: { kind: "source", topics: ["purchases"], eventTime: "timestamp(value.at)", outOfOrdernessMs: 5 * MIN, idleTimeoutMs: 1000 },
    },
    { id: "byUser", config: { kind: "selectKey", key: "value.user" } },
    {
      id: "perHour",
      config: {
        kind: "aggregate",
        window: { type: "tumbling", sizeMs: 60 * MIN, graceMs: MIN },
        aggregations: [{ fn: "count", as: "purchases" }],
        emit: "final",
      },
    },
    { id: "overTen", config: { kind: "filter", condition: "value.purchases > 10" } },
    { id: "alerts", config: { kind: "sink", topic: "fraud-alerts" } },
    { id: "tooLate", config: { kind: "sink", topic: "late-purchases" } },
    { id: "failed", config: { kind: "deadLetter", topic: "fraud-alerts-dlq" } },
  ],
  edges: [
    edge("purchases", "byUser"),
    edge("byUser", "perHour"),
    edge("perHour", "overTen"),
    edge("overTen", "alerts"),
    edge("perHour", "tooLate", "late"),
  ],
};

/** The purchases, each arriving a second after the one before (record timestamps from 12:00). */
function purchases(): TPipelineTestCaseInput["inputs"] {
  const feed: [string, number, number][] = [];
  for (let i = 0; i < 12; i++) feed.push(["ann", 10, 50 - i * 4]); // out of order within 5 minutes
  for (let i = 0; i < 10; i++) feed.push(["bob", 10, 5 + i * 5]); // exactly 10: no alert
  for (let i = 0; i < 11; i++) feed.push(["cat", 11, 10 + i * 3]); // the last hour: its alert only once idle
  feed.push(["ann", 10, 59]); // late: hour 10 closed when cat's purchases passed 11:06
  const records = feed.map(([user, h, m], i) => ({ value: { user, at: at(h, m) }, timestamp: Date.UTC(2026, 0, 1, 12) + i * 1000 }));
  records.push({ valueText: "{not json", timestamp: Date.UTC(2026, 0, 1, 12) + feed.length * 1000 } as never);
  return { purchases: records };
}

const alertsExpected = [
  { key: "ann", value: { window: hour(10), purchases: 12 } },
  { key: "cat", value: { window: hour(11), purchases: 11 } },
];

async function run(cases: TPipelineTestCaseInput[], def: TPipelineDefinitionInput = fraudAlert, timeMs?: number) {
  const parsed = ZPipelineDefinition.parse(def);
  const parsedCases = ZPipelineTestCases.parse(cases);
  expect(testCaseProblems(parsed, parsedCases)).toEqual([]);
  const { problems, report } = await runPipelineTests(parsed, parsedCases, { timeMs });
  expect(problems).toEqual([]);
  return report!;
}

describe("pipeline test cases", () => {
  it("the fraud alert: exactly the expected alerts, the late purchase on the late port, the bad record a dead letter", async () => {
    const report = await run([
      {
        name: "alerts once the inputs go idle",
        inputs: purchases(),
        advanceTo: "2026-01-01T12:30:00Z",
        expected: {
          outputs: {
            alerts: alertsExpected,
            tooLate: [{ key: "ann", value: { user: "ann", at: at(10, 59) } }],
          },
          deadLetters: [{ node: "purchases", errorContains: "not JSON", value: "{not json" }],
        },
      },
      {
        // without the idle period, the last hour never closes: its alert is not there yet
        name: "no final alert without an idle period",
        inputs: purchases(),
        expected: { outputs: { alerts: alertsExpected.slice(0, 1) } },
      },
    ]);
    expect(report.cases.map((c) => [c.name, c.status, c.diff.map((d) => d.message)])).toEqual([
      ["alerts once the inputs go idle", "passed", []],
      ["no final alert without an idle period", "passed", []],
    ]);
    expect(report).toMatchObject({ passed: 2, failed: 0, incomplete: 0 });
    const first = report.cases[0];
    expect(first.read).toBe(35);
    expect(first.actual.outputs.alerts).toEqual([
      { key: "ann", value: { window: hour(10), purchases: 12 }, headers: {}, timestamp: expect.any(Number) },
      { key: "cat", value: { window: hour(11), purchases: 11 }, headers: {}, timestamp: expect.any(Number) },
    ]);
    expect(first.actual.deadLetters).toEqual([expect.objectContaining({ node: "purchases", value: "{not json" })]);
    expect(first.watermark).toBeGreaterThan(hour(11).end + MIN);
  });

  it("a failing case reads as a diff: changed records with field paths, missing and unexpected ones", async () => {
    const report = await run([
      {
        name: "wrong expectations",
        inputs: purchases(),
        advanceTo: "2026-01-01T12:30:00Z",
        expected: {
          outputs: {
            alerts: [
              alertsExpected[0],
              { key: "bob", value: { window: hour(10), purchases: 10 } }, // bob's 10 purchases are no alert
              { key: "cat", value: { window: hour(11), purchases: 12 } }, // cat made 11
            ],
            tooLate: [],
          },
          deadLetters: [],
        },
      },
    ]);
    const c = report.cases[0];
    expect(c.status).toBe("failed");
    expect(report).toMatchObject({ passed: 0, failed: 1 });
    expect(c.counts).toEqual({ missing: 1, unexpected: 2, changed: 1 });
    const changed = c.diff.find((d) => d.kind === "changed")!;
    expect(changed).toMatchObject({ list: "outputs.alerts", expectedIndex: 2, actualIndex: 1 });
    expect(changed.fields).toEqual([{ path: "value.purchases", expected: 12, actual: 11 }]);
    expect(changed.message).toBe("outputs.alerts[2] differs from the record produced (#1): value.purchases expected 12, got 11");
    expect(c.diff.find((d) => d.kind === "missing")).toMatchObject({ list: "outputs.alerts", expectedIndex: 1 });
    expect(c.diff.filter((d) => d.kind === "unexpected").map((d) => d.list)).toEqual(["outputs.tooLate", "deadLetters"]);
    expect(c.diff.find((d) => d.list === "deadLetters")!.message).toMatch(/^deadLetters: unexpected record \(#0\): .*not JSON/);
  });

  it("compares records in any order when asked, and only the fields an expected record gives", async () => {
    const counts: TPipelineTestCaseInput = {
      name: "per user",
      order: "any",
      inputs: purchases(),
      advanceTo: "2026-01-01T12:30:00Z",
      expected: { outputs: { alerts: [{ value: { window: hour(11), purchases: 11 } }, { key: "ann" }] } },
    };
    const report = await run([counts, { ...counts, name: "in order", order: "produced" }]);
    expect(report.cases.map((c) => c.status)).toEqual(["passed", "failed"]);
    // produced order: ann's alert came first; one of the two is out of place
    expect(report.cases[1].counts.missing + report.cases[1].counts.unexpected).toBeGreaterThan(0);
  });

  it("dead letters: the failing node, the error, the record; ticks close windows between records", async () => {
    const def: TPipelineDefinitionInput = {
      name: "amounts",
      nodes: [
        { id: "in", config: { kind: "source", topics: ["payments"], keyFormat: "text", idleTimeoutMs: 1000 } },
        { id: "big", config: { kind: "filter", condition: "value.amount >= 100.0" } },
        {
          id: "perMinute",
          config: {
            kind: "aggregate",
            window: { type: "tumbling", sizeMs: MIN },
            aggregations: [{ fn: "sum", of: "value.amount", as: "total" }],
            emit: "final",
          },
        },
        { id: "out", config: { kind: "sink", topic: "totals" } },
        { id: "dlq", config: { kind: "deadLetter", topic: "payments-dlq" } },
      ],
      edges: [edge("in", "big"), edge("big", "perMinute"), edge("perMinute", "out")],
    };
    const t0 = Date.UTC(2026, 0, 1, 9);
    const report = await run(
      [
        {
          name: "a tick closes the first minute before the late record",
          inputs: {
            in: [
              { key: "u1", value: { amount: 150.0 }, timestamp: t0 },
              { key: "u1", value: { user: "no amount" }, timestamp: t0 + 1000, headers: { trace: "x1" } },
              { key: "u1", value: { amount: 200.0 }, timestamp: t0 + 2000 },
              // arrives after the tick closed minute 9:00: late, dropped
              { key: "u1", value: { amount: 500.0 }, timestamp: t0 + 3000, at: t0 + 3 * MIN },
              { key: "u1", value: { amount: 120.0 }, timestamp: t0 + 3 * MIN + 1 },
            ],
          },
          ticks: [t0 + 2 * MIN],
          advanceTo: t0 + 10 * MIN,
          expected: {
            outputs: {
              out: [
                { key: "u1", value: { window: { start: t0, end: t0 + MIN }, total: 350 } },
                { key: "u1", value: { window: { start: t0 + 3 * MIN, end: t0 + 4 * MIN }, total: 120 } },
              ],
            },
            deadLetters: [
              {
                node: "big",
                errorContains: "amount",
                key: "u1",
                value: { user: "no amount" },
                headers: { trace: "x1" },
                timestamp: t0 + 1000,
              },
            ],
          },
        },
      ],
      def,
    );
    expect(report.cases[0].diff).toEqual([]);
    expect(report.cases[0].status).toBe("passed");
    expect(report.cases[0].actual.deadLetters[0].error).toMatch(/^condition: /);
  });

  it("names every way a case does not fit the pipeline by its path", () => {
    const def = ZPipelineDefinition.parse(fraudAlert);
    const cases = ZPipelineTestCases.parse([
      {
        name: "misfit",
        inputs: { nope: [], purchases: [{ value: 1, timestamp: 5, topic: "other" }] },
        advanceTo: 4,
        expected: { outputs: { perHour: [] }, deadLetters: [{ node: "ghost" }] },
      },
    ]);
    expect(testCaseProblems(def, cases)).toEqual([
      { path: [0, "inputs", "nope"], message: "no source or table node 'nope' in the pipeline" },
      { path: [0, "inputs", "purchases", 0, "topic"], message: "node 'purchases' does not read topic 'other'" },
      { path: [0, "expected", "outputs", "perHour"], message: "no sink node 'perHour' in the pipeline" },
      { path: [0, "expected", "deadLetters", 0, "node"], message: "no node 'ghost' in the pipeline" },
      { path: [0, "advanceTo"], message: "advanceTo must not be before the last input's arrival (1970-01-01T00:00:00.005Z)" },
    ]);
    const text = ZPipelineDefinition.parse({
      ...fraudAlert,
      nodes: fraudAlert.nodes.map((n) =>
        n.id === "purchases" ? { id: n.id, config: { kind: "source", topics: ["p"], valueFormat: "bytes" } } : n,
      ),
    });
    expect(
      testCaseProblems(
        text,
        ZPipelineTestCases.parse([{ name: "x", inputs: { purchases: [{ key: 7, value: "%%", timestamp: 0 }] }, expected: {} }]),
      ),
    ).toEqual([
      { path: [0, "inputs", "purchases", 0, "key"], message: "the node reads text keys: give a string" },
      { path: [0, "inputs", "purchases", 0, "value"], message: "the node reads bytes values: give them as base64" },
    ]);
  });

  it("refuses bad cases by schema, naming the field", () => {
    const bad = ZPipelineTestCases.safeParse([
      { name: "a", inputs: { s: [{ value: 1 }] }, expected: {} },
      { name: "a", inputs: {}, expected: {}, advanceTo: "yesterday" },
    ]);
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["0.inputs.s.0.timestamp", expect.stringMatching(/time/)],
      ["1.advanceTo", "a time is milliseconds since the epoch or ISO 8601 text with a zone, e.g. 2026-01-01T10:00:00Z"],
    ]);
    const twice = ZPipelineTestCases.safeParse([
      { name: "a", inputs: {}, expected: {} },
      { name: "a", inputs: {}, expected: {} },
    ]);
    expect(twice.error!.issues[0]).toMatchObject({ path: [1, "name"], message: "test name 'a' is used twice" });
    const many = ZPipelineTestCases.safeParse([
      { name: "a", inputs: { s: Array.from({ length: 1001 }, () => ({ timestamp: 0 })) }, expected: {} },
    ]);
    expect(many.error!.issues[0]).toMatchObject({ path: [0, "inputs"], message: "a test case has at most 1000 input records" });
  });

  it("stops at its time budget: the case is incomplete, the cases after it are not run", async () => {
    const def: TPipelineDefinitionInput = {
      name: "slow",
      nodes: [
        { id: "in", config: { kind: "source", topics: ["t"], valueFormat: "text" } },
        { id: "slow", config: { kind: "filter", condition: '!value.split("").all(a, value.split("").all(b, b != "q"))' } },
        { id: "out", config: { kind: "sink", topic: "o" } },
      ],
      edges: [edge("in", "slow"), edge("slow", "out")],
    };
    const inputs = { in: Array.from({ length: 1000 }, (_, i) => ({ value: `${"z".repeat(99)}${i % 10}`, timestamp: i })) };
    const report = await run(
      [
        { name: "slow one", inputs, expected: { outputs: { out: [] } } },
        { name: "never run", inputs, expected: {} },
      ],
      def,
      200,
    );
    expect(report.cases.map((c) => c.status)).toEqual(["incomplete", "incomplete"]);
    expect(report.cases[0].reason).toMatch(/^the time budget of 200 ms ran out after \d+ input records$/);
    expect(report.cases[0].read).toBeLessThan(1000);
    expect(report.cases[1]).toMatchObject({ reason: "not run: the time budget of 200 ms ran out", read: 0 });
  });
});
