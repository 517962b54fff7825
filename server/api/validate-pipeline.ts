import type { PipelineProblem } from "../schemas/pipeline.ts";
import { getPipelines } from "./registry.ts";

/** Every problem of the draft, each pinned to its node and field. */
export function validatePipeline(name: string): Promise<{ valid: boolean; problems: PipelineProblem[] }> {
  return getPipelines().validate(name);
}
