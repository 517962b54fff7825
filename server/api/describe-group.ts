import type { TGroup } from "../schemas/group.ts";
import { getBroker } from "./registry.ts";

/** A group: members and assignments, per-partition committed offset / high watermark / lag, lag history. */
export async function describeGroup(groupId: string): Promise<TGroup> {
  const g = await getBroker().describeGroup(groupId);
  return {
    groupId: g.groupId,
    state: g.state,
    groupEpoch: g.groupEpoch,
    assignmentEpoch: g.assignmentEpoch,
    assignor: g.assignor,
    members: g.members.map((m) => ({
      memberId: m.memberId,
      memberEpoch: m.memberEpoch,
      clientId: m.clientId,
      host: m.host,
      subscribedTopicNames: m.subscribedTopicNames,
      subscribedTopicRegex: m.subscribedTopicRegex,
      subscribedTopics: m.subscribedTopics,
      assignment: m.assignment,
      pendingRevocation: m.pendingRevocation,
      targetAssignment: m.targetAssignment,
      state: m.state,
      lastHeartbeatMs: m.lastHeartbeatMs,
    })),
    offsets: g.offsets,
    totalLag: g.totalLag,
    lagHistory: g.lagHistory,
  };
}
