/**
 * Kafka RecordBatch v2 (magic 2) codec: the on-disk and on-wire format of Kafka's log.
 *
 * Layout (big-endian):
 *   baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 |
 *   crc uint32 (CRC-32C of attributes..end) | attributes int16 | lastOffsetDelta int32 |
 *   baseTimestamp int64 | maxTimestamp int64 | producerId int64 | producerEpoch int16 |
 *   baseSequence int32 | recordCount int32 | records...
 * Each record: length varint | attributes int8 | timestampDelta varlong | offsetDelta varint |
 *   keyLength varint | key | valueLength varint | value | headerCount varint |
 *   (headerKeyLength varint | headerKey | headerValueLength varint | headerValue)*
 */
import { crc32c } from "./crc32c.ts";
import { VarintReader, varintSize, writeVarint } from "./varint.ts";

export const BATCH_HEADER_SIZE = 61;
/** Bytes before the CRC-covered region (baseOffset..crc). */
const CRC_START = 21;
const MAGIC_OFFSET = 16;
const CRC_OFFSET = 17;
const ATTRIBUTES_OFFSET = 21;

export const ATTR_COMPRESSION_MASK = 0x07;
export const ATTR_LOG_APPEND_TIME = 0x08;
export const ATTR_TRANSACTIONAL = 0x10;
export const ATTR_CONTROL = 0x20;

export type TimestampType = "CreateTime" | "LogAppendTime";

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface RecordInput {
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  timestamp: number;
  /** Defaults to the record's index in the batch; compaction keeps original deltas. */
  offsetDelta?: number;
}

export interface EncodeBatchOptions {
  baseOffset: number;
  records: RecordInput[];
  timestampType?: TimestampType;
  /** With LogAppendTime, the broker's append time stamped as the batch's max timestamp. */
  logAppendTime?: number;
  /** Keeps the original last offset delta when records were removed (compaction). */
  lastOffsetDelta?: number;
  partitionLeaderEpoch?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  isControl?: boolean;
}

export interface RecordBatchHeader {
  baseOffset: number;
  /** Whole batch size in bytes, including baseOffset and batchLength. */
  sizeBytes: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  compression: number;
  timestampType: TimestampType;
  isTransactional: boolean;
  isControl: boolean;
  lastOffsetDelta: number;
  lastOffset: number;
  firstTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/** The header fields a batch is stored with beside its bytes (the columns queries need). */
export interface BatchColumns {
  recordCount: number;
  firstTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  isTransactional: boolean;
  isControl: boolean;
}

/** A batch ready to append: Kafka RecordBatch v2 bytes plus the columns queries need. */
export interface BatchToAppend extends BatchColumns {
  payload: Buffer;
  /** lastOffset - baseOffset; the batch takes lastOffsetDelta + 1 offsets. */
  lastOffsetDelta: number;
}

export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

/** A record as a fetch or a group poll returns it: decoded, with its batch's timestamp type. */
export interface FetchedRecord extends DecodedRecord {
  timestampType: TimestampType;
  /** With `markAborted`: the record belongs to a transaction that aborted (read_uncommitted readers see it). */
  aborted?: true;
}

/**
 * Why a client's batch is refused, as Kafka names it: CORRUPT_MESSAGE for bytes that do not
 * parse; INVALID_RECORD for a batch that parses but contradicts itself (offsets, header keys);
 * INVALID_TIMESTAMP for timestamps outside what a date (and a signed 64-bit column) can hold.
 */
export type RecordBatchErrorCode = "CORRUPT_MESSAGE" | "INVALID_RECORD" | "INVALID_TIMESTAMP";

/** Raised for bytes that are not a valid RecordBatch v2; the broker maps it to its `code`. */
export class RecordBatchFormatError extends Error {
  constructor(
    message: string,
    readonly code: RecordBatchErrorCode = "CORRUPT_MESSAGE",
  ) {
    super(message);
    this.name = "RecordBatchFormatError";
  }
}

/**
 * Timestamps a client's batch may carry: epoch milliseconds from 1970 up to the largest a
 * JavaScript Date holds (year 275760), as for JSON records. Far inside a signed 64-bit column.
 */
export const MAX_TIMESTAMP_MS = 8.64e15;

function bytesLen(b: Buffer | null): number {
  return b === null ? -1 : b.length;
}

function recordBodySize(r: RecordInput, timestampDelta: number, offsetDelta: number): number {
  let size = 1 + varintSize(timestampDelta) + varintSize(offsetDelta);
  size += varintSize(bytesLen(r.key)) + (r.key?.length ?? 0);
  size += varintSize(bytesLen(r.value)) + (r.value?.length ?? 0);
  size += varintSize(r.headers.length);
  for (const h of r.headers) {
    const k = Buffer.byteLength(h.key);
    size += varintSize(k) + k + varintSize(bytesLen(h.value)) + (h.value?.length ?? 0);
  }
  return size;
}

/** Size in bytes a record adds to a batch (upper bound for the delta varints). */
export function estimateRecordSize(r: RecordInput): number {
  const body = recordBodySize(r, 2 ** 40, 2 ** 20);
  return body + varintSize(body);
}

/** Encodes records as one uncompressed RecordBatch v2 with a valid CRC-32C. */
export function encodeRecordBatch(opts: EncodeBatchOptions): Buffer {
  const records = opts.records;
  if (records.length === 0) throw new RecordBatchFormatError("a record batch needs at least one record");
  const timestampType = opts.timestampType ?? "CreateTime";
  let firstTimestamp = records[0].timestamp;
  let maxTimestamp = firstTimestamp;
  for (const r of records) {
    if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp;
  }
  if (timestampType === "LogAppendTime") {
    const t = opts.logAppendTime ?? Date.now();
    firstTimestamp = t;
    maxTimestamp = t;
  }
  const bodySizes = new Array<number>(records.length);
  let total = BATCH_HEADER_SIZE;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    const tsDelta = timestampType === "LogAppendTime" ? 0 : r.timestamp - firstTimestamp;
    const body = recordBodySize(r, tsDelta, r.offsetDelta ?? i);
    bodySizes[i] = body;
    total += varintSize(body) + body;
  }
  const buf = Buffer.allocUnsafe(total);
  const lastOffsetDelta = opts.lastOffsetDelta ?? records[records.length - 1].offsetDelta ?? records.length - 1;
  let attributes = 0;
  if (timestampType === "LogAppendTime") attributes |= ATTR_LOG_APPEND_TIME;
  if (opts.isTransactional) attributes |= ATTR_TRANSACTIONAL;
  if (opts.isControl) attributes |= ATTR_CONTROL;
  buf.writeBigInt64BE(BigInt(opts.baseOffset), 0);
  buf.writeInt32BE(total - 12, 8);
  buf.writeInt32BE(opts.partitionLeaderEpoch ?? -1, 12);
  buf.writeInt8(2, MAGIC_OFFSET);
  buf.writeInt16BE(attributes, 21);
  buf.writeInt32BE(lastOffsetDelta, 23);
  buf.writeBigInt64BE(BigInt(firstTimestamp), 27);
  buf.writeBigInt64BE(BigInt(maxTimestamp), 35);
  buf.writeBigInt64BE(BigInt(opts.producerId ?? -1), 43);
  buf.writeInt16BE(opts.producerEpoch ?? -1, 51);
  buf.writeInt32BE(opts.baseSequence ?? -1, 53);
  buf.writeInt32BE(records.length, 57);
  let pos = BATCH_HEADER_SIZE;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    const tsDelta = timestampType === "LogAppendTime" ? 0 : r.timestamp - firstTimestamp;
    pos = writeVarint(buf, pos, bodySizes[i]);
    buf[pos++] = 0; // record attributes: unused
    pos = writeVarint(buf, pos, tsDelta);
    pos = writeVarint(buf, pos, r.offsetDelta ?? i);
    pos = writeBytes(buf, pos, r.key);
    pos = writeBytes(buf, pos, r.value);
    pos = writeVarint(buf, pos, r.headers.length);
    for (const h of r.headers) {
      const k = Buffer.from(h.key, "utf8");
      pos = writeVarint(buf, pos, k.length);
      pos += k.copy(buf, pos);
      pos = writeBytes(buf, pos, h.value);
    }
  }
  buf.writeUInt32BE(crc32c(buf, CRC_START, total), CRC_OFFSET);
  return buf;
}

function writeBytes(buf: Buffer, pos: number, b: Buffer | null): number {
  if (b === null) return writeVarint(buf, pos, -1);
  pos = writeVarint(buf, pos, b.length);
  return pos + b.copy(buf, pos);
}

/**
 * Reads and checks the fixed 61-byte header of the batch starting at `at`. `available`: the
 * batch's bytes there are, when `buf` holds only its first part (at least the header).
 */
export function readBatchHeader(buf: Buffer, at = 0, available = buf.length - at): RecordBatchHeader {
  if (buf.length - at < BATCH_HEADER_SIZE) {
    throw new RecordBatchFormatError(`record batch truncated: ${buf.length - at} bytes, the header alone needs ${BATCH_HEADER_SIZE}`);
  }
  const batchLength = buf.readInt32BE(at + 8);
  const sizeBytes = batchLength + 12;
  if (batchLength < BATCH_HEADER_SIZE - 12 || sizeBytes > available) {
    throw new RecordBatchFormatError(`record batch length ${batchLength} does not fit the ${available} bytes given`);
  }
  const magic = buf.readInt8(at + MAGIC_OFFSET);
  if (magic !== 2) throw new RecordBatchFormatError(`unsupported record batch magic ${magic}: only magic 2 (RecordBatch v2) is accepted`);
  const attributes = buf.readInt16BE(at + ATTRIBUTES_OFFSET);
  const baseOffset = Number(buf.readBigInt64BE(at));
  const lastOffsetDelta = buf.readInt32BE(at + 23);
  return {
    baseOffset,
    sizeBytes,
    partitionLeaderEpoch: buf.readInt32BE(at + 12),
    magic,
    crc: buf.readUInt32BE(at + CRC_OFFSET),
    attributes,
    compression: attributes & ATTR_COMPRESSION_MASK,
    timestampType: attributes & ATTR_LOG_APPEND_TIME ? "LogAppendTime" : "CreateTime",
    isTransactional: (attributes & ATTR_TRANSACTIONAL) !== 0,
    isControl: (attributes & ATTR_CONTROL) !== 0,
    lastOffsetDelta,
    lastOffset: baseOffset + lastOffsetDelta,
    firstTimestamp: Number(buf.readBigInt64BE(at + 27)),
    maxTimestamp: Number(buf.readBigInt64BE(at + 35)),
    producerId: Number(buf.readBigInt64BE(at + 43)),
    producerEpoch: buf.readInt16BE(at + 51),
    baseSequence: buf.readInt32BE(at + 53),
    recordCount: buf.readInt32BE(at + 57),
  };
}

/** True when the stored CRC-32C matches the batch's attributes..end bytes. */
export function hasValidCrc(batch: Buffer, header = readBatchHeader(batch)): boolean {
  return crc32c(batch, CRC_START, header.sizeBytes) === header.crc;
}

/** Rewrites the base offset in place (it is outside the CRC, as in Kafka). */
export function setBaseOffset(batch: Buffer, baseOffset: number): void {
  batch.writeBigInt64BE(BigInt(baseOffset), 0);
}

/**
 * Stamps LogAppendTime on a batch (attributes bit 3 and the max timestamp) and recomputes
 * the CRC, as Kafka's broker does for topics with message.timestamp.type=LogAppendTime.
 */
export function stampLogAppendTime(batch: Buffer, appendTime: number): void {
  const { sizeBytes } = readBatchHeader(batch);
  const attributes = batch.readInt16BE(ATTRIBUTES_OFFSET) | ATTR_LOG_APPEND_TIME;
  batch.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
  // Kafka's broker sets only the max timestamp; readers take it as every record's timestamp.
  batch.writeBigInt64BE(BigInt(appendTime), 35);
  batch.writeUInt32BE(crc32c(batch, CRC_START, sizeBytes), CRC_OFFSET);
}

/**
 * Splits a buffer holding one or more concatenated batches (a produce request's records, or a
 * fetch response) into views, validating each header. Does not check CRCs.
 */
export function splitBatches(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < buf.length) {
    const h = readBatchHeader(buf, at);
    out.push(buf.subarray(at, at + h.sizeBytes));
    at += h.sizeBytes;
  }
  return out;
}

/**
 * Decodes every record of an uncompressed batch (`forEachRecord`, keeping each record as an
 * object with its headers). Throws RecordBatchFormatError on malformed records, unsupported
 * compression, or a record count that does not match the header.
 */
export function decodeRecords(batch: Buffer, header = readBatchHeader(batch)): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  forEachRecord(batch, header, -Infinity, (r) => {
    out.push({ offset: r.offset, timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers() });
  });
  return out;
}

/**
 * One record of a batch as a reused view (a flyweight): offsets into the batch bytes instead of
 * objects, so reading a batch allocates nothing per record. Valid only inside the visit
 * callback of `forEachRecord`; copy what you keep (`key`/`value` are fresh views on each call).
 */
export class RecordView {
  batch: Buffer = Buffer.alloc(0);
  offset = 0;
  timestamp = 0;
  /** -1 for a null key/value. */
  keyStart = 0;
  keyLength = -1;
  valueStart = 0;
  valueLength = -1;
  headerCount = 0;
  /** Where the headers start (read them with `headers()`). */
  headersStart = 0;
  recordEnd = 0;

  get key(): Buffer | null {
    return this.keyLength < 0 ? null : this.batch.subarray(this.keyStart, this.keyStart + this.keyLength);
  }

  get value(): Buffer | null {
    return this.valueLength < 0 ? null : this.batch.subarray(this.valueStart, this.valueStart + this.valueLength);
  }

  /** The record's headers, read from the batch; they must fill the rest of the record exactly. */
  headers(): RecordHeader[] {
    const rd = new VarintReader(this.batch, this.headersStart, this.recordEnd);
    const out: RecordHeader[] = [];
    try {
      for (let j = 0; j < this.headerCount; j++) {
        const k = readBytes(rd, this.recordEnd);
        if (k === null) throw new RecordBatchFormatError(`record at offset ${this.offset} has a header with a null key`);
        out.push({ key: k.toString("utf8"), value: readBytes(rd, this.recordEnd) });
      }
    } catch (e) {
      if (e instanceof RangeError) throw new RecordBatchFormatError(`record at offset ${this.offset} is truncated: ${e.message}`);
      throw e;
    }
    if (rd.pos !== this.recordEnd)
      throw new RecordBatchFormatError(`record at offset ${this.offset}: its length does not match its contents`);
    return out;
  }
}

/**
 * Visits every record of an uncompressed batch (offset >= `fromOffset`) through one reused
 * `RecordView`, checking lengths as `decodeRecords` does. Returns the number visited.
 */
export function forEachRecord(
  batch: Buffer,
  header: RecordBatchHeader,
  fromOffset: number,
  visit: (r: RecordView) => void,
  view = new RecordView(),
): number {
  if (header.compression !== 0) {
    throw new RecordBatchFormatError(`compressed record batches (codec ${header.compression}) are not supported`);
  }
  const rd = new VarintReader(batch, BATCH_HEADER_SIZE, header.sizeBytes);
  const logAppend = header.timestampType === "LogAppendTime";
  view.batch = batch;
  let visited = 0;
  try {
    for (let i = 0; i < header.recordCount; i++) {
      const len = rd.varint();
      const end = rd.pos + len;
      if (len < 1 || end > header.sizeBytes) throw new RecordBatchFormatError(`record ${i} has invalid length ${len}`);
      rd.pos++; // attributes
      const tsDelta = rd.varint();
      const offset = header.baseOffset + rd.varint();
      const kl = rd.varint();
      if (kl < -1 || rd.pos + kl > end) throw new RecordBatchFormatError(`record ${i} key length ${kl} overruns its record`);
      view.keyStart = rd.pos;
      view.keyLength = kl;
      if (kl > 0) rd.pos += kl;
      const vl = rd.varint();
      if (vl < -1 || rd.pos + vl > end) throw new RecordBatchFormatError(`record ${i} value length ${vl} overruns its record`);
      view.valueStart = rd.pos;
      view.valueLength = vl;
      if (vl > 0) rd.pos += vl;
      const hc = rd.varint();
      if (hc < 0 || hc > len) throw new RecordBatchFormatError(`record ${i} has invalid header count ${hc}`);
      view.headerCount = hc;
      view.headersStart = rd.pos;
      view.recordEnd = end;
      rd.pos = end;
      if (offset < fromOffset) continue;
      view.offset = offset;
      view.timestamp = logAppend ? header.maxTimestamp : header.firstTimestamp + tsDelta;
      visit(view);
      visited++;
    }
  } catch (e) {
    if (e instanceof RangeError) throw new RecordBatchFormatError(`record batch truncated: ${e.message}`);
    throw e;
  }
  if (rd.pos !== header.sizeBytes) {
    throw new RecordBatchFormatError(`record batch has ${header.sizeBytes - rd.pos} trailing bytes after ${header.recordCount} records`);
  }
  return visited;
}

/**
 * Checks a client's uncompressed batch in one pass over its bytes, without building record
 * objects: every record well formed and its length matching its contents (CORRUPT_MESSAGE);
 * lastOffsetDelta = record count - 1 and each record's offset delta = its index, so a batch
 * claims exactly the offsets it fills (INVALID_RECORD); header keys valid UTF-8 (INVALID_RECORD);
 * the base, max and every record's timestamp within 0..MAX_TIMESTAMP_MS (INVALID_TIMESTAMP).
 * Returns the record count; throws RecordBatchFormatError with the code and what is wrong.
 */
export function validateRecords(batch: Buffer, header = readBatchHeader(batch)): number {
  if (header.compression !== 0) {
    throw new RecordBatchFormatError(`compressed record batches (codec ${header.compression}) are not supported`);
  }
  const count = header.recordCount;
  if (header.lastOffsetDelta !== count - 1) {
    throw new RecordBatchFormatError(
      `lastOffsetDelta ${header.lastOffsetDelta} does not match the batch's ${count} records (it must be ${count - 1})`,
      "INVALID_RECORD",
    );
  }
  const base = header.firstTimestamp;
  checkTimestamp(base, "baseTimestamp");
  checkTimestamp(header.maxTimestamp, "maxTimestamp");
  const rd = new VarintReader(batch, BATCH_HEADER_SIZE, header.sizeBytes);
  try {
    for (let i = 0; i < count; i++) {
      const len = varint(rd);
      const end = rd.pos + len;
      if (len < 1 || end > header.sizeBytes) throw new RecordBatchFormatError(`record ${i} has invalid length ${len}`);
      rd.pos++; // attributes
      const timestamp = base + varint(rd);
      if (!(timestamp >= 0 && timestamp <= MAX_TIMESTAMP_MS)) {
        throw new RecordBatchFormatError(
          `record ${i} has timestamp ${timestamp} (baseTimestamp + timestampDelta): expected epoch milliseconds 0..${MAX_TIMESTAMP_MS}`,
          "INVALID_TIMESTAMP",
        );
      }
      const offsetDelta = varint(rd);
      if (offsetDelta !== i)
        throw new RecordBatchFormatError(
          `record ${i} has offset delta ${offsetDelta}: record i of a batch must have offset delta i`,
          "INVALID_RECORD",
        );
      skipBytes(rd, end);
      skipBytes(rd, end);
      const headerCount = varint(rd);
      if (headerCount < 0 || headerCount > len) throw new RecordBatchFormatError(`record ${i} has invalid header count ${headerCount}`);
      for (let j = 0; j < headerCount; j++) {
        const keyLength = skipBytes(rd, end);
        if (keyLength < 0) throw new RecordBatchFormatError(`record ${i} has a header with a null key`);
        // ASCII inline (the usual key); the rest of a key past its first other byte decoded properly
        const keyEnd = rd.pos;
        let k = keyEnd - keyLength;
        while (k < keyEnd && batch[k] < 0x80) k++;
        if (k < keyEnd && !isUtf8(batch, k, keyEnd))
          throw new RecordBatchFormatError(`record ${i} has header ${j} whose header key is not valid UTF-8`, "INVALID_RECORD");
        skipBytes(rd, end);
      }
      if (rd.pos !== end) throw new RecordBatchFormatError(`record ${i} length ${len} does not match its contents`);
    }
  } catch (e) {
    if (e instanceof RangeError) throw new RecordBatchFormatError(`record batch truncated: ${e.message}`);
    throw e;
  }
  if (rd.pos !== header.sizeBytes) {
    throw new RecordBatchFormatError(`record batch has ${header.sizeBytes - rd.pos} trailing bytes after ${count} records`);
  }
  return count;
}

function checkTimestamp(t: number, field: string): void {
  if (!(t >= 0 && t <= MAX_TIMESTAMP_MS)) {
    throw new RecordBatchFormatError(
      `${field} ${t} is out of range: expected epoch milliseconds 0..${MAX_TIMESTAMP_MS}`,
      "INVALID_TIMESTAMP",
    );
  }
}

/**
 * True when bytes start..end are well-formed UTF-8 (no overlong forms, surrogates or code points
 * past U+10FFFF), as TextDecoder's fatal mode decides; inline because header keys are short and
 * a view per key would cost more than the check.
 */
export function isUtf8(b: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    const c = b[i];
    if (c < 0x80) {
      i++;
    } else if (c < 0xc2) {
      return false; // a continuation byte, or the lead of an overlong 2-byte form
    } else if (c < 0xe0) {
      if (i + 1 >= end || (b[i + 1] & 0xc0) !== 0x80) return false;
      i += 2;
    } else if (c < 0xf0) {
      if (i + 2 >= end) return false;
      const c1 = b[i + 1];
      if ((c1 & 0xc0) !== 0x80 || (b[i + 2] & 0xc0) !== 0x80) return false;
      if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 >= 0xa0)) return false; // overlong; a surrogate
      i += 3;
    } else if (c < 0xf5) {
      if (i + 3 >= end) return false;
      const c1 = b[i + 1];
      if ((c1 & 0xc0) !== 0x80 || (b[i + 2] & 0xc0) !== 0x80 || (b[i + 3] & 0xc0) !== 0x80) return false;
      if ((c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 >= 0x90)) return false; // overlong; past U+10FFFF
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

/**
 * A varint, with values of up to 4 bytes (28 bits: every length, delta and count of ordinary
 * records) read in integer arithmetic; longer ones, and truncated input, by the general reader.
 * Validating a client's batch reads a few of these per record, so this is its inner loop.
 */
function varint(rd: VarintReader): number {
  const buf = rd.buf;
  let p = rd.pos;
  if (p + 4 <= rd.end) {
    let v = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      const b = buf[p++];
      v |= (b & 0x7f) << shift;
      if (b < 0x80) {
        rd.pos = p;
        return (v >>> 1) ^ -(v & 1);
      }
    }
  }
  return rd.varint();
}

/** Skips a length-prefixed field; returns its length (-1 for null). */
function skipBytes(rd: VarintReader, end: number): number {
  const len = varint(rd);
  if (len === -1) return -1;
  if (len < -1 || rd.pos + len > end) throw new RecordBatchFormatError(`field length ${len} overruns its record`);
  rd.pos += len;
  return len;
}

function readBytes(rd: VarintReader, end: number): Buffer | null {
  const len = rd.varint();
  if (len === -1) return null;
  if (len < -1 || rd.pos + len > end) throw new RecordBatchFormatError(`field length ${len} overruns its record`);
  const b = Buffer.from(rd.buf.buffer, rd.buf.byteOffset + rd.pos, len);
  rd.pos += len;
  return b;
}
