import { describe, expect, it } from "vitest";
import { ZPipelineDefinition } from "../../server/schemas/pipeline.ts";
import { pipelineTemplate } from "../../server/schemas/pipeline-templates.ts";
import { ZPipelineTestCase } from "../../server/schemas/pipeline-tests.ts";
import { runPipelineTests } from "../../server/stream/runtime/test-run.ts";
import { ApiRequestError } from "../hooks/api.ts";
import { docFrom, type TPreview } from "./editor-store.ts";
import { caseFromPreview, expectActual, freeCaseName, refusedAt } from "./tests-model.ts";

const T0 = Date.parse("2026-03-01T10:00:00Z");
const origin = (offset: number, partition = 0) => ({ topic: "orders", partition, offset });

/** A preview of the filter→map template as the server answers it: three orders read, two large ones out. */
function preview(): TPreview {
  const orders = [
    { id: "a", amount: 50 },
    { id: "b", amount: 150.5 },
    { id: "c", amount: 300 },
  ].map((v, i) => ({ port: "out", key: v.id, value: v, headers: {}, timestamp: T0 + i * 1000, origin: origin(i, i % 2) }));
  const out = orders.slice(1).map((r) => ({ ...r, port: "in", value: { order: r.value.id, amount: r.value.amount } }));
  const node = (received: number, emitted: number, records: TPreview["nodes"][string]["records"]) => ({
    received,
    emitted,
    failed: 0,
    records,
    errors: [],
  });
  return {
    read: 3,
    truncated: false,
    watermark: T0 + 2000,
    nodes: { orders: node(3, 3, orders), large: node(3, 2, []), summary: node(2, 2, []), largeOrders: node(2, 0, out) },
    edges: {},
    fields: {},
    problems: [],
  };
}

const doc = () => docFrom(structuredClone(pipelineTemplate("filter-map")!.definition), "fm");

describe("test cases from a preview", () => {
  it("takes the sources' records as inputs and the sinks' as expected: the engine passes the case", async () => {
    const { testCase, cut } = caseFromPreview(doc(), preview(), "from preview", T0 + 60_000);
    expect(cut).toEqual([]);
    expect(testCase.inputs.orders).toHaveLength(3);
    expect(testCase.inputs.orders[1]).toMatchObject({
      key: "b",
      value: { id: "b", amount: 150.5 },
      timestamp: "2026-03-01T10:00:01.000Z",
      partition: 1,
    });
    expect(testCase.expected.outputs).toEqual({
      largeOrders: [
        { key: "b", value: { order: "b", amount: 150.5 } },
        { key: "c", value: { order: "c", amount: 300 } },
      ],
    });
    const def = ZPipelineDefinition.parse(doc());
    const c = ZPipelineTestCase.parse(testCase);
    const { report } = await runPipelineTests(def, [c]);
    expect(report!.cases[0]).toMatchObject({ status: "passed", read: 3 });

    // an edited expectation fails, and taking what came makes it pass again
    const edited = structuredClone(testCase);
    edited.expected.outputs!.largeOrders[0].value = { order: "b", amount: 999 };
    const failed = (await runPipelineTests(def, [ZPipelineTestCase.parse(edited)])).report!.cases[0];
    expect(failed.status).toBe("failed");
    expect(failed.diff[0].fields).toEqual([{ path: "value.amount", expected: 999, actual: 150.5 }]);
    const accepted = ZPipelineTestCase.parse(expectActual(edited, failed));
    expect((await runPipelineTests(def, [accepted])).report!.cases[0].status).toBe("passed");
  });

  it("says which nodes the preview showed only in part", () => {
    const p = preview();
    p.nodes.orders.emitted = 120;
    expect(caseFromPreview(doc(), p, "x", T0).cut).toEqual(["orders"]);
  });

  it("names cases apart and finds the case a refusal points at", () => {
    expect(freeCaseName([{ name: "case" }, { name: "case 2" }], "case")).toBe("case 3");
    const e = new ApiRequestError(400, "VALIDATION_FAILED", "invalid definition.tests.2.inputs.x: no source", {
      field: "definition.tests.2.inputs.x",
    });
    expect(refusedAt(e, "all")).toEqual({ field: "definition.tests.2.inputs.x", caseIndex: 2 });
    const one = new ApiRequestError(400, "VALIDATION_FAILED", "invalid body.cases.0.inputs.x", { field: "cases.0.inputs.x" });
    expect(refusedAt(one, 4)).toEqual({ field: "cases.0.inputs.x", caseIndex: 4 });
    const problems = new ApiRequestError(400, "INVALID_PIPELINE", "the draft does not validate", {
      problems: [{ field: "tests.1.expected", message: "x" }],
    });
    expect(refusedAt(problems, "all")).toEqual({ field: "tests.1.expected", caseIndex: 1 });
  });
});
