import { describe, expect, it } from "vitest";
import { connectionProblem, type TPipelineNode } from "./pipeline.ts";

const nodes: TPipelineNode[] = [
  {
    id: "orders",
    config: {
      kind: "source",
      topics: ["orders"],
      start: "earliest",
      keyFormat: "text",
      valueFormat: "json",
      outOfOrdernessMs: 0,
      idleTimeoutMs: 5000,
    },
  },
  { id: "customers", config: { kind: "table", topic: "customers", keyFormat: "text", valueFormat: "json" } },
  { id: "f", config: { kind: "filter", condition: "true" } },
  { id: "g", config: { kind: "filter", condition: "true" } },
  { id: "j", config: { kind: "join", type: "inner", graceMs: 0 } },
];
const e = (from: string, to: string, fromPort = "out", toPort = "in") => ({
  from: { node: from, port: fromPort },
  to: { node: to, port: toPort },
});

describe("connectionProblem: why an edge may not be drawn", () => {
  it("allows a fitting edge", () => {
    expect(connectionProblem(nodes, [], e("orders", "f"))).toBeUndefined();
  });
  it("refuses cycles, taken inputs, unknown ports, self edges and duplicates", () => {
    expect(connectionProblem(nodes, [e("f", "g")], e("g", "f"))).toBe("cycle: f → g → f");
    expect(connectionProblem(nodes, [], e("f", "f"))).toBe("cycle: f → f");
    expect(connectionProblem(nodes, [e("orders", "f")], e("g", "f"))).toBe("input 'in' of 'f' has 2 edges; put a merge before it");
    expect(connectionProblem(nodes, [], e("orders", "j"))).toBe("node 'j' (join) has no input port 'in'");
    expect(connectionProblem(nodes, [e("orders", "f")], e("orders", "f"))).toBe("these ports are connected already");
  });
  it("refuses a table on a join's left and a right input mixing streams and tables", () => {
    expect(connectionProblem(nodes, [], e("customers", "j", "out", "left"))).toBe(
      "the left input of a join is a stream; a table goes on the right",
    );
    expect(connectionProblem(nodes, [e("customers", "j", "out", "right")], e("orders", "j", "out", "right"))).toMatch(
      /input 'right' of 'j' has 2 edges/,
    );
    expect(
      connectionProblem(nodes, [e("orders", "j", "out", "left"), e("customers", "j", "out", "right")], e("orders", "g")),
    ).toBeUndefined();
  });
});
