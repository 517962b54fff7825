/**
 * Kafka control records: the commit/abort markers a transaction leaves in every partition it
 * touched (Kafka's EndTransactionMarker / ControlRecordType).
 *
 * A marker is a RecordBatch v2 with the control and transactional attribute bits set, the
 * transaction's producer id and (marker) epoch, baseSequence -1, holding one record:
 *   key   = version int16 (0) | type int16 (0 = ABORT, 1 = COMMIT)
 *   value = version int16 (0) | coordinatorEpoch int32
 * The record has no headers, timestamp delta 0 and offset delta 0, so the batch is 78 bytes and
 * takes exactly one offset. Readers skip control batches; a newer key/value version is parsed
 * as version 0, as Kafka does.
 */
import { decodeRecords, encodeRecordBatch, readBatchHeader, RecordBatchFormatError, type BatchToAppend } from "./record-batch.ts";

export const CONTROL_TYPE_ABORT = 0;
export const CONTROL_TYPE_COMMIT = 1;
const CONTROL_KEY_VERSION = 0;
const END_TXN_MARKER_VERSION = 0;
export const CONTROL_KEY_SIZE = 4;
export const END_TXN_MARKER_VALUE_SIZE = 6;

export interface ControlRecordKey {
  version: number;
  /** 0 abort, 1 commit; Kafka also defines others (e.g. 2 leader change) that we never write. */
  type: number;
}

export interface EndTxnMarker {
  commit: boolean;
  coordinatorEpoch: number;
}

/** A marker as read back from a stored control batch. */
export interface StoredEndTxnMarker extends EndTxnMarker {
  producerId: number;
  producerEpoch: number;
  offset: number;
  timestamp: number;
}

export function encodeControlKey(type: number): Buffer {
  const b = Buffer.alloc(CONTROL_KEY_SIZE);
  b.writeInt16BE(CONTROL_KEY_VERSION, 0);
  b.writeInt16BE(type, 2);
  return b;
}

export function decodeControlKey(key: Buffer | null): ControlRecordKey {
  if (key === null || key.length < CONTROL_KEY_SIZE) {
    throw new RecordBatchFormatError(
      `control record key must hold at least ${CONTROL_KEY_SIZE} bytes, got ${key === null ? "null" : key.length}`,
    );
  }
  const version = key.readInt16BE(0);
  if (version < 0) throw new RecordBatchFormatError(`invalid control record key version ${version}`);
  return { version, type: key.readInt16BE(2) };
}

export function encodeEndTxnMarkerValue(coordinatorEpoch: number): Buffer {
  const b = Buffer.alloc(END_TXN_MARKER_VALUE_SIZE);
  b.writeInt16BE(END_TXN_MARKER_VERSION, 0);
  b.writeInt32BE(coordinatorEpoch, 2);
  return b;
}

export function decodeEndTxnMarkerValue(value: Buffer | null): { version: number; coordinatorEpoch: number } {
  if (value === null || value.length < END_TXN_MARKER_VALUE_SIZE) {
    throw new RecordBatchFormatError(
      `end transaction marker value must hold at least ${END_TXN_MARKER_VALUE_SIZE} bytes, got ${value === null ? "null" : value.length}`,
    );
  }
  const version = value.readInt16BE(0);
  if (version < 0) throw new RecordBatchFormatError(`invalid end transaction marker version ${version}`);
  return { version, coordinatorEpoch: value.readInt32BE(2) };
}

export interface EndTxnMarkerBatchOptions {
  producerId: number;
  producerEpoch: number;
  commit: boolean;
  coordinatorEpoch: number;
  /** The marker's timestamp (Kafka: the coordinator's time of writing). */
  timestamp: number;
  /** The log assigns the real offset on append. */
  baseOffset?: number;
  partitionLeaderEpoch?: number;
}

/** One control batch holding one commit or abort marker. */
export function encodeEndTxnMarkerBatch(opts: EndTxnMarkerBatchOptions): Buffer {
  if (!Number.isSafeInteger(opts.producerId) || opts.producerId < 0)
    throw new RangeError(`marker producer id must be >= 0, got ${opts.producerId}`);
  if (!Number.isInteger(opts.producerEpoch) || opts.producerEpoch < 0 || opts.producerEpoch > 0x7fff) {
    throw new RangeError(`marker producer epoch must be 0..32767, got ${opts.producerEpoch}`);
  }
  if (!Number.isInteger(opts.coordinatorEpoch) || opts.coordinatorEpoch < 0 || opts.coordinatorEpoch > 0x7fffffff) {
    throw new RangeError(`coordinator epoch must be 0..2^31-1, got ${opts.coordinatorEpoch}`);
  }
  return encodeRecordBatch({
    baseOffset: opts.baseOffset ?? 0,
    partitionLeaderEpoch: opts.partitionLeaderEpoch,
    producerId: opts.producerId,
    producerEpoch: opts.producerEpoch,
    baseSequence: -1,
    isTransactional: true,
    isControl: true,
    records: [
      {
        key: encodeControlKey(opts.commit ? CONTROL_TYPE_COMMIT : CONTROL_TYPE_ABORT),
        value: encodeEndTxnMarkerValue(opts.coordinatorEpoch),
        headers: [],
        timestamp: opts.timestamp,
      },
    ],
  });
}

/** The marker batch with the columns `LogStore.append` needs (one record, one offset). */
export function endTxnMarkerBatchToAppend(opts: EndTxnMarkerBatchOptions): BatchToAppend {
  return {
    payload: encodeEndTxnMarkerBatch(opts),
    recordCount: 1,
    lastOffsetDelta: 0,
    firstTimestamp: opts.timestamp,
    maxTimestamp: opts.timestamp,
    producerId: opts.producerId,
    producerEpoch: opts.producerEpoch,
    baseSequence: -1,
    isTransactional: true,
    isControl: true,
  };
}

/**
 * Reads the end-transaction marker of a stored control batch. Returns null for a control batch
 * of another type (or one emptied by compaction); throws RecordBatchFormatError for a data batch
 * or malformed control record.
 */
export function readEndTxnMarker(batch: Buffer): StoredEndTxnMarker | null {
  const h = readBatchHeader(batch);
  if (!h.isControl) throw new RecordBatchFormatError("not a control batch");
  const records = decodeRecords(batch, h);
  if (records.length === 0) return null;
  const r = records[0];
  const key = decodeControlKey(r.key);
  if (key.type !== CONTROL_TYPE_ABORT && key.type !== CONTROL_TYPE_COMMIT) return null;
  const { coordinatorEpoch } = decodeEndTxnMarkerValue(r.value);
  return {
    commit: key.type === CONTROL_TYPE_COMMIT,
    coordinatorEpoch,
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    offset: r.offset,
    timestamp: r.timestamp,
  };
}
