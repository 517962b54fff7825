/** Reading what a real server holds, as tests check outputs: committed records and conditions that take a while. */
import { PartitionReader } from "../client/index.ts";

export interface CommittedRecord {
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/** Every record a read_committed consumer sees in `topic`'s first `partitions` partitions, in partition then offset order. */
export async function readCommitted(baseUrl: string, topic: string, partitions = 1): Promise<CommittedRecord[]> {
  const out: CommittedRecord[] = [];
  for (let p = 0; p < partitions; p++) {
    const reader = new PartitionReader(baseUrl, topic, p, 0, "read_committed");
    for (;;) {
      const batch = await reader.fetch();
      for (const r of batch.records)
        out.push({
          key: r.key?.toString() ?? null,
          value: r.value?.toString() ?? null,
          headers: Object.fromEntries(r.headers.map((h) => [h.key, h.value?.toString() ?? ""])),
        });
      if (batch.records.length === 0 && reader.offset >= batch.lastStableOffset) break;
    }
  }
  return out;
}

/** Reads until `ok` holds (every 200 ms), failing after `timeoutMs` with what was last read. */
export async function eventually<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
