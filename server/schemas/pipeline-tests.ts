/**
 * Pipeline test cases (issue #15), as a pipeline carries them (`tests` of its definition) and
 * as `POST /api/v1/pipelines/{name}/test` takes them: input records per source (or table) node
 * with timestamps, optional wall-clock ticks and a final `advanceTo`, and the records expected
 * at each sink (and at the dead letters). The engine runs each case in memory
 * (`server/stream/runtime/test-run.ts`) and answers pass/fail per case with a diff.
 *
 * Values are JSON-friendly: an input's `key` / `value` are what the node's format decodes to (a
 * JSON source: any JSON; text: a string; bytes: base64), or `keyText` / `valueText` give the
 * bytes on the topic as UTF-8 text, decoded by the node's format as the running pipeline would
 * (so `"{not json"` reaches the dead letters). An expected record compares only the fields it
 * gives. This file imports nothing from `pipeline.ts` (which imports it for `tests`): node ids
 * are checked against the pipeline when a case runs.
 */
import { z } from "zod";
import { zSafeString } from "./common.ts";

/** Bounds of the test cases of one pipeline (or one test request). */
export const PIPELINE_TEST_LIMITS = {
  cases: 50,
  /** input records of one case, over all its nodes */
  inputsPerCase: 1000,
  /** expected records of one case, over its sinks and dead letters */
  expectedPerCase: 1000,
  ticksPerCase: 100,
  headersPerRecord: 64,
  /** the cases as JSON text */
  bytes: 512 * 1024,
} as const;

const TIME_TEXT = "a time is milliseconds since the epoch or ISO 8601 text with a zone, e.g. 2026-01-01T10:00:00Z";

/** ms since the epoch, or ISO 8601 text with a zone ("2026-01-01T10:00:00Z"). */
export const ZTestTime = z.union(
  [z.number().int(TIME_TEXT).min(0, TIME_TEXT).max(8.64e15, TIME_TEXT), z.iso.datetime({ offset: true, error: TIME_TEXT })],
  { error: TIME_TEXT },
);
export type TTestTime = z.infer<typeof ZTestTime>;

/** A time of a test case in ms since the epoch. */
export function testTimeMs(t: TTestTime): number {
  return typeof t === "number" ? t : Date.parse(t);
}

const ZNodeRef = zSafeString("node id", { min: 1, max: 64 });

const ZHeaders = z
  .record(zSafeString("header key", { min: 1, max: 256 }), z.string().max(64 * 1024))
  .refine((h) => Object.keys(h).length <= PIPELINE_TEST_LIMITS.headersPerRecord, {
    message: `at most ${PIPELINE_TEST_LIMITS.headersPerRecord} headers`,
  });

const onlyOne = (a: "key" | "value") => ({
  message: `give either ${a} or ${a}Text, not both`,
  path: [`${a}Text`],
});

export const ZTestInputRecord = z
  .object({
    key: z
      .unknown()
      .optional()
      .describe("the key as the node's key format decodes it (JSON; text: a string; bytes: base64); null by default"),
    keyText: z
      .string()
      .max(1 << 20)
      .optional()
      .describe("the key's bytes as UTF-8 text, decoded by the node's key format"),
    value: z.unknown().optional().describe("the value as the node's value format decodes it (JSON; text: a string; bytes: base64)"),
    valueText: z
      .string()
      .max(1 << 20)
      .optional()
      .describe("the value's bytes as UTF-8 text, decoded by the node's value format"),
    headers: ZHeaders.optional(),
    timestamp: ZTestTime.describe("the record's timestamp (its event time unless the source has an eventTime expression)"),
    at: ZTestTime.optional().describe("wall-clock time the record arrives (default: its timestamp); records arrive in this order"),
    partition: z.number().int().min(0).max(999).default(0),
    topic: zSafeString("topic", { min: 1, max: 249 }).optional().describe("one of the source's topics (default: its first)"),
  })
  .strict()
  .refine((r) => r.key === undefined || r.keyText === undefined, onlyOne("key"))
  .refine((r) => r.value === undefined || r.valueText === undefined, onlyOne("value"));
export type TTestInputRecord = z.infer<typeof ZTestInputRecord>;

/** A record expected at a sink: only the fields given are compared (key, value as JSON; headers whole). */
export const ZExpectedRecord = z
  .object({
    key: z.unknown().optional(),
    value: z.unknown().optional(),
    headers: ZHeaders.optional(),
    timestamp: ZTestTime.optional(),
  })
  .strict();
export type TExpectedRecord = z.infer<typeof ZExpectedRecord>;

/** A record expected at the dead letters: the node that failed, part of the error, the record. */
export const ZExpectedDeadLetter = ZExpectedRecord.extend({
  node: ZNodeRef.optional(),
  errorContains: z.string().min(1).max(1000).optional(),
}).strict();
export type TExpectedDeadLetter = z.infer<typeof ZExpectedDeadLetter>;

export const ZPipelineTestCase = z
  .object({
    name: zSafeString("test name", { min: 1, max: 200 }),
    description: zSafeString("description", { max: 2000, text: true }).optional(),
    /** per source (or table) node id: its records; all of them arrive in the order of `at` (default: timestamp) */
    inputs: z.record(ZNodeRef, z.array(ZTestInputRecord)),
    /** wall-clock moments at which time advances without a record (idle inputs), merged with the arrivals */
    ticks: z.array(ZTestTime).max(PIPELINE_TEST_LIMITS.ticksPerCase).optional(),
    /** the wall clock after the last input: idle inputs let windows close and emit */
    advanceTo: ZTestTime.optional(),
    expected: z
      .object({
        /** per sink node id; a sink not named here is not checked (name it with [] to expect nothing) */
        outputs: z.record(ZNodeRef, z.array(ZExpectedRecord)).default({}),
        /** absent: not checked; [] expects none */
        deadLetters: z.array(ZExpectedDeadLetter).optional(),
      })
      .strict(),
    /** "produced": each sink's records in the order produced (one task's order is deterministic); "any": as a multiset */
    order: z.enum(["produced", "any"]).default("produced"),
  })
  .strict()
  .superRefine((c, ctx) => {
    const inputs = Object.values(c.inputs).reduce((n, rs) => n + rs.length, 0);
    if (inputs > PIPELINE_TEST_LIMITS.inputsPerCase)
      ctx.addIssue({
        code: "custom",
        message: `a test case has at most ${PIPELINE_TEST_LIMITS.inputsPerCase} input records`,
        path: ["inputs"],
      });
    const expected = Object.values(c.expected.outputs).reduce((n, rs) => n + rs.length, 0) + (c.expected.deadLetters?.length ?? 0);
    if (expected > PIPELINE_TEST_LIMITS.expectedPerCase)
      ctx.addIssue({
        code: "custom",
        message: `a test case expects at most ${PIPELINE_TEST_LIMITS.expectedPerCase} records`,
        path: ["expected"],
      });
  });
export type TPipelineTestCase = z.infer<typeof ZPipelineTestCase>;
export type TPipelineTestCaseInput = z.input<typeof ZPipelineTestCase>;

/** The checks over all the cases of a pipeline or request: names unique, the JSON text (`bytes` long) bounded. */
export function casesIssues(cases: readonly TPipelineTestCase[], bytes: number): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const seen = new Set<string>();
  cases.forEach((c, i) => {
    if (seen.has(c.name)) issues.push({ message: `test name '${c.name}' is used twice`, path: [i, "name"] });
    seen.add(c.name);
  });
  if (bytes > PIPELINE_TEST_LIMITS.bytes)
    issues.push({ message: `test cases take at most ${PIPELINE_TEST_LIMITS.bytes} bytes of JSON (${bytes})`, path: [] });
  return issues;
}

const tooManyCases = `at most ${PIPELINE_TEST_LIMITS.cases} test cases`;

export const ZPipelineTestCases = z
  .array(ZPipelineTestCase)
  .max(PIPELINE_TEST_LIMITS.cases, tooManyCases)
  .superRefine((cases, ctx) => {
    for (const issue of casesIssues(cases, JSON.stringify(cases).length)) ctx.addIssue({ code: "custom", ...issue });
  })
  .meta({ id: "PipelineTestCases" });

export const ZPipelineTestRequest = z
  .object({
    cases: ZPipelineTestCases.optional().describe("the cases to run (default: the tests saved in the draft)"),
    definition: z.unknown().optional().describe("an unsaved PipelineDefinition to test instead of the stored draft"),
  })
  .strict()
  .meta({ id: "PipelineTestRequest" });
export type TPipelineTestRequest = z.infer<typeof ZPipelineTestRequest>;

/**
 * A test request's body as it is first read: the same fields, each case left to be checked on
 * its own with `ZPipelineTestCase` and then `casesIssues` (up to half a megabyte of cases is
 * checked in slices, giving the event loop back between them). The API document shows
 * `ZPipelineTestRequest`.
 */
export const ZPipelineTestRequestBody = z
  .object({ cases: z.array(z.unknown()).max(PIPELINE_TEST_LIMITS.cases, tooManyCases).optional(), definition: z.unknown().optional() })
  .strict();
export type TPipelineTestRequestBody = z.infer<typeof ZPipelineTestRequestBody>;

const ZActualRecord = z.object({
  key: z.unknown(),
  value: z.unknown(),
  headers: z.record(z.string(), z.string()),
  timestamp: z.number(),
});
export type TActualRecord = z.infer<typeof ZActualRecord>;

const ZActualDeadLetter = ZActualRecord.extend({ node: z.string(), error: z.string() });
export type TActualDeadLetter = z.infer<typeof ZActualDeadLetter>;

export const ZTestDiffEntry = z.object({
  kind: z.enum(["missing", "unexpected", "changed"]),
  /** "outputs.<sink>" or "deadLetters" */
  list: z.string(),
  expectedIndex: z.number().int().optional(),
  actualIndex: z.number().int().optional(),
  expected: z.unknown().optional(),
  actual: z.unknown().optional(),
  /** changed: each differing field by path (value.purchases, headers.kind, key) */
  fields: z.array(z.object({ path: z.string(), expected: z.unknown().optional(), actual: z.unknown().optional() })).optional(),
  message: z.string(),
});
export type TTestDiffEntry = z.infer<typeof ZTestDiffEntry>;

export const ZPipelineTestCaseResult = z.object({
  name: z.string(),
  /** incomplete: the run stopped (time budget, output bound) before the case could be judged */
  status: z.enum(["passed", "failed", "incomplete"]),
  reason: z.string().optional(),
  /** input records run */
  read: z.number().int(),
  watermark: z.number().nullable(),
  counts: z.object({ missing: z.number().int(), unexpected: z.number().int(), changed: z.number().int() }),
  diff: z.array(ZTestDiffEntry),
  diffTruncated: z.boolean(),
  /** what the run produced (the first records per sink), to read or to copy into `expected` */
  actual: z.object({
    outputs: z.record(z.string(), z.array(ZActualRecord)),
    deadLetters: z.array(ZActualDeadLetter),
    truncated: z.boolean(),
  }),
});
export type TPipelineTestCaseResult = z.infer<typeof ZPipelineTestCaseResult>;

export const ZPipelineTestReport = z
  .object({
    passed: z.number().int(),
    failed: z.number().int(),
    incomplete: z.number().int(),
    cases: z.array(ZPipelineTestCaseResult),
  })
  .meta({ id: "PipelineTestReport" });
export type TPipelineTestReport = z.infer<typeof ZPipelineTestReport>;
