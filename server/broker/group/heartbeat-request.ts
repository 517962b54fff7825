/**
 * The ConsumerGroupHeartbeat request/response shapes and their validation. Requests may come
 * straight from JSON (REST, WebSocket, later the Kafka protocol), so every field is checked here
 * before the group changes anything.
 */
import { compileRegex, MAX_PATTERN_LENGTH, type LinearRegex } from "../../cel/regex.ts";
import { resolveAssignorName, type AssignorName } from "./assignors.ts";
import { GroupError, invalidGroupRequest } from "../errors.ts";
import { fromTopicPartitions, keySet, type TopicPartitionKey, type TopicPartitions } from "./topic-partitions.ts";

/** ConsumerGroupHeartbeat request. Optional fields left out (or null) mean "unchanged", as in KIP-848. */
export interface ConsumerGroupHeartbeatRequest {
  /** Required unless joining; on a join, omitted → the coordinator generates one. */
  memberId?: string | null;
  /** 0 = join (or rejoin after being fenced), -1 = leave, otherwise the member's current epoch. */
  memberEpoch: number;
  clientId?: string | null;
  host?: string | null;
  /** How long the member may take to give up revoked partitions before it is removed. */
  rebalanceTimeoutMs?: number | null;
  /** Exactly one of the two subscriptions is required on join; setting one clears the other. */
  subscribedTopicNames?: readonly string[] | null;
  /** RE2 pattern (Kafka's RE2J syntax) matched against whole topic names. */
  subscribedTopicRegex?: string | null;
  /** range | roundrobin | sticky (aliases: round-robin, uniform, cooperative-sticky). */
  serverAssignor?: string | null;
  /** The partitions the client currently owns; omitted → taken as still owning all it was given. */
  ownedPartitions?: readonly TopicPartitions[] | null;
}

export interface ConsumerGroupHeartbeatResponse {
  memberId: string;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  /** The member's full current assignment: what it may own now (never what others still own). */
  assignment: TopicPartitions[];
}

export interface ParsedRequest {
  memberId?: string;
  memberEpoch: number;
  clientId?: string;
  host?: string;
  rebalanceTimeoutMs?: number;
  subscribedTopicNames?: string[];
  subscribedTopicRegex?: LinearRegex;
  serverAssignor?: AssignorName;
  owned?: Set<TopicPartitionKey>;
}

/** Shape checks for everything in a request (it may come straight from JSON). */
export function parseRequest(req: ConsumerGroupHeartbeatRequest): ParsedRequest {
  if (typeof req !== "object" || req === null) throw invalidGroupRequest("heartbeat request must be an object");
  // null means "not sent", as a nullable field does in the Kafka protocol and in JSON bodies.
  const opt = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);
  const memberEpoch = req.memberEpoch;
  const memberId = opt(req.memberId);
  const clientId = opt(req.clientId);
  const host = opt(req.host);
  const rebalanceTimeoutMs = opt(req.rebalanceTimeoutMs);
  const subscribedTopicNames = opt(req.subscribedTopicNames);
  const subscribedTopicRegex = opt(req.subscribedTopicRegex);
  const serverAssignor = opt(req.serverAssignor);
  const ownedPartitions = opt(req.ownedPartitions);
  // -2 (static member leave) is not supported: static membership (group.instance.id) is not implemented.
  if (!Number.isInteger(memberEpoch) || memberEpoch < -1)
    throw invalidGroupRequest("memberEpoch must be an integer >= -1", { memberEpoch });
  if (memberId !== undefined && (typeof memberId !== "string" || memberId.length === 0)) {
    throw invalidGroupRequest("memberId must be a non-empty string", { memberId });
  }
  for (const [name, value] of [
    ["clientId", clientId],
    ["host", host],
  ] as const) {
    if (value !== undefined && typeof value !== "string") throw invalidGroupRequest(`${name} must be a string`);
  }
  if (rebalanceTimeoutMs !== undefined && (!Number.isInteger(rebalanceTimeoutMs) || rebalanceTimeoutMs <= 0)) {
    throw invalidGroupRequest("rebalanceTimeoutMs must be a positive integer", { rebalanceTimeoutMs });
  }
  if (subscribedTopicNames !== undefined && subscribedTopicRegex !== undefined) {
    throw invalidGroupRequest("subscribe to topic names or a regex, not both");
  }
  if (
    subscribedTopicNames !== undefined &&
    (!Array.isArray(subscribedTopicNames) || subscribedTopicNames.some((t) => typeof t !== "string" || t.length === 0))
  ) {
    throw invalidGroupRequest("subscribedTopicNames must be an array of topic names");
  }
  let assignor: AssignorName | undefined;
  if (serverAssignor !== undefined) {
    assignor = typeof serverAssignor === "string" ? resolveAssignorName(serverAssignor) : undefined;
    if (!assignor) throw new GroupError("UNSUPPORTED_ASSIGNOR", `unknown assignor '${String(serverAssignor)}'`, { serverAssignor });
  }
  return {
    memberId,
    memberEpoch,
    clientId,
    host,
    rebalanceTimeoutMs,
    subscribedTopicNames: subscribedTopicNames ? [...new Set(subscribedTopicNames)].sort() : undefined,
    subscribedTopicRegex: subscribedTopicRegex !== undefined ? compileTopicRegex(subscribedTopicRegex) : undefined,
    serverAssignor: assignor,
    owned: ownedPartitions !== undefined ? parseOwned(ownedPartitions) : undefined,
  };
}

/**
 * Whole-name match on RE2, as Kafka's pattern subscription does with RE2J: linear in the name,
 * so no pattern can backtrack for seconds (JavaScript's engine took 5.2 s for `(a+)+` against
 * a 28-character name). Compiled once per pattern text (server/cel keeps a cache).
 */
function compileTopicRegex(source: unknown): LinearRegex {
  if (typeof source !== "string" || source.length === 0 || source.length > MAX_PATTERN_LENGTH) {
    throw new GroupError(
      "INVALID_REGULAR_EXPRESSION",
      `subscribedTopicRegex must be a non-empty string of at most ${MAX_PATTERN_LENGTH} characters`,
      {
        field: "subscribedTopicRegex",
      },
    );
  }
  try {
    return compileRegex(source);
  } catch (e) {
    throw new GroupError("INVALID_REGULAR_EXPRESSION", `invalid subscribedTopicRegex: ${(e as Error).message}`, {
      field: "subscribedTopicRegex",
      regex: source,
    });
  }
}

export function parseTopicMetadata(topics: ReadonlyMap<string, number>): Map<string, number> {
  if (!(topics instanceof Map)) throw invalidGroupRequest("topic metadata must be a Map of topic → partition count");
  for (const [topic, count] of topics) {
    if (typeof topic !== "string" || topic.length === 0 || !Number.isInteger(count) || count < 0) {
      throw invalidGroupRequest("topic metadata needs non-empty topic names and partition counts >= 0", { topic, count });
    }
  }
  return new Map(topics);
}

function parseOwned(list: unknown): Set<TopicPartitionKey> {
  if (!Array.isArray(list)) throw invalidGroupRequest("ownedPartitions must be an array of {topic, partitions}");
  for (const entry of list) {
    const ok =
      typeof entry === "object" &&
      entry !== null &&
      typeof entry.topic === "string" &&
      Array.isArray(entry.partitions) &&
      entry.partitions.every((p: unknown) => Number.isInteger(p) && (p as number) >= 0);
    if (!ok) throw invalidGroupRequest("ownedPartitions must be an array of {topic, partitions: integer[] >= 0}");
  }
  return keySet(fromTopicPartitions(list as TopicPartitions[]));
}
