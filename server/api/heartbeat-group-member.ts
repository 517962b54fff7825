import type { THeartbeatResponse } from "../schemas/group.ts";
import { getBroker } from "./registry.ts";

/** A member's heartbeat: says which partitions it still owns, gets its current assignment. */
export async function heartbeatGroupMember(
  groupId: string,
  memberId: string,
  req: { memberEpoch: number; ownedPartitions?: { topic: string; partitions: number[] }[] },
): Promise<THeartbeatResponse> {
  const r = await getBroker().heartbeatGroup(groupId, { memberId, memberEpoch: req.memberEpoch, ownedPartitions: req.ownedPartitions });
  return { groupId, ...r, generationId: r.memberEpoch };
}
