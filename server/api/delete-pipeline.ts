import { getPipelines } from "./registry.ts";

/** Stops the pipeline if it runs and deletes it with its versions (its output topics stay). */
export function deletePipeline(name: string): Promise<void> {
  return getPipelines().delete(name);
}
