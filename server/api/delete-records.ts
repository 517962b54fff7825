import type { TDeleteRecordsRequest, TDeleteRecordsResponse } from "../schemas/record.ts";
import { getBroker } from "./registry.ts";

/** DeleteRecords: each named partition's log start offset moves to its offset. */
export async function deleteRecords(topic: string, req: TDeleteRecordsRequest): Promise<TDeleteRecordsResponse> {
  return { topic, partitions: await getBroker().deleteRecords(topic, req.partitions) };
}
