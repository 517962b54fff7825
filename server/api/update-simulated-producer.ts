import type { TSimulatedProducer } from "../schemas/topology.ts";
import { getSimulations } from "./registry.ts";

/** Changes a simulated producer's rate, or pauses or resumes it. */
export function updateSimulatedProducer(id: string, change: { ratePerSec?: number; paused?: boolean }): TSimulatedProducer {
  return getSimulations().updateProducer(id, change);
}
