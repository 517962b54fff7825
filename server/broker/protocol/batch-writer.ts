/**
 * Writes records straight into one RecordBatch v2 buffer as they arrive, as Kafka's
 * MemoryRecordsBuilder does, so a producer keeps no per-record objects between send() and the
 * request (the client's accumulator). `finish` writes the 61-byte header and the CRC-32C.
 */
import { crc32c } from "./crc32c.ts";
import { ATTR_TRANSACTIONAL, BATCH_HEADER_SIZE, type RecordHeader } from "./record-batch.ts";
import { varintSize, writeVarint } from "./varint.ts";

export interface BatchWriterOptions {
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
}

const NO_HEADERS: readonly RecordHeader[] = Object.freeze([]);

/** A key's or value's bytes in the batch (text as UTF-8; -1 for null). */
export const byteLengthOf = (v: Buffer | string | null) =>
  v === null ? -1 : typeof v === "string" ? Buffer.byteLength(v, "utf8") : v.length;

/** Writes a key or value (its length, then its bytes) at `p`; returns the position after it. */
function writeBytes(b: Buffer, p: number, v: Buffer | string | null, bytes: number): number {
  if (v === null) return writeVarint(b, p, -1);
  p = writeVarint(b, p, bytes);
  return p + (typeof v === "string" ? b.write(v, p, "utf8") : v.copy(b, p));
}

export class RecordBatchWriter {
  private buf: Buffer;
  private pos = BATCH_HEADER_SIZE;
  private firstTimestamp = 0;
  private maxTimestamp = 0;
  count = 0;

  /**
   * `capacity`: the batch size to aim for; a first record larger than it still fits.
   * `reuse`: a buffer of at least that size to write into (a producer's pool), instead of a new one.
   */
  constructor(
    private readonly capacity: number,
    reuse?: Buffer,
  ) {
    const size = Math.max(capacity, BATCH_HEADER_SIZE + 64);
    this.buf = reuse && reuse.length >= size ? reuse : Buffer.allocUnsafe(size);
  }

  /** The buffer written into (for reuse by the next batch once this one's bytes are no longer needed). */
  get buffer(): Buffer {
    return this.buf;
  }

  get sizeBytes(): number {
    return this.pos;
  }

  /**
   * Appends a record; false (and nothing written) when it would take the batch past its
   * capacity: the caller finishes this batch and starts the next with the record. A key or value
   * given as text is written as its UTF-8 bytes straight into the batch (no Buffer of its own).
   */
  tryAppend(
    key: Buffer | string | null,
    value: Buffer | string | null,
    headers: readonly RecordHeader[] | undefined,
    timestamp: number,
  ): boolean {
    if (this.count === 0) {
      this.firstTimestamp = timestamp;
      this.maxTimestamp = timestamp;
    }
    const tsDelta = timestamp - this.firstTimestamp;
    const offsetDelta = this.count;
    const keyBytes = byteLengthOf(key);
    const valueBytes = byteLengthOf(value);
    let body = 1 + varintSize(tsDelta) + varintSize(offsetDelta);
    body += key === null ? 1 : varintSize(keyBytes) + keyBytes;
    body += value === null ? 1 : varintSize(valueBytes) + valueBytes;
    const hs = headers ?? NO_HEADERS;
    body += varintSize(hs.length);
    // indexed loops: an iterator over the (often shared, frozen, empty) headers cost an object per record
    for (let i = 0; i < hs.length; i++) {
      const h = hs[i];
      const k = Buffer.byteLength(h.key);
      body += varintSize(k) + k + (h.value === null ? 1 : varintSize(h.value.length) + h.value.length);
    }
    const total = varintSize(body) + body;
    if (this.pos + total > this.buf.length) {
      if (this.count > 0) return false;
      const bigger = Buffer.allocUnsafe(this.pos + total);
      this.buf.copy(bigger, 0, 0, this.pos);
      this.buf = bigger;
    }
    const b = this.buf;
    let p = writeVarint(b, this.pos, body);
    b[p++] = 0;
    p = writeVarint(b, p, tsDelta);
    p = writeVarint(b, p, offsetDelta);
    p = writeBytes(b, p, key, keyBytes);
    p = writeBytes(b, p, value, valueBytes);
    p = writeVarint(b, p, hs.length);
    for (let i = 0; i < hs.length; i++) {
      const h = hs[i];
      p = writeVarint(b, p, Buffer.byteLength(h.key));
      p += b.write(h.key, p, "utf8");
      if (h.value === null) p = writeVarint(b, p, -1);
      else {
        p = writeVarint(b, p, h.value.length);
        p += h.value.copy(b, p);
      }
    }
    this.pos = p;
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
    this.count++;
    return true;
  }

  /** Whether another record of about `bytes` would still fit. */
  hasRoomFor(bytes: number): boolean {
    return this.pos + bytes + 16 <= this.capacity;
  }

  /** The finished batch (base offset 0; the broker assigns offsets). The writer is spent. */
  finish(opts: BatchWriterOptions = {}): Buffer {
    const b = this.buf;
    b.writeBigInt64BE(0n, 0);
    b.writeInt32BE(this.pos - 12, 8);
    b.writeInt32BE(-1, 12);
    b.writeInt8(2, 16);
    b.writeInt16BE(opts.isTransactional ? ATTR_TRANSACTIONAL : 0, 21);
    b.writeInt32BE(this.count - 1, 23);
    b.writeBigInt64BE(BigInt(this.firstTimestamp), 27);
    b.writeBigInt64BE(BigInt(this.maxTimestamp), 35);
    b.writeBigInt64BE(BigInt(opts.producerId ?? -1), 43);
    b.writeInt16BE(opts.producerEpoch ?? -1, 51);
    b.writeInt32BE(opts.baseSequence ?? -1, 53);
    b.writeInt32BE(this.count, 57);
    b.writeUInt32BE(crc32c(b, 21, this.pos), 17);
    return b.subarray(0, this.pos);
  }
}
