import { describe, expect, it } from "vitest";
import { ZPipelineDefinition, graphProblems, portsOf } from "./pipeline.ts";
import { PIPELINE_TEMPLATES, pipelineTemplate } from "./pipeline-templates.ts";

describe("pipeline templates", () => {
  it("each is a valid pipeline definition named by its id, every node placed", () => {
    expect(PIPELINE_TEMPLATES.map((t) => t.id)).toEqual(["fraud-alert", "filter-map", "windowed-count", "enrichment-join"]);
    for (const t of PIPELINE_TEMPLATES) {
      const parsed = ZPipelineDefinition.safeParse(t.definition);
      expect(parsed.error?.issues ?? [], t.id).toEqual([]);
      expect(t.definition.name).toBe(t.id);
      const def = parsed.data!;
      expect(graphProblems(def.nodes, def.edges)).toEqual([]);
      for (const n of def.nodes) {
        expect(n.position, `${t.id}/${n.id}`).toBeDefined();
        expect(portsOf(n.config)).toBeDefined();
      }
    }
  });

  it("looks a template up by id", () => {
    expect(pipelineTemplate("fraud-alert")?.title).toBe("Fraud alert");
    expect(pipelineTemplate("nope")).toBeUndefined();
  });
});
