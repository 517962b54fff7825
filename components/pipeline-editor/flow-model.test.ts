import { describe, expect, it } from "vitest";
import type { TNodeMetrics, TPipelineMetrics } from "../../server/schemas/pipeline.ts";
import { pipelineTemplate } from "../../server/schemas/pipeline-templates.ts";
import { docFrom, editorReducer, initialState, type EditorState } from "./editor-store.ts";
import { FlowModel } from "./flow-model.ts";

const fraud = () => initialState(docFrom(structuredClone(pipelineTemplate("fraud-alert")!.definition), "fraud"));

const node = (recordsIn: number, recordsOut: number, extra: Partial<TNodeMetrics> = {}): TNodeMetrics => ({
  kind: "x",
  recordsIn,
  recordsOut,
  recordsInPerSec: 0,
  recordsOutPerSec: 0,
  errors: 0,
  errorsPerSec: 0,
  late: 0,
  in: {},
  out: { out: { records: recordsOut, perSec: recordsOut / 5 } },
  watermark: null,
  lag: null,
  stores: [],
  ...extra,
});

function metrics(read: number, error: TPipelineMetrics["error"] = null): TPipelineMetrics {
  return {
    name: "fraud",
    state: error ? "failed" : "running",
    version: 1,
    error,
    at: 0,
    running: true,
    totals: { recordsIn: read, recordsOut: 0, recordsInPerSec: 0, recordsOutPerSec: 0, errors: 0, late: 0, lag: 7, tasks: 1 },
    nodes: { purchases: node(read, read, { watermark: 1000, lag: 7 }), perHour: node(read, 2, { late: 3 }) },
    tasks: [
      {
        partition: 0,
        thread: null,
        recordsIn: read,
        recordsInPerSec: 0,
        commits: 1,
        commitLatencyMs: null,
        lag: 7,
        inputs: [{ topic: "purchases", partition: 0, position: read, end: read + 7, lag: 7 }],
        watermark: 1000,
        stores: [],
        failures: 0,
        lastError: null,
      },
    ],
  };
}

const withMetrics = (s: EditorState, m: TPipelineMetrics | null) => editorReducer(s, { type: "metrics", metrics: m });

describe("the running view on the canvas", () => {
  it("counts on edges what the upstream port emitted, with its rate", () => {
    const model = new FlowModel();
    const s = withMetrics(fraud(), metrics(40));
    const edges = model.flowEdges(s);
    expect(edges.find((e) => e.id === "purchases:out->byUser:in")?.data).toMatchObject({ count: 40, perSec: 8 });
    expect(edges.find((e) => e.id === "byUser:out->perHour:in")?.data).toMatchObject({ count: 0, perSec: 0 });
    expect(model.flowEdges(withMetrics(s, null)).every((e) => e.data?.count === null && e.data.perSec === null)).toBe(true);
  });

  it("gives sources their lag (as the server measured it) and watermark, badges late records, pins a failure to its node", () => {
    const model = new FlowModel();
    const nodes = model.flowNodes(withMetrics(fraud(), metrics(40, { message: "topic fraud-alerts was deleted", node: "fraudAlerts" })));
    const data = (id: string) => nodes.find((n) => n.id === id)!.data;
    expect(data("purchases").live).toMatchObject({ lag: 7, watermark: 1000, failure: null });
    expect(data("perHour").live).toMatchObject({ late: 3, lag: null });
    expect(data("fraudAlerts").live?.failure).toBe("topic fraud-alerts was deleted");
  });

  it("a new reading re-creates only the nodes whose figures changed", () => {
    const model = new FlowModel();
    const s1 = withMetrics(fraud(), metrics(40));
    const first = model.flowNodes(s1);
    const m2 = metrics(40);
    m2.nodes.perHour = node(40, 3, { late: 3 });
    const second = model.flowNodes(withMetrics(s1, m2));
    const changed = second.filter((n, i) => n !== first[i]).map((n) => n.id);
    expect(changed).toEqual(["perHour"]);
  });
});
