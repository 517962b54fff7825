import { getBroker } from "./registry.ts";

/** Deletes an empty group and its committed offsets (NON_EMPTY_GROUP while members remain). */
export function deleteGroup(groupId: string): Promise<void> {
  return getBroker().deleteGroup(groupId);
}
