import { z } from "zod";
import {
  ZPipelineTestCase,
  casesIssues,
  type TPipelineTestCase,
  type TPipelineTestReport,
  type TPipelineTestRequest,
  type TPipelineTestRequestBody,
} from "../schemas/pipeline-tests.ts";
import { validationError } from "./http.ts";
import { getPipelines } from "./registry.ts";

/** Checks each case in turn, giving the event loop back every 20 ms: a body of many records stalls no other request. */
async function checkCases(raw: readonly unknown[]): Promise<TPipelineTestCase[]> {
  const cases: TPipelineTestCase[] = [];
  const refuse = (issues: { path: PropertyKey[]; message: string }[]) =>
    validationError(new z.ZodError(issues.map((i) => ({ code: "custom", input: undefined, ...i, path: ["cases", ...i.path] }))), "body");
  let bytes = 0;
  let slice = performance.now();
  for (const [i, c] of raw.entries()) {
    if (performance.now() - slice > 20) {
      await new Promise((r) => setImmediate(r));
      slice = performance.now();
    }
    const parsed = ZPipelineTestCase.safeParse(c);
    if (!parsed.success) throw refuse(parsed.error.issues.map((x) => ({ path: [i, ...x.path], message: x.message })));
    bytes += JSON.stringify(c).length;
    cases.push(parsed.data);
  }
  const issues = casesIssues(cases, bytes);
  if (issues.length > 0) throw refuse(issues);
  return cases;
}

/** Runs test cases (sent, or saved in the draft) against the draft in memory: pass/fail per case with a diff. */
export async function testPipeline(name: string, body: TPipelineTestRequestBody): Promise<TPipelineTestReport> {
  const request: TPipelineTestRequest = { definition: body.definition, cases: body.cases && (await checkCases(body.cases)) };
  return getPipelines().test(name, request);
}
