import { describe, expect, it } from "vitest";
import { ZPipelineDefinition, type TPipelineDefinitionInput } from "./pipeline.ts";

/** The seed's example: count each user's purchases per hour, alert past 10. */
const fraudAlert: TPipelineDefinitionInput = {
  name: "fraud-alert",
  nodes: [
    { id: "purchases", config: { kind: "source", topics: ["purchases"], eventTime: "timestamp(value.at)", outOfOrdernessMs: 5000 } },
    { id: "byUser", config: { kind: "selectKey", key: "value.user" } },
    {
      id: "perHour",
      config: {
        kind: "aggregate",
        window: { type: "tumbling", sizeMs: 3_600_000, graceMs: 60_000 },
        aggregations: [{ fn: "count", as: "purchases" }],
        emit: "final",
      },
    },
    { id: "overTen", config: { kind: "filter", condition: "value.purchases > 10" } },
    { id: "alerts", config: { kind: "sink", topic: "fraud-alerts", createTopic: { partitions: 3 } } },
    { id: "failed", config: { kind: "deadLetter", topic: "fraud-alert-dlq" } },
  ],
  edges: [
    { from: { node: "purchases", port: "out" }, to: { node: "byUser", port: "in" } },
    { from: { node: "byUser", port: "out" }, to: { node: "perHour", port: "in" } },
    { from: { node: "perHour", port: "out" }, to: { node: "overTen", port: "in" } },
    { from: { node: "overTen", port: "out" }, to: { node: "alerts", port: "in" } },
  ],
};

function issues(p: unknown): { path: string; message: string }[] {
  const r = ZPipelineDefinition.safeParse(p);
  return r.success ? [] : r.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
}

describe("pipeline definition", () => {
  it("accepts the seed's fraud alert and fills the defaults", () => {
    const p = ZPipelineDefinition.parse(fraudAlert);
    expect(p.settings.commitIntervalMs).toBe(100);
    const source = p.nodes[0].config;
    expect(source.kind === "source" && source.start).toBe("committed");
    expect(source.kind === "source" && source.idleTimeoutMs).toBe(5000);
  });

  it("refuses a cycle, naming the nodes on it", () => {
    const p = structuredClone(fraudAlert);
    p.nodes.push({ id: "loop", config: { kind: "merge" } });
    p.edges = p.edges.filter((e) => e.to.node !== "byUser");
    p.edges.push(
      { from: { node: "purchases", port: "out" }, to: { node: "loop", port: "in" } },
      { from: { node: "loop", port: "out" }, to: { node: "byUser", port: "in" } },
      { from: { node: "byUser", port: "out" }, to: { node: "loop", port: "in" } },
    );
    expect(issues(p).map((i) => i.message)).toContainEqual(expect.stringMatching(/^cycle: (loop → byUser → loop|byUser → loop → byUser)$/));
  });

  it("refuses an input left unconnected and an output going nowhere, each on its node and port", () => {
    const p = structuredClone(fraudAlert);
    p.edges = p.edges.filter((e) => e.to.node !== "overTen");
    const found = issues(p);
    expect(found).toContainEqual({ path: "nodes.2", message: "output 'out' of 'perHour' is not connected" });
    expect(found).toContainEqual({ path: "nodes.3", message: "input 'in' of 'overTen' is not connected" });
  });

  it("lets a window's late port and a branch's default stay open", () => {
    const p = structuredClone(fraudAlert);
    p.nodes.push({ id: "split", config: { kind: "branch", branches: [{ name: "big", condition: "value.amount > 100" }] } });
    p.nodes.push({ id: "bigOnes", config: { kind: "sink", topic: "big" } });
    p.edges.push(
      { from: { node: "purchases", port: "out" }, to: { node: "split", port: "in" } },
      { from: { node: "split", port: "big" }, to: { node: "bigOnes", port: "in" } },
    );
    expect(issues(p)).toEqual([]);
  });

  it("refuses an edge to a port the node does not have, and a second edge into a single input", () => {
    const p = structuredClone(fraudAlert);
    p.edges.push({ from: { node: "purchases", port: "late" }, to: { node: "alerts", port: "in" } });
    p.edges.push({ from: { node: "purchases", port: "out" }, to: { node: "overTen", port: "in" } });
    const found = issues(p).map((i) => i.message);
    expect(found).toContain("node 'purchases' (source) has no output port 'late'");
    expect(found).toContain("input 'in' of 'overTen' has 2 edges; put a merge before it");
  });

  it("refuses duplicate ids, a second dead-letter sink and a pipeline without a source", () => {
    expect(issues({ name: "empty", nodes: [], edges: [] }).map((i) => i.message)).toEqual(["a pipeline needs at least one source"]);
    const p = structuredClone(fraudAlert);
    p.nodes.push({ id: "failed", config: { kind: "deadLetter", topic: "other" } });
    const found = issues(p).map((i) => i.message);
    expect(found).toContain("node id 'failed' is used twice");
    expect(found).toContain("a pipeline has at most one dead-letter sink");
  });

  it("names the field of a bad node config", () => {
    const p = structuredClone(fraudAlert);
    p.nodes[2] = {
      id: "perHour",
      config: { kind: "aggregate", window: { type: "hopping", sizeMs: 1000, advanceMs: 2000 }, aggregations: [{ fn: "count", as: "n" }] },
    };
    expect(issues(p)).toContainEqual({ path: "nodes.2.config.window.advanceMs", message: "advanceMs must not exceed sizeMs" });
    p.nodes[2] = { id: "perHour", config: { kind: "aggregate", aggregations: [{ fn: "count", as: "n" }], emit: "final" } };
    expect(issues(p)).toContainEqual({ path: "nodes.2.config.emit", message: "emit 'final' needs a window (a table never closes)" });
    p.nodes[0] = { id: "purchases", config: { kind: "source", topics: ["purchases"], topicPattern: "p.*" } };
    expect(issues(p)).toContainEqual({
      path: "nodes.0.config.topics",
      message: "a source reads either topics or a topicPattern (exactly one)",
    });
  });

  it("refuses JavaScript-sized expressions and control characters in them", () => {
    const p = structuredClone(fraudAlert);
    p.nodes[3] = { id: "overTen", config: { kind: "filter", condition: "x".repeat(5000) } };
    expect(issues(p)[0]).toMatchObject({ path: "nodes.3.config.condition", message: "expression must be at most 4096 characters" });
    p.nodes[3] = { id: "overTen", config: { kind: "filter", condition: "a\u0000" } };
    expect(issues(p)[0].message).toMatch(/NUL/);
  });
});
