/**
 * Reads one partition on the binary path: the stored RecordBatch v2 bytes as they are, decoded
 * on the client; long-polls at the head.
 */
import { decodeRecords, forEachRecord, readBatchHeader, RecordView, type DecodedRecord } from "../broker/protocol/record-batch.ts";
import type { Scratch } from "./http-client.ts";
import { httpTransport, type ClientTransport, type PartitionFetch } from "./transport.ts";

export interface FetchedBatch {
  records: DecodedRecord[];
  highWatermark: number;
  /** Under read_committed, where reading stops (the first offset of the oldest open transaction); the high watermark when the broker does not say. */
  lastStableOffset: number;
  nextOffset: number;
}

export interface RawFetch {
  payload: Buffer;
  highWatermark: number;
  lastStableOffset: number;
  nextOffset: number;
}

/** Bytes a fetch asks for when the caller does not say. */
const DEFAULT_FETCH_BYTES = 4 * 1024 * 1024;

export type Isolation = "read_committed" | "read_uncommitted";

export class PartitionReader {
  /**
   * `isolation`: read_committed reads only committed transactional records, up to the last
   * stable offset (aborted batches and commit/abort markers leave gaps in the offsets, so
   * always continue from `nextOffset`); omitted: the broker's default, read_uncommitted.
   */
  private readonly transport: ClientTransport;

  /** `broker`: the server's base URL (the REST API), or a transport (see transport.ts). */
  constructor(
    broker: string | ClientTransport,
    readonly topic: string,
    readonly partition: number,
    public offset = 0,
    readonly isolation?: Isolation,
  ) {
    this.transport = typeof broker === "string" ? httpTransport(broker) : broker;
  }

  /** Raw batches from the current offset; advances past them. */
  async fetchRaw(maxBytes = DEFAULT_FETCH_BYTES, waitMs = 0): Promise<RawFetch> {
    const { batches, highWatermark, lastStableOffset, nextOffset } = await this.fetchInto(maxBytes, waitMs);
    const payload = batches.length === 1 ? batches[0] : Buffer.concat(batches);
    return { payload, highWatermark, lastStableOffset, nextOffset };
  }

  /** poll()'s response buffer, reused: its records are only visited, never handed out. */
  private readonly scratch: Scratch = { buffer: null };

  private async fetchInto(maxBytes: number, waitMs: number, scratch?: Scratch): Promise<PartitionFetch> {
    const r = await this.transport.fetchPartition(
      this.topic,
      this.partition,
      { offset: this.offset, maxBytes, waitMs, ...(this.isolation ? { isolation: this.isolation } : {}) },
      scratch,
    );
    this.offset = r.nextOffset;
    return r;
  }

  private readonly view = new RecordView();

  /**
   * Visits the records from the current offset through one reused `RecordView` (no object per
   * record: the fast way to read a partition); copy what you keep: the bytes it shows are reused by
   * the next poll, so poll one at a time. Returns how many were visited.
   */
  async poll(
    visit: (record: RecordView) => void,
    maxBytes = DEFAULT_FETCH_BYTES,
    waitMs = 0,
  ): Promise<{ count: number; highWatermark: number; lastStableOffset: number; nextOffset: number }> {
    const from = this.offset;
    const { batches, highWatermark, lastStableOffset, nextOffset } = await this.fetchInto(maxBytes, waitMs, this.scratch);
    let count = 0;
    for (const payload of batches) {
      let at = 0;
      while (at < payload.length) {
        const h = readBatchHeader(payload, at);
        const batch = payload.subarray(at, at + h.sizeBytes);
        at += h.sizeBytes;
        if (!h.isControl) count += forEachRecord(batch, h, from, visit, this.view);
      }
    }
    return { count, highWatermark, lastStableOffset, nextOffset };
  }

  /**
   * Decoded records from the current offset (records before it in the first batch are skipped,
   * and so are control batches: transaction markers).
   */
  async fetch(maxBytes?: number, waitMs = 0): Promise<FetchedBatch> {
    const from = this.offset;
    const { batches, highWatermark, lastStableOffset, nextOffset } = await this.fetchInto(maxBytes ?? DEFAULT_FETCH_BYTES, waitMs);
    const records: DecodedRecord[] = [];
    for (const payload of batches) {
      let at = 0;
      while (at < payload.length) {
        const h = readBatchHeader(payload, at);
        const batch = payload.subarray(at, at + h.sizeBytes);
        at += h.sizeBytes;
        if (h.isControl) continue;
        for (const r of decodeRecords(batch, h)) if (r.offset >= from) records.push(r);
      }
    }
    return { records, highWatermark, lastStableOffset, nextOffset };
  }
}
