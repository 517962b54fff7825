import type { TFetchResponse } from "../schemas/record.ts";
import { toRecordJson } from "./record-json.ts";
import { getBroker } from "./registry.ts";

export interface FetchRecordsInput {
  offset: number;
  maxRecords?: number;
  maxBytes?: number;
  waitMs?: number;
  encoding?: "auto" | "base64";
  isolation?: "read_committed" | "read_uncommitted";
  signal?: AbortSignal;
}

/** Records of one partition from an offset, long-polling up to waitMs when there are none yet. */
export async function fetchRecords(topic: string, partition: number, q: FetchRecordsInput): Promise<TFetchResponse> {
  const r = await getBroker().fetch(topic, partition, q);
  return {
    topic,
    partition,
    logStartOffset: r.logStartOffset,
    highWatermark: r.highWatermark,
    lastStableOffset: r.lastStableOffset,
    nextOffset: r.nextOffset,
    records: r.records.map((rec) => toRecordJson(topic, partition, rec, q.encoding === "base64")),
  };
}
