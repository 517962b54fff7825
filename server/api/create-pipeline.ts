import type { PipelineDetail } from "../pipelines/pipeline-manager.ts";
import { getPipelines } from "./registry.ts";

/** A new pipeline in state draft (PIPELINE_ALREADY_EXISTS when the name is taken). */
export function createPipeline(draft: { name: string } & Record<string, unknown>): Promise<PipelineDetail> {
  return getPipelines().create(draft);
}
