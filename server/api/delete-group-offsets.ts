import { getBroker } from "./registry.ts";

/** Deletes a group's committed offsets for one topic. */
export async function deleteGroupOffsets(groupId: string, topic: string): Promise<{ groupId: string; topic: string; deleted: number }> {
  return { groupId, topic, deleted: await getBroker().deleteGroupOffsets(groupId, topic) };
}
