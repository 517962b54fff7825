import { toRecordJson } from "../present/record-json.ts";
import { fetchedJsonEstimate, jsonMemory } from "./memory-budget.ts";
import { getBroker } from "./registry.ts";

/**
 * Records for a group member from the partitions assigned to it, long-polling up to waitMs, as
 * JSON text, with the member's position on each partition the poll moved (past transaction
 * markers: the offsets to commit).
 */
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
  let bytes = 0;
  for (const rec of r.records) bytes += (rec.key?.length ?? 0) + (rec.value?.length ?? 0);
  // the records are the member's now (its position moved): build their JSON whatever the wait
  return jsonMemory().run(fetchedJsonEstimate(bytes), async () =>
    JSON.stringify({
      records: r.records.map((rec) => toRecordJson(rec.topic, rec.partition, rec)),
      positions: r.positions,
      assignment: r.assignment,
    }),
  );
}
