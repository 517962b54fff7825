import type { PipelineDetail } from "../pipelines/pipeline-manager.ts";
import { getPipelines } from "./registry.ts";

/** One pipeline: state, draft and the deployed definition. */
export function describePipeline(name: string): Promise<PipelineDetail> {
  return getPipelines().get(name);
}
