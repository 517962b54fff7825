import { getPipelines } from "./registry.ts";

/** Every deployed version of a pipeline, oldest first. */
export async function listPipelineVersions(
  name: string,
): Promise<{ versions: { version: number; createdAt: string; definition: unknown }[] }> {
  return { versions: await getPipelines().versions(name) };
}
