import { describe, expect, it } from "vitest";
import { buildGraph, flowPeriodFor, groupHeight, layoutKey, strokeWidthFor, topicHeight } from "./graph";
import type { GroupView, TopicView, TopologyView } from "./model";

const topic = (name: string, partitions: number, rate = 0): TopicView => ({
  name,
  rate,
  internal: name.startsWith("pipeline-"),
  simulated: false,
  partitions: Array.from({ length: partitions }, (_, p) => ({ partition: p, logStartOffset: 0, highWatermark: 10 * p, rate })),
});

const group = (id: string, topicName: string, owners: Record<string, number[]>): GroupView => ({
  id,
  state: "Stable",
  epoch: 3,
  simulated: false,
  simulationId: null,
  members: Object.entries(owners).map(([m, partitions]) => ({
    memberId: m,
    clientId: `client-${m}`,
    simulated: false,
    state: "Stable",
    owned: [{ topic: topicName, partitions }],
    revoking: [],
    sim: null,
    inGroup: true,
  })),
  topics: [{ topic: topicName, rate: 5, lag: 7, partitionLag: { 0: 7 } }],
  totalLag: 7,
});

const view = (v: Partial<TopologyView>): TopologyView => ({ at: 1, producers: [], topics: [], groups: [], pipelines: [], ...v });

describe("topology graph", () => {
  it("draws one edge per consuming group while a topic is collapsed, with its lag", () => {
    const g = buildGraph(view({ topics: [topic("orders", 4)], groups: [group("app", "orders", { a: [0, 1], b: [2] })] }), new Set());
    expect(g.nodes.map((n) => [n.id, n.height])).toEqual([
      ["topic:orders", topicHeight(4, false)],
      ["group:app", groupHeight(2)],
    ]);
    expect(g.edges).toHaveLength(1);
    expect(g.edges[0]).toMatchObject({ source: "topic:orders", sourceHandle: "out", target: "group:app", data: { lag: 7, rate: 5 } });
  });

  it("draws an expanded topic's lanes to the members owning them, and a partition nobody owns to the group, marked", () => {
    const g = buildGraph(
      view({ topics: [topic("orders", 4)], groups: [group("app", "orders", { a: [0, 1], b: [2] })] }),
      new Set(["orders"]),
    );
    expect(g.nodes[0].height).toBe(topicHeight(4, true));
    expect(g.edges.map((e) => [e.sourceHandle, e.targetHandle, e.data.unowned ?? false])).toEqual([
      ["p0", "m:a", false],
      ["p1", "m:a", false],
      ["p2", "m:b", false],
      ["p3", "in", true],
    ]);
    expect(g.edges[0].data.lag).toBe(7);
  });

  it("shows a pipeline instead of its group, and leaves its own topics out", () => {
    const g = buildGraph(
      view({
        topics: [topic("in", 1), topic("out", 1), topic("pipeline-p-changelog", 1), topic("__internal", 1)],
        groups: [group("pipeline-p", "in", { x: [0] })],
        pipelines: [
          { name: "p", state: "running", inputs: ["in"], outputs: ["out"], nodes: [], edges: [], lag: 2, rate: 3, group: "pipeline-p" },
        ],
      }),
      new Set(),
    );
    expect(g.nodes.map((n) => n.id)).toEqual(["topic:in", "topic:out", "pipeline:p"]);
    expect(g.edges.map((e) => `${e.source}>${e.target}`)).toEqual(["topic:in>pipeline:p", "pipeline:p>topic:out"]);
    // and its tasks' producers are the pipeline's edge to its output
    const withTasks = buildGraph(
      view({
        topics: [topic("in", 1), topic("out", 1)],
        producers: [
          {
            id: "7",
            label: "producer 7",
            producerId: 7,
            transactionalId: "pipeline-p-0",
            idempotent: true,
            simulated: false,
            simulationId: null,
            state: null,
            rate: 3,
            topics: [{ topic: "out", rate: 3 }],
          },
        ],
        pipelines: [
          { name: "p", state: "running", inputs: ["in"], outputs: ["out"], nodes: [], edges: [], lag: 0, rate: 3, group: "pipeline-p" },
        ],
      }),
      new Set(),
    );
    expect(withTasks.nodes.map((n) => n.id)).toEqual(["topic:in", "topic:out", "pipeline:p"]);
  });

  it("leaves out a producer whose topics are gone", () => {
    const producer = (id: string, topics: string[]) => ({
      id,
      label: id,
      producerId: 1,
      transactionalId: null,
      idempotent: true,
      simulated: false,
      simulationId: null,
      state: null,
      rate: 1,
      topics: topics.map((topic) => ({ topic, rate: 1 })),
    });
    const g = buildGraph(view({ topics: [topic("a", 1)], producers: [producer("p1", ["a"]), producer("p2", ["deleted"])] }), new Set());
    expect(g.nodes.map((n) => n.id)).toEqual(["producer:p1", "topic:a"]);
  });

  it("keeps its order whatever order the server lists things in", () => {
    const a = buildGraph(
      view({ topics: [topic("b", 1, 9), topic("a", 1, 1)], groups: [group("y", "a", {}), group("x", "b", {})] }),
      new Set(),
    );
    const b = buildGraph(
      view({ topics: [topic("a", 1, 1), topic("b", 1, 9)], groups: [group("x", "b", {}), group("y", "a", {})] }),
      new Set(),
    );
    expect(a.nodes.map((n) => n.id)).toEqual(["topic:a", "topic:b", "group:x", "group:y"]);
    expect(b.nodes.map((n) => n.id)).toEqual(a.nodes.map((n) => n.id));
    expect(b.edges.map((e) => e.id)).toEqual(a.edges.map((e) => e.id));
  });

  it("lays out again only when the shape changes, not the numbers", () => {
    const a = buildGraph(view({ topics: [topic("t", 3, 0)] }), new Set());
    const b = buildGraph(view({ topics: [topic("t", 3, 500)] }), new Set());
    const c = buildGraph(view({ topics: [topic("t", 3, 500)] }), new Set(["t"]));
    expect(layoutKey(a.nodes, a.edges)).toBe(layoutKey(b.nodes, b.edges));
    expect(layoutKey(b.nodes, b.edges)).not.toBe(layoutKey(c.nodes, c.edges));
  });

  it("draws busier edges thicker and faster", () => {
    expect(strokeWidthFor(0)).toBeLessThan(strokeWidthFor(10));
    expect(strokeWidthFor(10)).toBeLessThan(strokeWidthFor(10_000));
    expect(strokeWidthFor(1e9)).toBe(7);
    expect(flowPeriodFor(0)).toBeNull();
    expect(flowPeriodFor(5)!).toBeGreaterThan(flowPeriodFor(5000)!);
  });
});
