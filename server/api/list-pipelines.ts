import type { PipelineSummary } from "../pipelines/pipeline-manager.ts";
import { getPipelines } from "./registry.ts";

/** Every pipeline with its state, deployed version and the running version's counters. */
export async function listPipelines(): Promise<{ pipelines: PipelineSummary[] }> {
  return { pipelines: await getPipelines().list() };
}
