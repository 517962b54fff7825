/**
 * The group consumer's membership: the shared KIP-848 member loop (`GroupMember`) over the REST
 * API (or the transport the options give). One request at a time to the coordinator (join, heartbeat, poll, commit, leave go through
 * the member's queue), heartbeats at the interval the broker gives, revocations finished and
 * committed before release, and a new join (epoch 0) after being fenced or expired.
 */
import { TributaryClientError } from "./http-client.ts";
import { transportOf } from "./transport.ts";
import type { ConsumerOptions } from "./consumer-types.ts";
import { GroupMember, type MemberHost, type MemberTransport } from "../group-member/group-member.ts";

/** What commitOffsets() throws once the member was fenced or expired (nothing was committed). */
export function membershipLost(): TributaryClientError {
  return new TributaryClientError(
    404,
    "UNKNOWN_MEMBER_ID",
    "the consumer lost its group membership (fenced or expired) and is joining again; nothing was committed",
  );
}

/** A member of `options.groupId` subscribed to `subscription`, reaching the broker through the options' transport (HTTP by default). */
export function joinGroupMember(
  options: ConsumerOptions & { autoCommit: boolean; autoCommitIntervalMs: number; retryBackoffMs: number },
  subscription: { topics?: string[]; topicPattern?: string },
  host: MemberHost,
): GroupMember {
  const t = transportOf(options);
  const transport: MemberTransport = {
    join: () =>
      t.joinGroup(options.groupId, {
        ...subscription,
        ...(options.clientId !== undefined ? { clientId: options.clientId } : {}),
        ...(options.assignor !== undefined ? { assignor: options.assignor } : {}),
        ...(options.rebalanceTimeoutMs !== undefined ? { rebalanceTimeoutMs: options.rebalanceTimeoutMs } : {}),
        ...(options.isolationLevel !== undefined ? { isolationLevel: options.isolationLevel } : {}),
        autoOffsetReset: options.autoOffsetReset,
      }),
    heartbeat: ({ memberId, memberEpoch, ownedPartitions }) => t.heartbeat(options.groupId, memberId, { memberEpoch, ownedPartitions }),
    commit: async ({ memberId, memberEpoch, offsets }) => {
      if (offsets.length === 0) return [];
      await t.commitOffsets(options.groupId, memberId, { memberEpoch, offsets });
      return offsets;
    },
    leave: ({ memberId }) => t.leaveGroup(options.groupId, memberId),
  };
  return new GroupMember(transport, host, {
    autoCommit: options.autoCommit,
    autoCommitIntervalMs: options.autoCommitIntervalMs,
    onFenced: "rejoin",
    // bad input on the first join (unknown assignor, invalid pattern...) will not fix itself
    retryJoin: (e, rejoin) => rejoin || !(e instanceof TributaryClientError && e.status >= 400 && e.status < 500),
    retryBackoffMs: options.retryBackoffMs,
    membershipLost,
  });
}
