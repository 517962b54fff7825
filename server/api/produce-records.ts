import type { TProduceRequest, TProduceResponse } from "../schemas/record.ts";
import { toProduceRecord } from "./record-json.ts";
import { getBroker } from "./registry.ts";

/**
 * Produces JSON-described records; replies after they are committed to PostgreSQL. With a
 * producer id they are one idempotent (or transactional) batch to one partition.
 */
export async function produceRecords(topic: string, req: TProduceRequest): Promise<TProduceResponse> {
  const as =
    req.producerId !== undefined
      ? { producerId: req.producerId, producerEpoch: req.producerEpoch as number, baseSequence: req.baseSequence as number, transactionalId: req.transactionalId }
      : undefined;
  const records = await getBroker().produce(topic, req.records.map(toProduceRecord), as);
  return { topic, records };
}
