import { describe, expect, it } from "vitest";
import { ZNodeConfig, type TNodeKind } from "../../server/schemas/pipeline.ts";
import { KINDS } from "./node-kinds.ts";
import { fieldsOfKind, initialOf, objectInitial } from "./schema-form.ts";

describe("node forms drawn from the shared schema", () => {
  it("finds each kind's fields and their shapes", () => {
    const shapes = (kind: TNodeKind) => Object.fromEntries(fieldsOfKind(kind).map((f) => [f.key, f.shape.type]));
    expect(shapes("source")).toEqual({
      topics: "topics",
      topicPattern: "text",
      start: "choice",
      keyFormat: "enum",
      valueFormat: "enum",
      eventTime: "cel",
      outOfOrdernessMs: "number",
      idleTimeoutMs: "number",
    });
    expect(shapes("aggregate")).toEqual({ window: "variants", aggregations: "list", emit: "enum" });
    expect(shapes("sink")).toEqual({ topic: "topic", createTopic: "object", partitionByKey: "boolean" });
    const window = fieldsOfKind("aggregate").find((f) => f.key === "window")!;
    expect(window.optional).toBe(true);
    if (window.shape.type !== "variants") throw new Error("window is not a union");
    expect(window.shape.variants.flatMap((v) => v.values)).toEqual(["tumbling", "hopping", "sliding", "session"]);
    expect(initialOf(window.shape)).toEqual({ type: "tumbling", sizeMs: 1, graceMs: 0 });
    const aggregations = fieldsOfKind("aggregate").find((f) => f.key === "aggregations")!;
    if (aggregations.shape.type !== "list") throw new Error("aggregations is not a list");
    expect(aggregations.shape.min).toBe(1);
    if (aggregations.shape.item.type !== "variants") throw new Error("an aggregation is not a union");
    expect(aggregations.shape.item.variants.flatMap((v) => v.values)).toEqual([
      "count",
      "sum",
      "min",
      "max",
      "avg",
      "distinctCount",
      "reduce",
    ]);
  });

  it("every kind's fields cover its starting config, which the schema reads as that kind", () => {
    for (const [kind, info] of Object.entries(KINDS)) {
      const keys = new Set(fieldsOfKind(kind as TNodeKind).map((f) => f.key));
      for (const k of Object.keys(info.initial)) if (k !== "kind") expect(keys.has(k), `${kind}.${k}`).toBe(true);
      // what a new node starts with parses, or fails only where the user must still fill something in
      const parsed = ZNodeConfig.safeParse(info.initial);
      const issues = parsed.success ? [] : parsed.error.issues.map((i) => i.path.join("."));
      for (const path of issues)
        expect(["topics", "topic", "condition", "values", "key", "branches.0.condition"], `${kind}: ${path}`).toContain(path);
      expect(objectInitial(fieldsOfKind(kind as TNodeKind))).toBeDefined();
    }
  });
});
