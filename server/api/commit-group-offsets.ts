import { getBroker } from "./registry.ts";

/** Commits a member's offsets (its current positions when none are given). */
export async function commitGroupOffsets(
  groupId: string,
  memberId: string,
  req: { memberEpoch: number; offsets?: { topic: string; partition: number; offset: number; metadata?: string | null }[] },
) {
  return { committed: await getBroker().commitGroupOffsets(groupId, memberId, req.memberEpoch, req.offsets) };
}
