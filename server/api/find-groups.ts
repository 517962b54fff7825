import type { TGroupList } from "../schemas/group.ts";
import { getBroker } from "./registry.ts";

/** Every consumer group with its state, member count and total lag. */
export async function findGroups(): Promise<TGroupList> {
  return { groups: await getBroker().listGroups() };
}
