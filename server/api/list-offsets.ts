import type { TListOffsetsResponse } from "../schemas/record.ts";
import { getBroker } from "./registry.ts";

/**
 * Per partition: earliest (log start), latest (high watermark; read_committed: last stable
 * offset) or first offset with timestamp >= at.
 */
export async function listOffsets(
  topic: string,
  at: string,
  isolation?: "read_committed" | "read_uncommitted",
): Promise<TListOffsetsResponse> {
  const spec = at === "earliest" || at === "latest" ? at : { timestamp: Number(at) };
  return { topic, at, partitions: await getBroker().listOffsets(topic, spec, undefined, isolation) };
}
