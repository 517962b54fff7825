/**
 * Turns records into append-ready batches and validates batches that clients send as bytes,
 * applying the topic's max.message.bytes and timestamp type as Kafka's broker does.
 */
import {
  BATCH_HEADER_SIZE,
  RecordBatchFormatError,
  decodeRecords,
  validateRecords,
  encodeRecordBatch,
  estimateRecordSize,
  hasValidCrc,
  readBatchHeader,
  splitBatches,
  stampLogAppendTime,
  type BatchToAppend,
  type RecordInput,
} from "./record-batch.ts";
import { BrokerError } from "../errors.ts";

/**
 * The topic configs that shape a batch (a structural subset of the broker's `TopicConfigs`, so
 * the protocol does not depend on the broker's config module).
 */
export interface BatchRules {
  "max.message.bytes": number;
  "message.timestamp.type": "CreateTime" | "LogAppendTime";
  /** Anything other than "delete" compacts, so every record needs a key. */
  "cleanup.policy": string;
}

export function tooLarge(size: number, limit: number): BrokerError {
  return new BrokerError("MESSAGE_TOO_LARGE", `record batch of ${size} bytes exceeds the topic's max.message.bytes of ${limit}`, {
    sizeBytes: size,
    maxMessageBytes: limit,
  });
}

function toAppend(payload: Buffer, records: number): BatchToAppend {
  const h = readBatchHeader(payload);
  return {
    payload,
    recordCount: records,
    lastOffsetDelta: h.lastOffsetDelta,
    firstTimestamp: h.firstTimestamp,
    maxTimestamp: h.maxTimestamp,
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    baseSequence: h.baseSequence,
    isTransactional: h.isTransactional,
    isControl: h.isControl,
  };
}

/** The idempotent (or transactional) producer whose batches these are; sequences run on from baseSequence. */
export interface BatchProducer {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  isTransactional: boolean;
}

/**
 * Packs records for one partition into as few batches as max.message.bytes allows. A record
 * that alone exceeds the limit fails the whole call before anything is written.
 */
export function buildBatches(records: RecordInput[], configs: BatchRules, now: number, producer?: BatchProducer): BatchToAppend[] {
  const limit = configs["max.message.bytes"];
  const logAppend = configs["message.timestamp.type"] === "LogAppendTime";
  const out: BatchToAppend[] = [];
  let current: RecordInput[] = [];
  let size = BATCH_HEADER_SIZE;
  let sequence = producer?.baseSequence ?? -1;
  const flush = () => {
    if (current.length === 0) return;
    const payload = encodeRecordBatch({
      baseOffset: 0,
      records: current,
      timestampType: logAppend ? "LogAppendTime" : "CreateTime",
      logAppendTime: now,
      ...(producer && {
        producerId: producer.producerId,
        producerEpoch: producer.producerEpoch,
        baseSequence: sequence,
        isTransactional: producer.isTransactional,
      }),
    });
    if (producer) sequence = (sequence + current.length) % 2 ** 31;
    if (payload.length > limit) throw tooLarge(payload.length, limit);
    out.push(toAppend(payload, current.length));
    current = [];
    size = BATCH_HEADER_SIZE;
  };
  for (const r of records) {
    const s = estimateRecordSize(r);
    if (BATCH_HEADER_SIZE + s > limit) {
      // exact size, to report the figure Kafka would
      const exact = encodeRecordBatch({ baseOffset: 0, records: [r] }).length;
      if (exact > limit) throw tooLarge(exact, limit);
    }
    if (current.length > 0 && size + s > limit) flush();
    current.push(r);
    size += s;
  }
  flush();
  return out;
}

export interface ValidatedBatches {
  batches: BatchToAppend[];
  recordCount: number;
}

/**
 * Validates client-supplied RecordBatch v2 bytes (one or more concatenated batches): magic,
 * lengths, CRC-32C, every record decodable, no compression, no control batches, size within
 * max.message.bytes; stamps LogAppendTime when the topic asks for it.
 */
export function validateClientBatches(payload: Buffer, configs: BatchRules, now: number): ValidatedBatches {
  const limit = configs["max.message.bytes"];
  const compacted = configs["cleanup.policy"] !== "delete";
  let parts: Buffer[];
  try {
    parts = splitBatches(payload);
  } catch (e) {
    throw corrupt(e);
  }
  if (parts.length === 0) throw new BrokerError("INVALID_REQUEST", "the request holds no record batch");
  const batches: BatchToAppend[] = [];
  let recordCount = 0;
  for (const part of parts) {
    const h = readBatchHeader(part);
    if (h.sizeBytes > limit) throw tooLarge(h.sizeBytes, limit);
    // The CRC first (as Kafka's broker does): the attributes below are only meaningful if intact.
    if (!hasValidCrc(part, h)) throw new BrokerError("CORRUPT_MESSAGE", "record batch CRC-32C does not match its contents");
    if (h.compression !== 0) {
      throw new BrokerError(
        "UNSUPPORTED_COMPRESSION_TYPE",
        `compression codec ${h.compression} is not supported; send uncompressed batches`,
      );
    }
    if (h.isControl) throw new BrokerError("INVALID_RECORD", "clients may not write control batches");
    if (h.isTransactional && h.producerId < 0) throw new BrokerError("INVALID_RECORD", "a transactional batch needs a producer id");
    if (h.producerId >= 0 && (h.producerEpoch < 0 || h.baseSequence < 0)) {
      throw new BrokerError("INVALID_RECORD", `a batch with producer id ${h.producerId} needs a producer epoch and a base sequence >= 0`);
    }
    let records: number;
    try {
      records = validateRecords(part, h);
      if (records === 0) throw new RecordBatchFormatError("record batch holds no records");
      if (compacted) requireKeys(part, h);
    } catch (e) {
      throw corrupt(e);
    }
    // Our own bytes (we patch offsets, the cache keeps them): a batch that is the whole of a
    // buffer made for this request (the usual one-batch request) is used as it is; a slice of
    // something larger is copied, so it neither pins the rest nor shares memory.
    const own = part.byteOffset === 0 && part.byteLength === part.buffer.byteLength ? part : Buffer.from(part);
    if (configs["message.timestamp.type"] === "LogAppendTime") stampLogAppendTime(own, now);
    batches.push(toAppend(own, records));
    recordCount += records;
  }
  return { batches, recordCount };
}

/** Kafka refuses records without a key on compacted topics. */
function requireKeys(batch: Buffer, header: ReturnType<typeof readBatchHeader>): void {
  for (const r of decodeRecords(batch, header)) {
    if (r.key === null) {
      throw new BrokerError("INVALID_RECORD", "a compacted topic requires a key on every record; the batch holds a record without one");
    }
  }
}

function corrupt(e: unknown): BrokerError {
  if (e instanceof RecordBatchFormatError) return new BrokerError(e.code, e.message);
  throw e;
}
