import { describe, expect, it } from "vitest";
import { ZPipelineDefinition, type TPipelineDefinitionInput } from "../schemas/pipeline.ts";
import { PIPELINE_TEMPLATES } from "../schemas/pipeline-templates.ts";
import { inferRecordTypes } from "./record-types.ts";
import { Topology } from "./topology.ts";

type Nodes = TPipelineDefinitionInput["nodes"];
const edge = (from: string, to: string, fromPort = "out", toPort = "in") => ({
  from: { node: from, port: fromPort },
  to: { node: to, port: toPort },
});

/** source `in` (the formats given) → the nodes given, chained through `in`/`out` → sink `out`. */
function chain(formats: { keyFormat?: "json" | "text" | "bytes"; valueFormat?: "json" | "text" | "bytes" }, nodes: Nodes) {
  const ids = ["in", ...nodes.map((n) => n.id), "out"];
  return ZPipelineDefinition.parse({
    name: "typed",
    nodes: [
      { id: "in", config: { kind: "source", topics: ["t"], ...formats } },
      ...nodes,
      { id: "out", config: { kind: "sink", topic: "o" } },
    ],
    edges: ids.slice(1).map((id, i) => edge(ids[i], id)),
  });
}

const problemsOf = (def: ReturnType<typeof chain>) =>
  inferRecordTypes(def).problems.map((p) => [p.node, p.field, p.message.split("\n")[0]]);

describe("record types of a pipeline's ports", () => {
  it("come from the source's formats: JSON is dyn, text string, bytes bytes", () => {
    const types = (keyFormat: "json" | "text" | "bytes", valueFormat: "json" | "text" | "bytes") =>
      inferRecordTypes(chain({ keyFormat, valueFormat }, [])).outputs.get("in:out");
    expect(types("text", "json")).toEqual({ key: "string", value: "dyn" });
    expect(types("bytes", "text")).toEqual({ key: "bytes", value: "string" });
    expect(types("json", "bytes")).toEqual({ key: "dyn", value: "bytes" });
  });

  it("refuses at validation what cannot work on those types, pinned to the node and the field", () => {
    const def = chain({ keyFormat: "text", valueFormat: "text" }, [
      { id: "big", config: { kind: "filter", condition: 'value.amount > "x"' } },
      { id: "shape", config: { kind: "map", key: "key + 1", value: "value" } },
      { id: "cond", config: { kind: "filter", condition: "value" } },
    ]);
    expect(problemsOf(def)).toEqual([
      ["big", "config.condition", "Cannot index type 'string' (records here: key is string, value is string)"],
      ["shape", "config.key", "no such overload: string + int (records here: key is string, value is string)"],
      ["cond", "config.condition", "the expression must return bool, not string (records here: key is string, value is string)"],
    ]);
    // and Topology.build reports them with its other problems
    const { topology, problems } = Topology.build(def);
    expect(topology).toBeNull();
    expect(problems.map((p) => [p.node, p.field])).toEqual([
      ["big", "config.condition"],
      ["shape", "config.key"],
      ["cond", "config.condition"],
    ]);
  });

  it("lets keys and values that may be null be compared with null, and JSON values be anything", () => {
    const def = chain({ keyFormat: "text", valueFormat: "json" }, [
      { id: "keyed", config: { kind: "filter", condition: 'key != null && key.startsWith("u") && value.amount > 10' } },
      { id: "shape", config: { kind: "map", value: '{"user": value.user, "size": size(key), "at": timestamp, "h": headers["x"]}' } },
    ]);
    expect(problemsOf(def)).toEqual([]);
  });

  it("follows a map's result types to the next node", () => {
    const def = chain({ valueFormat: "json" }, [
      { id: "shape", config: { kind: "map", key: "int(value.id)", value: '{"user": value.user}' } },
      { id: "use", config: { kind: "filter", condition: 'key > 10 && value.user == "ann"' } },
      { id: "wrong", config: { kind: "filter", condition: 'key == "ann"' } },
      { id: "text", config: { kind: "map", value: "string(key)" } },
      { id: "textUse", config: { kind: "filter", condition: 'value.startsWith("1") && value.nope == 1' } },
    ]);
    const { outputs } = inferRecordTypes(def);
    expect(outputs.get("shape:out")).toMatchObject({ key: "int", value: "map<string, dyn>" });
    expect(outputs.get("text:out")).toMatchObject({ key: "int", value: "string" });
    expect(problemsOf(def).map(([node, field]) => [node, field])).toEqual([
      ["wrong", "config.condition"],
      ["textUse", "config.condition"],
    ]);
  });

  it("gives an aggregate's output a map of its results, and checks what it sums to be a number", () => {
    const def = chain({ keyFormat: "text", valueFormat: "text" }, [
      {
        id: "agg",
        config: {
          kind: "aggregate",
          window: { type: "tumbling", sizeMs: 60_000 },
          aggregations: [
            { fn: "count", as: "n" },
            { fn: "sum", of: "size(value)", as: "chars" },
            { fn: "sum", of: "value", as: "wrong" },
          ],
        },
      },
      { id: "alert", config: { kind: "filter", condition: "value.n > 10 && value.window.start >= 0" } },
    ]);
    expect(inferRecordTypes(def).outputs.get("agg:out")).toMatchObject({ key: "string", value: "map<string, dyn>" });
    expect(inferRecordTypes(def).outputs.get("agg:late")).toMatchObject({ key: "string", value: "string" });
    expect(problemsOf(def)).toEqual([
      ["agg", "config.aggregations.2.of", "the expression must return a number, not string (records here: key is string, value is string)"],
    ]);
  });

  it("types a join's sides (a side an outer join may lack as dyn) and its result", () => {
    const def = ZPipelineDefinition.parse({
      name: "joined",
      nodes: [
        { id: "orders", config: { kind: "source", topics: ["orders"], valueFormat: "json" } },
        { id: "names", config: { kind: "table", topic: "names", valueFormat: "text" } },
        { id: "j", config: { kind: "join", type: "inner", value: '{"order": left.id, "name": right.lowerAscii()}' } },
        { id: "bad", config: { kind: "join", type: "inner", value: "right.id" } },
        { id: "m", config: { kind: "merge" } },
        { id: "use", config: { kind: "filter", condition: "has(value.name)" } },
        { id: "out", config: { kind: "sink", topic: "o" } },
      ],
      edges: [
        edge("orders", "j", "out", "left"),
        edge("names", "j", "out", "right"),
        edge("orders", "bad", "out", "left"),
        edge("names", "bad", "out", "right"),
        edge("j", "m"),
        edge("bad", "m"),
        edge("m", "use"),
        edge("use", "out"),
      ],
    });
    const { outputs, problems } = inferRecordTypes(def);
    expect(problems.map((p) => [p.node, p.field])).toEqual([["bad", "config.value"]]);
    expect(outputs.get("j:out")).toMatchObject({ key: "string", value: "map<string, dyn>" });
    const outer = structuredClone(def);
    outer.nodes[3].config = { kind: "join", type: "outer", windowMs: 1000, graceMs: 0, value: "right.id" };
    expect(inferRecordTypes(outer).problems).toEqual([]);
  });

  it("passes every template", () => {
    for (const t of PIPELINE_TEMPLATES) expect(inferRecordTypes(ZPipelineDefinition.parse(t.definition)).problems, t.id).toEqual([]);
  });
});
