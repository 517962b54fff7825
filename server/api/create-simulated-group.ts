import type { TSimulatedGroup, TSimulatedGroupConfig } from "../schemas/topology.ts";
import { getBroker, getSimulations } from "./registry.ts";

/** Starts a simulated consumer group on existing topics; resolves once its members joined. */
export async function createSimulatedGroup(req: TSimulatedGroupConfig): Promise<TSimulatedGroup> {
  for (const t of req.topics) await getBroker().describeTopic(t);
  return getSimulations().createGroup(req);
}
