import { getSimulations } from "./registry.ts";

/** Stops a simulated producer (its records in flight are awaited) and forgets it. */
export function deleteSimulatedProducer(id: string): Promise<void> {
  return getSimulations().deleteProducer(id);
}
