import type { PipelineProblem, TPipelineTypes } from "../schemas/pipeline.ts";
import { getPipelines } from "./registry.ts";

/** Every problem of the draft, each pinned to its node and field; the record type at each port and each node's completions. */
export function validatePipeline(name: string): Promise<{ valid: boolean; problems: PipelineProblem[]; types: TPipelineTypes }> {
  return getPipelines().validate(name);
}
