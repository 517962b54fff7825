import type { PipelineDetail } from "../pipelines/pipeline-manager.ts";
import { getPipelines } from "./registry.ts";

/** Deploys the draft (or, for a rollback, an earlier version) as a new version and runs it (INVALID_PIPELINE with the problems otherwise). */
export function deployPipeline(name: string, opts: { resetState?: boolean; version?: number }): Promise<PipelineDetail> {
  return getPipelines().deploy(name, opts);
}
