import type { TSimulatedGroup } from "../schemas/topology.ts";
import { getSimulations } from "./registry.ts";

/** Adds members to a simulated group (each a new consumer); resolves once they joined. */
export function addSimulatedMembers(id: string, count: number): Promise<TSimulatedGroup> {
  return getSimulations().addMembers(id, count);
}
