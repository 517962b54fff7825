import type { PipelineDetail } from "../pipelines/pipeline-manager.ts";
import { getPipelines } from "./registry.ts";

/** pause (leave the group, keep offsets and state), resume, or stop a deployed pipeline. */
export function changePipelineState(name: string, action: "pause" | "resume" | "stop"): Promise<PipelineDetail> {
  return getPipelines().change(name, action);
}
