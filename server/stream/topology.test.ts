import { describe, expect, it } from "vitest";
import { ZPipelineDefinition, type TPipelineDefinitionInput } from "../schemas/pipeline.ts";
import { encode, type StreamRecord } from "./record.ts";
import { Topology } from "./topology.ts";

function build(def: TPipelineDefinitionInput) {
  return Topology.build(ZPipelineDefinition.parse(def));
}

function rec(value: unknown, offset = 0, key: unknown = null): StreamRecord {
  return { key, value, headers: {}, timestamp: 1_000 + offset, origin: { topic: "in", partition: 0, offset } };
}

const edge = (from: string, to: string, fromPort = "out", toPort = "in") => ({
  from: { node: from, port: fromPort },
  to: { node: to, port: toPort },
});

const filterMap: TPipelineDefinitionInput = {
  name: "filter-map",
  nodes: [
    { id: "in", config: { kind: "source", topics: ["payments"] } },
    { id: "big", config: { kind: "filter", condition: "value.amount >= 100.0" } },
    {
      id: "shape",
      config: {
        kind: "map",
        key: "value.user",
        value: '{"user": value.user, "cents": int(value.amount * 100.0), "at": timestamp}',
        headers: '{"source": topic}',
      },
    },
    { id: "out", config: { kind: "sink", topic: "big-payments" } },
    { id: "dlq", config: { kind: "deadLetter", topic: "payments-dlq" } },
  ],
  edges: [edge("in", "big"), edge("big", "shape"), edge("shape", "out")],
};

describe("a stateless topology", () => {
  it("filters and maps records into the sink, key, value and headers from CEL", () => {
    const { topology, problems } = build(filterMap);
    expect(problems).toEqual([]);
    topology!.process("in", rec({ user: "ann", amount: 250.5 }, 7));
    topology!.process("in", rec({ user: "bob", amount: 20 }, 8));
    const { outputs, deadLetters } = topology!.drain();
    expect(deadLetters).toEqual([]);
    expect(outputs).toHaveLength(1);
    const o = outputs[0];
    expect(o).toMatchObject({ node: "out", topic: "big-payments", partitionByKey: true });
    expect(o.record.key).toBe("ann");
    expect(o.record.headers).toEqual({ source: "in" });
    expect(new TextDecoder().decode(encode(o.record.value)!)).toBe('{"user":"ann","cents":25050,"at":"1970-01-01T00:00:01.007Z"}');
    expect(o.record.origin).toEqual({ topic: "in", partition: 0, offset: 7 });
    expect(topology!.drain().outputs).toEqual([]);
  });

  it("sends a record its expression fails on to the dead letters, with the node and the error, and goes on", () => {
    const { topology } = build(filterMap);
    topology!.process("in", rec({ user: "ann" }, 1)); // no amount
    topology!.process("in", rec("not an object", 2));
    topology!.process("in", rec({ user: "cat", amount: 100 }, 3));
    const { outputs, deadLetters } = topology!.drain();
    expect(outputs.map((o) => o.record.key)).toEqual(["cat"]);
    expect(deadLetters.map((d) => [d.node, d.record.origin.offset])).toEqual([
      ["big", 1],
      ["big", 2],
    ]);
    expect(deadLetters[0].error).toMatch(/^condition: .*amount/);
  });

  it("refuses expressions that do not compile or return the wrong type, each pinned to its node and field", () => {
    const def = structuredClone(filterMap);
    def.nodes[1] = { id: "big", config: { kind: "filter", condition: "value.amount >" } };
    def.nodes[2] = { id: "shape", config: { kind: "map", value: "value", headers: "42" } };
    const { topology, problems } = build(def);
    expect(topology).toBeNull();
    expect(problems.map((p) => [p.node, p.field])).toEqual([
      ["big", "config.condition"],
      ["shape", "config.headers"],
    ]);
  });

  it("a filter whose condition is not a bool on a record dead-letters that record", () => {
    const def = structuredClone(filterMap);
    def.nodes[1] = { id: "big", config: { kind: "filter", condition: "value.flag" } };
    const { topology } = build(def);
    topology!.process("in", rec({ flag: "yes" }));
    topology!.process("in", rec({ flag: true, user: "u", amount: 1 }));
    const { outputs, deadLetters } = topology!.drain();
    expect(outputs).toHaveLength(1);
    expect(deadLetters[0].error).toBe("condition: returned a string, not a bool");
  });

  it("branches by the first condition that holds, the rest to default; flatMap makes many; merge joins paths", () => {
    const { topology, problems } = build({
      name: "branchy",
      nodes: [
        { id: "in", config: { kind: "source", topics: ["orders"] } },
        {
          id: "split",
          config: {
            kind: "branch",
            branches: [
              { name: "large", condition: "value.total > 100.0" },
              { name: "multi", condition: "size(value.items) > 1" },
            ],
          },
        },
        { id: "items", config: { kind: "flatMap", values: 'value.items.map(i, {"sku": i})' } },
        { id: "both", config: { kind: "merge" } },
        { id: "rekey", config: { kind: "selectKey", key: 'has(value.sku) ? value.sku : "order"' } },
        { id: "out", config: { kind: "sink", topic: "out" } },
        { id: "rest", config: { kind: "sink", topic: "rest" } },
      ],
      edges: [
        edge("in", "split"),
        edge("split", "both", "large"),
        edge("split", "items", "multi"),
        edge("items", "both"),
        edge("both", "rekey"),
        edge("rekey", "out"),
        edge("split", "rest", "default"),
      ],
    });
    expect(problems).toEqual([]);
    topology!.process("in", rec({ total: 500.0, items: ["a", "b"] }, 0));
    topology!.process("in", rec({ total: 5.0, items: ["c", "d", "e"] }, 1));
    topology!.process("in", rec({ total: 5.0, items: ["f"] }, 2));
    const { outputs } = topology!.drain();
    expect(outputs.filter((o) => o.topic === "out").map((o) => [o.record.origin.offset, o.record.key])).toEqual([
      [0, "order"],
      [1, "c"],
      [1, "d"],
      [1, "e"],
    ]);
    expect(outputs.filter((o) => o.topic === "rest").map((o) => o.record.origin.offset)).toEqual([2]);
  });

  it("a record that would multiply past the step limit is dead-lettered whole, with nothing of it in the sinks", () => {
    const { topology } = build({
      name: "explode",
      nodes: [
        { id: "in", config: { kind: "source", topics: ["x"] } },
        { id: "a", config: { kind: "flatMap", values: "value" } },
        { id: "b", config: { kind: "flatMap", values: "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]" } },
        { id: "c", config: { kind: "flatMap", values: "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]" } },
        { id: "out", config: { kind: "sink", topic: "y" } },
      ],
      edges: [edge("in", "a"), edge("a", "b"), edge("b", "c"), edge("c", "out")],
    });
    topology!.process("in", rec(Array.from({ length: 1000 }, (_, i) => i)));
    topology!.process("in", rec([1]));
    const { outputs, deadLetters } = topology!.drain();
    expect(outputs).toHaveLength(200);
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0].error).toMatch(/more than 100000 records/);
  });
});
