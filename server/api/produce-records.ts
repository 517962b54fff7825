import type { TProduceRequest, TProduceResponse } from "../schemas/record.ts";
import { toProduceRecord } from "./record-json.ts";
import { getBroker } from "./registry.ts";

/** Produces JSON-described records; replies after they are committed to PostgreSQL. */
export async function produceRecords(topic: string, req: TProduceRequest): Promise<TProduceResponse> {
  const records = await getBroker().produce(topic, req.records.map(toProduceRecord));
  return { topic, records };
}
