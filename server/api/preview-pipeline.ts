import type { PreviewResult } from "../pipelines/pipeline-manager.ts";
import type { TPreviewRequest } from "../schemas/pipeline.ts";
import { getPipelines } from "./registry.ts";

/** Runs the draft over a sample of the real topics, writing nothing: each node's inputs, outputs and errors. */
export function previewPipeline(name: string, opts: TPreviewRequest): Promise<PreviewResult> {
  return getPipelines().preview(name, opts);
}
