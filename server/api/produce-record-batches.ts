import { ApiError } from "./api-error.ts";
import { getBroker } from "./registry.ts";

/**
 * Appends client-encoded Kafka RecordBatch v2 bytes to one partition (the binary fast path:
 * no JSON, the stored bytes are the ones sent).
 */
export async function produceRecordBatches(
  topic: string,
  partition: number | undefined,
  payload: Buffer,
  transactionalId?: string,
  clientId?: string,
) {
  if (partition === undefined) {
    throw new ApiError("VALIDATION_FAILED", "record-batch produce needs ?partition=N: the client's partitioner chooses it");
  }
  const r = await getBroker().produceBatches(topic, partition, payload, { transactionalId, clientId });
  return { topic, ...r };
}
