import { diffPipelines } from "../pipelines/pipeline-diff.ts";
import type { TPipelineDiff, TVersionRef } from "../schemas/pipeline-diff.ts";
import { getPipelines } from "./registry.ts";

/** What differs between two versions of a pipeline (or a version and the draft): nodes, fields, edges. */
export async function diffPipelineVersions(name: string, from: TVersionRef, to: TVersionRef): Promise<TPipelineDiff> {
  const pipelines = getPipelines();
  const [before, after] = await Promise.all([pipelines.definitionAt(name, from), pipelines.definitionAt(name, to)]);
  return diffPipelines(before, after, { from, to });
}
