import { payloadPartsOf } from "../broker/broker.ts";
import { getBroker } from "./registry.ts";

/**
 * Stored RecordBatch v2 bytes from an offset, as they are (the first batch may
 * begin before `offset`, as in Kafka's fetch). Watermarks travel as response headers.
 */
export async function fetchRecordBatches(
  topic: string,
  partition: number,
  q: { offset: number; maxBytes?: number; waitMs?: number; signal?: AbortSignal; isolation?: "read_committed" | "read_uncommitted" },
): Promise<{ parts: Buffer[]; headers: Record<string, string> }> {
  const r = await getBroker().fetchBatches(topic, partition, q);
  return {
    /** The batches as they are: write them in order, without a copy. */
    parts: r.batches.flatMap(payloadPartsOf),
    headers: {
      "x-log-start-offset": String(r.logStartOffset),
      "x-high-watermark": String(r.highWatermark),
      "x-last-stable-offset": String(r.lastStableOffset),
      "x-next-offset": String(r.nextOffset),
    },
  };
}
