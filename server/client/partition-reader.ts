/**
 * Reads one partition on the binary path: the stored RecordBatch v2 bytes as they are, decoded
 * on the client; long-polls at the head.
 */
import { decodeRecords, readBatchHeader, type DecodedRecord } from "../broker/log/record-batch.ts";
import { raiseFor } from "./http-client.ts";

export interface FetchedBatch {
  records: DecodedRecord[];
  highWatermark: number;
  nextOffset: number;
}

export class PartitionReader {
  constructor(
    private readonly baseUrl: string,
    readonly topic: string,
    readonly partition: number,
    public offset = 0,
  ) {}

  /** Raw batches from the current offset; advances past them. */
  async fetchRaw(maxBytes = 4 * 1024 * 1024, waitMs = 0): Promise<{ payload: Buffer; highWatermark: number; nextOffset: number }> {
    const res = await fetch(
      `${this.baseUrl}/api/v1/topics/${encodeURIComponent(this.topic)}/partitions/${this.partition}/records?offset=${this.offset}&maxBytes=${maxBytes}&waitMs=${waitMs}`,
      { headers: { accept: "application/vnd.kafka.record-batch" } },
    );
    if (!res.ok) await raiseFor(res);
    const payload = Buffer.from(await res.arrayBuffer());
    const nextOffset = Number(res.headers.get("x-next-offset"));
    const highWatermark = Number(res.headers.get("x-high-watermark"));
    this.offset = nextOffset;
    return { payload, highWatermark, nextOffset };
  }

  /** Decoded records from the current offset (records before it in the first batch are skipped). */
  async fetch(maxBytes?: number, waitMs = 0): Promise<FetchedBatch> {
    const from = this.offset;
    const { payload, highWatermark, nextOffset } = await this.fetchRaw(maxBytes, waitMs);
    const records: DecodedRecord[] = [];
    let at = 0;
    while (at < payload.length) {
      const h = readBatchHeader(payload, at);
      const batch = payload.subarray(at, at + h.sizeBytes);
      at += h.sizeBytes;
      if (h.isControl) continue;
      for (const r of decodeRecords(batch, h)) if (r.offset >= from) records.push(r);
    }
    return { records, highWatermark, nextOffset };
  }
}
