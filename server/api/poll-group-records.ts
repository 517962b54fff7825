import { toRecordJson } from "./record-json.ts";
import { getBroker } from "./registry.ts";

/** Records for a group member from the partitions assigned to it, long-polling up to waitMs. */
export async function pollGroupRecords(
  groupId: string,
  memberId: string,
  q: { maxRecords?: number; maxBytes?: number; waitMs?: number; signal?: AbortSignal },
) {
  const r = await getBroker().pollGroup(groupId, memberId, {
    maxRecords: q.maxRecords ?? 500,
    maxBytes: q.maxBytes ?? 1024 * 1024,
    waitMs: q.waitMs ?? 0,
    signal: q.signal,
  });
  return { records: r.records.map((rec) => toRecordJson(rec.topic, rec.partition, rec)), assignment: r.assignment };
}
