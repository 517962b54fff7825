import { versionNotes } from "../pipelines/pipeline-diff.ts";
import { getPipelines } from "./registry.ts";

/** Every deployed version of a pipeline, oldest first, each with a note on what its deploy did. */
export async function listPipelineVersions(
  name: string,
): Promise<{ versions: { version: number; createdAt: string; definition: unknown; note: string }[] }> {
  const versions = await getPipelines().versions(name);
  const notes = versionNotes(versions);
  return { versions: versions.map((v) => ({ ...v, note: notes.get(v.version)! })) };
}
