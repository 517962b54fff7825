import { getBroker } from "./registry.ts";

/** A member leaves its group; its partitions go to the others at once. */
export async function leaveGroup(groupId: string, memberId: string): Promise<void> {
  getBroker().leaveGroup(groupId, memberId);
}
