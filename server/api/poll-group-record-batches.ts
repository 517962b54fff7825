import { payloadPartsOf } from "../broker/broker.ts";
import { getBroker } from "./registry.ts";

/**
 * A group member's poll on the binary path: its partitions' stored batches as they are. The body
 * is a 4-byte big-endian length, that many bytes of JSON
 * `{assignment, parts:[{topic, partition, fromOffset, nextOffset, bytes}]}`, then each part's
 * batches in order (`bytes` long each). Records of a part's first batch before `fromOffset`
 * were delivered by an earlier poll; control batches (transaction markers) are never records.
 * `nextOffset` is the member's position after the part (past such markers): what to commit. A
 * part without batches (`bytes` 0) only moved the position.
 */
export async function pollGroupRecordBatches(
  groupId: string,
  memberId: string,
  q: { maxRecords?: number; maxBytes?: number; waitMs?: number; signal?: AbortSignal },
): Promise<Buffer[]> {
  const r = await getBroker().pollGroupBatches(groupId, memberId, {
    maxRecords: q.maxRecords ?? 500,
    maxBytes: q.maxBytes ?? 1024 * 1024,
    waitMs: q.waitMs ?? 0,
    signal: q.signal,
  });
  const bodies = r.parts.map((p) => p.batches.flatMap(payloadPartsOf));
  const parts = r.parts.map((p, i) => ({
    topic: p.topic,
    partition: p.partition,
    fromOffset: p.fromOffset,
    nextOffset: p.nextOffset,
    bytes: bodies[i].reduce((n, b) => n + b.length, 0),
  }));
  const header = Buffer.from(JSON.stringify({ assignment: r.assignment, parts }), "utf8");
  const length = Buffer.allocUnsafe(4);
  length.writeUInt32BE(header.length, 0);
  return [length, header, ...bodies.flat()];
}
