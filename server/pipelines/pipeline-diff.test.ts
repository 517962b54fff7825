import { describe, expect, it } from "vitest";
import { ZPipelineDefinition, type TPipelineDefinitionInput } from "../schemas/pipeline.ts";
import { canonicalJson, changedStatefulNodes, diffPipelines, fieldChanges, versionNotes } from "./pipeline-diff.ts";

const edge = (from: string, to: string, fromPort = "out", toPort = "in") => ({
  from: { node: from, port: fromPort },
  to: { node: to, port: toPort },
});

/** The seed's fraud alert, as stored (defaults filled). */
function fraudAlert(threshold = 10): TPipelineDefinitionInput {
  return {
    name: "fraud-alert",
    nodes: [
      { id: "purchases", position: { x: 0, y: 0 }, config: { kind: "source", topics: ["purchases"], eventTime: "timestamp(value.at)" } },
      { id: "byUser", position: { x: 200, y: 0 }, config: { kind: "selectKey", key: "value.user" } },
      {
        id: "perHour",
        position: { x: 400, y: 0 },
        config: {
          kind: "aggregate",
          window: { type: "tumbling", sizeMs: 3_600_000, graceMs: 60_000 },
          aggregations: [{ fn: "count", as: "purchases" }],
          emit: "final",
        },
      },
      { id: "overTen", position: { x: 600, y: 0 }, config: { kind: "filter", condition: `value.purchases > ${threshold}` } },
      { id: "alerts", position: { x: 800, y: 0 }, config: { kind: "sink", topic: "fraud-alerts" } },
    ],
    edges: [edge("purchases", "byUser"), edge("byUser", "perHour"), edge("perHour", "overTen"), edge("overTen", "alerts")],
  };
}
const stored = (d: TPipelineDefinitionInput) => ZPipelineDefinition.parse(d);
const refs = { from: 1, to: 2 } as const;

describe("pipeline diff", () => {
  it("finds nothing between a definition and itself, and says so", () => {
    const d = diffPipelines(stored(fraudAlert()), stored(fraudAlert()), refs);
    expect(d).toMatchObject({ identical: true, summary: "no change", statefulChanged: [], pipeline: [] });
    expect(d.nodes).toEqual({ added: [], removed: [], changed: [], moved: [] });
    expect(d.edges).toEqual({ added: [], removed: [] });
  });

  it("names the changed field of a changed node with its value before and after", () => {
    const d = diffPipelines(stored(fraudAlert(10)), stored(fraudAlert(20)), refs);
    expect(d.identical).toBe(false);
    expect(d.nodes.changed).toEqual([
      {
        id: "overTen",
        kind: "filter",
        fields: [{ path: "config.condition", before: "value.purchases > 10", after: "value.purchases > 20" }],
      },
    ]);
    expect(d.statefulChanged).toEqual([]); // a filter keeps no state: no reset needed
    expect(d.summary).toBe("changed overTen");
  });

  it("walks into nested configs and arrays of objects; arrays of values change as a whole", () => {
    const a = stored(fraudAlert());
    const b = structuredClone(a);
    const agg = b.nodes[2].config;
    if (agg.kind !== "aggregate" || agg.window?.type !== "tumbling") throw new Error("fixture");
    agg.window.sizeMs = 1_800_000;
    agg.aggregations.push({ fn: "sum", of: "value.amount", as: "total" });
    const src = b.nodes[0].config;
    if (src.kind !== "source") throw new Error("fixture");
    src.topics = ["purchases", "refunds"];
    const d = diffPipelines(a, b, refs);
    expect(d.nodes.changed).toEqual([
      {
        id: "purchases",
        kind: "source",
        fields: [{ path: "config.topics", before: ["purchases"], after: ["purchases", "refunds"] }],
      },
      {
        id: "perHour",
        kind: "aggregate",
        fields: [
          { path: "config.window.sizeMs", before: 3_600_000, after: 1_800_000 },
          { path: "config.aggregations[1]", after: { fn: "sum", of: "value.amount", as: "total" } },
        ],
      },
    ]);
    // the aggregate keeps state per window: deploying this needs a state reset, as the manager decides
    expect(d.statefulChanged).toEqual(["perHour"]);
  });

  it("lists nodes added and removed with their configs, and edges by their two ports", () => {
    const a = stored(fraudAlert());
    const b = structuredClone(a);
    b.nodes = b.nodes.filter((n) => n.id !== "byUser");
    b.nodes.push({ id: "dedupe", config: { kind: "dedupe", windowMs: 60_000 } });
    b.edges = [edge("purchases", "dedupe"), edge("dedupe", "perHour"), edge("perHour", "overTen"), edge("overTen", "alerts")];
    const d = diffPipelines(a, b, refs);
    expect(d.nodes.added).toEqual([{ id: "dedupe", kind: "dedupe", config: { kind: "dedupe", windowMs: 60_000 } }]);
    expect(d.nodes.removed).toEqual([{ id: "byUser", kind: "selectKey", config: { kind: "selectKey", key: "value.user" } }]);
    expect(d.nodes.changed).toEqual([]);
    expect(d.edges.added).toEqual([edge("purchases", "dedupe"), edge("dedupe", "perHour")]);
    expect(d.edges.removed).toEqual([edge("purchases", "byUser"), edge("byUser", "perHour")]);
    expect(d.summary).toBe("added dedupe; removed byUser; +2 edges, −2 edges");
  });

  it("a node only moved on the canvas is no change to how the pipeline runs", () => {
    const a = stored(fraudAlert());
    const b = structuredClone(a);
    b.nodes[3].position = { x: 650, y: 40 };
    b.nodes[3].label = "more than ten";
    const moved = diffPipelines(a, { ...b, nodes: b.nodes.map((n, i) => (i === 3 ? { ...n, label: undefined } : n)) }, refs);
    expect(moved).toMatchObject({ identical: true, summary: "nodes moved only", nodes: { moved: ["overTen"], changed: [] } });
    const relabelled = diffPipelines(a, b, refs);
    expect(relabelled.nodes.changed).toEqual([
      { id: "overTen", kind: "filter", label: "more than ten", fields: [{ path: "label", after: "more than ten" }] },
    ]);
    expect(relabelled.nodes.moved).toEqual([]);
  });

  it("a kind changed under the same id shows as the config's kind and fields", () => {
    const a = stored(fraudAlert());
    const b = structuredClone(a);
    b.nodes[1].config = { kind: "map", key: "value.user" };
    expect(diffPipelines(a, b, refs).nodes.changed[0]).toEqual({
      id: "byUser",
      kind: "map",
      fields: [{ path: "config.kind", before: "selectKey", after: "map" }],
    });
  });

  it("reads a draft with defaults left out as the version it was deployed as, and an unfinished draft without failing", () => {
    const draft = fraudAlert(); // no start, formats, settings: the stored version has them filled
    expect(diffPipelines(stored(fraudAlert()), draft, { from: 1, to: "draft" }).identical).toBe(true);
    const unfinished = { name: "fraud-alert", nodes: [{ id: "purchases", config: { kind: "source" } }, { nope: 1 }, "x"], edges: [{}] };
    const d = diffPipelines(stored(fraudAlert()), unfinished, { from: 1, to: "draft" });
    expect(d.nodes.removed.map((n) => n.id)).toEqual(["byUser", "perHour", "overTen", "alerts"]);
    expect(d.nodes.added.map((n) => n.id)).toEqual(["nodes[1]"]);
    expect(d.nodes.changed.map((c) => c.id)).toEqual(["purchases"]);
    expect(d.edges.removed).toHaveLength(4);
    expect(diffPipelines(null, 42, refs).identical).toBe(true);
  });

  it("the pipeline's own fields: description and settings", () => {
    const a = stored(fraudAlert());
    const b = stored({ ...fraudAlert(), description: "alerts", settings: { commitIntervalMs: 500 } });
    expect(diffPipelines(a, b, refs).pipeline).toEqual([
      { path: "description", after: "alerts" },
      { path: "settings.commitIntervalMs", before: 100, after: 500 },
    ]);
  });

  it("notes each version: the first deploy, what changed since the one before, a rollback", () => {
    const v1 = stored(fraudAlert(10));
    const v2 = stored(fraudAlert(20));
    const v3 = structuredClone(v1);
    v3.nodes[0].position = { x: 5, y: 5 }; // moved since: still v1
    const notes = versionNotes([
      { version: 1, definition: v1 },
      { version: 2, definition: v2 },
      { version: 3, definition: v3 },
      { version: 4, definition: v3 },
    ]);
    expect([...notes]).toEqual([
      [1, "first deploy"],
      [2, "changed overTen"],
      [3, "rollback to v1"],
      [4, "no change"],
    ]);
  });

  it("the stateful nodes a deploy must reset: by value, whatever order jsonb gave the keys back in", () => {
    const v1 = stored(fraudAlert(10));
    const fromJsonb = JSON.parse(canonicalJson(v1)) as unknown; // keys reordered, as PostgreSQL's jsonb returns them
    expect(JSON.stringify(fromJsonb)).not.toBe(JSON.stringify(v1));
    expect(changedStatefulNodes(fromJsonb, stored(fraudAlert(20)))).toEqual([]);
    const wider = stored(fraudAlert(10));
    const agg = wider.nodes[2].config;
    if (agg.kind !== "aggregate" || !agg.window) throw new Error("fixture");
    agg.window.graceMs = 120_000;
    wider.nodes[2].label = "renamed";
    expect(changedStatefulNodes(fromJsonb, wider)).toEqual(["perHour"]);
  });

  it("compares values, not key order", () => {
    expect(canonicalJson({ b: 1, a: [{ y: 2, x: 1 }], u: undefined })).toBe('{"a":[{"x":1,"y":2}],"b":1}');
    expect(fieldChanges({ a: 1, b: 2 }, { b: 2, a: 1 })).toEqual([]);
    expect(fieldChanges(1, { a: 1 }, "x")).toEqual([{ path: "x", before: 1, after: { a: 1 } }]);
  });
});
