import type { TFetchResponse } from "../schemas/record.ts";
import { toRecordJson } from "../present/record-json.ts";
import { fetchedJsonEstimate, jsonMemory } from "./memory-budget.ts";
import { getBroker } from "./registry.ts";

export const MAX_JSON_FETCH_BYTES = 4 * 1024 * 1024;
const DEFAULT_JSON_FETCH_BYTES = 1024 * 1024;

export interface FetchRecordsInput {
  offset: number;
  maxRecords?: number;
  maxBytes?: number;
  waitMs?: number;
  encoding?: "auto" | "base64";
  isolation?: "read_committed" | "read_uncommitted";
  signal?: AbortSignal;
}

/**
 * Records of one partition from an offset, long-polling up to waitMs when there are none yet,
 * as the JSON text of a `FetchResponse`.
 */
export async function fetchRecordsJson(topic: string, partition: number, q: FetchRecordsInput): Promise<string> {
  // JSON is several times the bytes it carries: a JSON fetch returns at most 4 MiB of keys and
  // values (the binary path serves up to 64 MiB), as a fetch may always return less than asked
  const r = await getBroker().fetch(topic, partition, {
    ...q,
    maxBytes: Math.min(q.maxBytes ?? DEFAULT_JSON_FETCH_BYTES, MAX_JSON_FETCH_BYTES),
  });
  // the JSON of these records (objects, then text) is built within the process's JSON memory budget
  let bytes = 0;
  for (const rec of r.records) bytes += (rec.key?.length ?? 0) + (rec.value?.length ?? 0);
  return jsonMemory().run(
    fetchedJsonEstimate(bytes),
    async () => JSON.stringify(toResponse(topic, partition, r, q.encoding === "base64")),
    q.signal,
  );
}

function toResponse(
  topic: string,
  partition: number,
  r: Awaited<ReturnType<ReturnType<typeof getBroker>["fetch"]>>,
  base64: boolean,
): TFetchResponse {
  return {
    topic,
    partition,
    logStartOffset: r.logStartOffset,
    highWatermark: r.highWatermark,
    lastStableOffset: r.lastStableOffset,
    nextOffset: r.nextOffset,
    records: r.records.map((rec) => toRecordJson(topic, partition, rec, base64)),
  };
}
