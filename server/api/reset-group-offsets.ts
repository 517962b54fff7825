import type { TResetOffsetsRequest, TResetOffsetsResponse } from "../schemas/group.ts";
import { getBroker } from "./registry.ts";

/** Plans (dryRun, the default) or applies a reset of a group's committed offsets. */
export async function resetGroupOffsets(groupId: string, req: TResetOffsetsRequest): Promise<TResetOffsetsResponse> {
  const r = await getBroker().resetGroupOffsets(groupId, req.to, { topics: req.topics, dryRun: req.dryRun });
  return { groupId, ...r };
}
