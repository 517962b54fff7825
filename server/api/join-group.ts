import type { THeartbeatResponse, TJoinGroupRequest } from "../schemas/group.ts";
import { regexProblem } from "../cel/regex.ts";
import { ApiError } from "./api-error.ts";
import { getBroker } from "./registry.ts";

/** Joins a consumer group (KIP-848: memberEpoch 0); the reply carries the first assignment. */
export async function joinGroup(groupId: string, req: TJoinGroupRequest, host: string): Promise<THeartbeatResponse> {
  // RE2 syntax (as Kafka's RE2J): refused here, naming the request's own field
  const problem = req.topicPattern !== undefined ? regexProblem(req.topicPattern) : null;
  if (problem !== null) throw new ApiError("INVALID_REGULAR_EXPRESSION", `invalid topicPattern: ${problem}`, { field: "topicPattern" });
  const r = await getBroker().joinGroup(groupId, req, host);
  return { groupId, ...r, generationId: r.memberEpoch };
}
