import { describe, expect, it } from "vitest";
import { layoutLayers } from "./graph-layout";

const e = (from: string, to: string) => ({ from, to });

describe("layered layout", () => {
  it("puts each node one column after its furthest input, rows in order", () => {
    const placed = layoutLayers(
      ["src", "table", "a", "join", "out"],
      [e("src", "a"), e("a", "join"), e("table", "join"), e("join", "out")],
    );
    expect(placed).toEqual([
      { id: "src", column: 0, row: 0 },
      { id: "table", column: 0, row: 1 },
      { id: "a", column: 1, row: 0 },
      { id: "join", column: 2, row: 0 },
      { id: "out", column: 3, row: 0 },
    ]);
  });

  it("survives a cycle and edges to unknown nodes", () => {
    const placed = layoutLayers(["a", "b"], [e("a", "b"), e("b", "a"), e("a", "ghost"), e("b", "b")]);
    expect(placed.every((p) => p.column < 2)).toBe(true);
  });
});
