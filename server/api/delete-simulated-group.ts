import { getSimulations } from "./registry.ts";

/** Stops every member of a simulated group (they leave the group) and forgets it; the group and its offsets stay. */
export function deleteSimulatedGroup(id: string): Promise<void> {
  return getSimulations().deleteGroup(id);
}
