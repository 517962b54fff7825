import type { TPipelineMetrics } from "../schemas/pipeline.ts";
import { getPipelines } from "./registry.ts";

/** A pipeline's metrics per node and per task, with totals; empty (with its state) when it is not running. */
export function readPipelineMetrics(name: string): Promise<TPipelineMetrics> {
  return getPipelines().metrics(name);
}
