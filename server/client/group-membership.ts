/**
 * The group consumer's membership: the shared KIP-848 member loop (`GroupMember`) over the REST
 * API. One request at a time to the coordinator (join, heartbeat, poll, commit, leave go through
 * the member's queue), heartbeats at the interval the broker gives, revocations finished and
 * committed before release, and a new join (epoch 0) after being fenced or expired.
 */
import { raiseFor, TributaryClientError } from "./http-client.ts";
import type { ConsumerOptions } from "./consumer-types.ts";
import { GroupMember, type HeartbeatReply, type MemberHost, type MemberTransport } from "../group-member/group-member.ts";

/** What commitOffsets() throws once the member was fenced or expired (nothing was committed). */
export function membershipLost(): TributaryClientError {
  return new TributaryClientError(
    404,
    "UNKNOWN_MEMBER_ID",
    "the consumer lost its group membership (fenced or expired) and is joining again; nothing was committed",
  );
}

/** A member of `options.groupId` subscribed to `subscription`, reaching the broker over HTTP. */
export function joinGroupMember(
  options: ConsumerOptions & { autoCommit: boolean; autoCommitIntervalMs: number; retryBackoffMs: number },
  subscription: { topics?: string[]; topicPattern?: string },
  host: MemberHost,
): GroupMember {
  const groupPath = `/api/v1/groups/${encodeURIComponent(options.groupId)}/members`;
  const memberPath = (memberId: string) => `${groupPath}/${encodeURIComponent(memberId)}`;
  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(options.baseUrl + path, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) await raiseFor(res);
    return (res.status === 204 ? undefined : await res.json()) as T;
  }
  const transport: MemberTransport = {
    join: () =>
      request<HeartbeatReply>("POST", groupPath, {
        ...subscription,
        ...(options.clientId !== undefined ? { clientId: options.clientId } : {}),
        ...(options.assignor !== undefined ? { assignor: options.assignor } : {}),
        ...(options.rebalanceTimeoutMs !== undefined ? { rebalanceTimeoutMs: options.rebalanceTimeoutMs } : {}),
        ...(options.isolationLevel !== undefined ? { isolationLevel: options.isolationLevel } : {}),
        autoOffsetReset: options.autoOffsetReset,
      }),
    heartbeat: ({ memberId, memberEpoch, ownedPartitions }) =>
      request<HeartbeatReply>("POST", `${memberPath(memberId)}/heartbeat`, { memberEpoch, ownedPartitions }),
    commit: async ({ memberId, memberEpoch, offsets }) => {
      if (offsets.length === 0) return [];
      await request("POST", `${memberPath(memberId)}/offsets`, { memberEpoch, offsets });
      return offsets;
    },
    leave: async ({ memberId }) => {
      await request("DELETE", memberPath(memberId));
    },
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
