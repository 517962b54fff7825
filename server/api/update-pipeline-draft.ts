import type { PipelineDetail } from "../pipelines/pipeline-manager.ts";
import { getPipelines } from "./registry.ts";

/** Saves the draft (the deployed version, if any, runs on unchanged). */
export function updatePipelineDraft(name: string, draft: Record<string, unknown>): Promise<PipelineDetail> {
  return getPipelines().updateDraft(name, draft);
}
