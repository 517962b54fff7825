import { describe, expect, it } from "vitest";
import { ZPipelineDefinition, ZPipelineNode } from "../schemas/pipeline.ts";
import { pipelineTypes, sampledFields, selectField } from "./completions.ts";

const edge = (from: string, to: string, fromPort = "out", toPort = "in") => ({
  from: { node: from, port: fromPort },
  to: { node: to, port: toPort },
});

const labels = (list: readonly { label: string }[]) => list.map((c) => c.label);

describe("what a pipeline's CEL fields complete", () => {
  it("a windowed count's results and window after an aggregate, a map literal's keys after a map", () => {
    const def = ZPipelineDefinition.parse({
      name: "fraud",
      nodes: [
        { id: "src", config: { kind: "source", topics: ["purchases"], keyFormat: "text" } },
        {
          id: "perHour",
          config: { kind: "aggregate", window: { type: "tumbling", sizeMs: 3_600_000 }, aggregations: [{ fn: "count", as: "count" }] },
        },
        { id: "overTen", config: { kind: "filter", condition: "value.count > 10" } },
        { id: "alert", config: { kind: "map", value: '{"user": key, "purchases": value.count, "at": {"hour": value.window.start}}' } },
        { id: "tail", config: { kind: "filter", condition: "true" } },
        { id: "out", config: { kind: "sink", topic: "alerts" } },
      ],
      edges: [edge("src", "perHour"), edge("perHour", "overTen"), edge("overTen", "alert"), edge("alert", "tail"), edge("tail", "out")],
    });
    const t = pipelineTypes(def);
    // the source's records: a text key, a JSON value whose fields are known only per record
    expect(t.nodes.perHour.inputs.in).toEqual({ key: "string", value: "dyn", fields: [] });
    expect(t.nodes.perHour.completions).toContainEqual({ label: "key", type: "string" });
    expect(labels(t.nodes.perHour.completions)).toEqual(["key", "value", "headers", "timestamp", "topic", "partition", "offset"]);
    // after the aggregate: its window and its count
    expect(t.nodes.overTen.completions).toEqual(
      expect.arrayContaining([
        { label: "value.window.start", type: "int" },
        { label: "value.window.end", type: "int" },
        { label: "value.count", type: "int" },
      ]),
    );
    // passed on by the filter; after the map: the literal's keys with their types (a field of a map<string, dyn> is dyn)
    expect(labels(t.nodes.alert.completions)).toContain("value.count");
    expect(t.nodes.tail.completions).toEqual(
      expect.arrayContaining([
        { label: "value.user", type: "string" },
        { label: "value.purchases", type: "dyn" },
        { label: "value.at", type: "map<string, dyn>" },
        { label: "value.at.hour", type: "dyn" },
      ]),
    );
    expect(t.nodes.alert.outputs.out.fields.map((f) => f.path)).toEqual(["user", "purchases", "at", "at.hour"]);
  });

  it("a reducer's add sees acc; a join's value sees left and right with their fields; an unfinished graph still has types", () => {
    const def = {
      nodes: [
        { id: "a", config: { kind: "source", topics: ["a"] } },
        { id: "b", config: { kind: "source", topics: ["b"] } },
        { id: "counts", config: { kind: "aggregate", aggregations: [{ fn: "reduce", init: "0", add: "acc + 1", as: "n" }] } },
        { id: "j", config: { kind: "join", type: "left", windowMs: 1000 } },
      ],
      edges: [edge("a", "counts"), edge("counts", "j", "out", "left"), edge("b", "j", "out", "right")],
    } as const;
    // not a whole pipeline (no sink): the editor asks while it is drawn
    const t = pipelineTypes({ nodes: def.nodes.map((n) => ZPipelineNode.parse(n)), edges: [...def.edges] });
    expect(labels(t.nodes.counts.expressions["aggregations.0.add"])).toContain("acc");
    expect(t.nodes.counts.expressions["aggregations.0.init"]).toBeUndefined();
    const join = t.nodes.j.expressions.value;
    expect(join).toEqual(
      expect.arrayContaining([
        { label: "left.n", type: "int" },
        { label: "right", type: "dyn" },
      ]),
    );
    // a left join's right side may be missing: dyn; the default value is {left, right}
    expect(t.nodes.j.outputs.out.fields.map((f) => f.path)).toEqual(["left", "left.n", "right"]);
  });

  it("the fields of sampled records arriving at a node, each with the JSON type seen", () => {
    const fields = sampledFields([edge("src", "f")], {
      src: {
        records: [
          { port: "out", key: "ann", value: { user: "ann", amount: 3, "odd key": true, card: { last4: "1234" } }, headers: { trace: "x" } },
          { port: "out", key: "bob", value: { user: "bob", amount: 2.5 }, headers: {} },
          { port: "late", key: null, value: { ignored: 1 }, headers: {} },
        ],
      },
      f: { records: [] },
    });
    expect(fields.f).toEqual([
      { label: "headers.trace", type: "string" },
      { label: "value.amount", type: "dyn" },
      { label: "value.card", type: "map" },
      { label: "value.card.last4", type: "string" },
      { label: "value.user", type: "string" },
      { label: 'value["odd key"]', type: "bool" },
    ]);
    expect(selectField("value", "a-b")).toBe('value["a-b"]');
    expect(selectField("value", "_a1")).toBe("value._a1");
  });
});
