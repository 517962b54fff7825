import type { TMemberAction, TSimulatedGroup } from "../schemas/topology.ts";
import { getSimulations } from "./registry.ts";

/** start, pause, kill (stop heartbeating), restart or stop one member of a simulated group. */
export function actOnSimulatedMember(id: string, member: number, action: TMemberAction): Promise<TSimulatedGroup> {
  return getSimulations().actOnMember(id, member, action);
}
