import { describe, expect, it } from "vitest";
import { ZPipelineDefinition, type TPipelineDefinitionInput } from "../schemas/pipeline.ts";
import type { StreamRecord } from "./record.ts";
import { repartitionInputs } from "./repartition.ts";
import { Topology } from "./topology.ts";

const edge = (from: string, to: string, fromPort = "out", toPort = "in") => ({
  from: { node: from, port: fromPort },
  to: { node: to, port: toPort },
});

const rec = (value: unknown, timestamp: number, key: unknown = null, partition = 0): StreamRecord => ({
  key,
  value,
  headers: {},
  timestamp,
  origin: { topic: "clicks", partition, offset: 0 },
});

/** clicks → (re-key by user) → count per user; a second, un-re-keyed path to a dedupe; a table join after the count */
const def = ZPipelineDefinition.parse({
  name: "per-user",
  nodes: [
    { id: "clicks", config: { kind: "source", topics: ["clicks"], outOfOrdernessMs: 10, idleTimeoutMs: 500 } },
    { id: "byUser", config: { kind: "selectKey", key: "value.user" } },
    { id: "only", config: { kind: "filter", condition: "value.user != 'bot'" } },
    { id: "count", config: { kind: "aggregate", aggregations: [{ fn: "count", as: "n" }] } },
    { id: "unique", config: { kind: "dedupe", windowMs: 1000 } },
    { id: "out", config: { kind: "sink", topic: "counts" } },
    { id: "firsts", config: { kind: "sink", topic: "firsts" } },
  ],
  edges: [
    edge("clicks", "byUser"),
    edge("byUser", "only"),
    edge("only", "count"),
    edge("count", "out"),
    edge("clicks", "unique"),
    edge("unique", "firsts"),
  ],
} satisfies TPipelineDefinitionInput);

describe("repartition topics", () => {
  it("sit between a key change and the next stateful node, and only there", () => {
    expect(repartitionInputs(def)).toEqual([
      {
        topic: "pipeline-per-user-repartition-count-in",
        entry: "repartition:pipeline-per-user-repartition-count-in",
        node: "count",
        port: "in",
        from: [{ node: "only", port: "out" }],
        sources: ["clicks"],
      },
    ]);
    // a stateful node's output keeps its key: a second grouping after it needs no topic
    const after = ZPipelineDefinition.parse({
      ...def,
      nodes: [...def.nodes, { id: "again", config: { kind: "dedupe", windowMs: 1000 } }],
      edges: [...def.edges.filter((e) => e.to.node !== "out"), edge("count", "again"), edge("again", "out")],
    });
    expect(repartitionInputs(after).map((r) => r.node)).toEqual(["count"]);
  });

  it("re-keyed records leave as outputs to the topic; read back, they reach the stateful node; un-re-keyed ones flow on", () => {
    const inputs = repartitionInputs(def);
    const { topology } = Topology.build(def, inputs);
    topology!.process("clicks", rec({ user: "ann" }, 1000, "click-1"));
    const { outputs } = topology!.drain();
    expect(outputs.map((o) => [o.topic, o.record.key, o.repartition ?? false])).toEqual([
      ["pipeline-per-user-repartition-count-in", "ann", true],
      ["firsts", "click-1", false],
    ]);
    topology!.process(inputs[0].entry, outputs[0].record);
    expect(topology!.drain().outputs.map((o) => [o.topic, o.record.key, o.record.value])).toEqual([["counts", "ann", { n: 1 }]]);
    // without repartition inputs (one task sees everything: preview, tests) records flow straight on
    const direct = Topology.build(def).topology!;
    direct.process("clicks", rec({ user: "ann" }, 1000, "click-1"));
    expect(direct.drain().outputs.map((o) => o.topic)).toEqual(["counts", "firsts"]);
  });

  it("a reading task's event time is the lowest watermark its upstream tasks announced", () => {
    const windowed = ZPipelineDefinition.parse({
      ...def,
      nodes: def.nodes.map((n) =>
        n.id === "count"
          ? {
              id: "count",
              config: {
                kind: "aggregate",
                window: { type: "tumbling", sizeMs: 100 },
                aggregations: [{ fn: "count", as: "n" }],
                emit: "final",
              },
            }
          : n,
      ),
    });
    const inputs = repartitionInputs(windowed);
    const { topology } = Topology.build(windowed, inputs);
    const t = topology!;
    t.expect(0, 2, 0);
    t.process(inputs[0].entry, rec({ user: "ann" }, 50, "ann"), 1);
    t.observeUpstream(inputs[0].entry, 0, 500, false, 2);
    t.advance(3);
    // task 1 has not spoken: the window [0, 100) stays open
    expect(t.drain().outputs.filter((o) => o.topic === "counts")).toEqual([]);
    t.observeUpstream(inputs[0].entry, 1, 150, false, 4);
    expect(
      t
        .drain()
        .outputs.filter((o) => o.topic === "counts")
        .map((o) => o.record.value),
    ).toEqual([{ window: { start: 0, end: 100 }, n: 1 }]);
  });
});
