import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { crc32c } from "./crc32c.ts";
import { decodeRecords, encodeRecordBatch, hasValidCrc, readBatchHeader, RecordBatchFormatError } from "./record-batch.ts";
import {
  CONTROL_TYPE_ABORT,
  CONTROL_TYPE_COMMIT,
  decodeControlKey,
  decodeEndTxnMarkerValue,
  encodeControlKey,
  encodeEndTxnMarkerBatch,
  encodeEndTxnMarkerValue,
  endTxnMarkerBatchToAppend,
  readEndTxnMarker,
} from "./control-records.ts";

const require = createRequire(import.meta.url);
const kafkajsDecodeBatch: (decoder: unknown) => Promise<{
  firstOffset: string;
  inTransaction: boolean;
  isControlBatch: boolean;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  lastOffsetDelta: number;
  records: { offset: string; timestamp: string; key: Buffer | null; value: Buffer | null; isControlRecord: boolean }[];
}> = require("kafkajs/src/protocol/recordBatch/v0/decoder.js");
const KafkajsDecoder = require("kafkajs/src/protocol/decoder.js");

const T = 1_700_000_000_123;

describe("control record key and end-transaction marker value", () => {
  it("uses Kafka's layout: key = version int16 0 | type int16, value = version int16 0 | coordinatorEpoch int32", () => {
    expect(encodeControlKey(CONTROL_TYPE_ABORT).toString("hex")).toBe("00000000");
    expect(encodeControlKey(CONTROL_TYPE_COMMIT).toString("hex")).toBe("00000001");
    expect(encodeEndTxnMarkerValue(5).toString("hex")).toBe("000000000005");
    expect(encodeEndTxnMarkerValue(0x01020304).toString("hex")).toBe("000001020304");
  });

  it("round-trips and parses newer versions as version 0 (as Kafka does)", () => {
    expect(decodeControlKey(encodeControlKey(1))).toEqual({ version: 0, type: 1 });
    expect(decodeControlKey(Buffer.from("00030000ffff", "hex"))).toEqual({ version: 3, type: 0 });
    expect(decodeEndTxnMarkerValue(encodeEndTxnMarkerValue(77))).toEqual({ version: 0, coordinatorEpoch: 77 });
    expect(decodeEndTxnMarkerValue(Buffer.from("0001000000070000", "hex"))).toEqual({ version: 1, coordinatorEpoch: 7 });
  });

  it.each([
    ["null key", () => decodeControlKey(null)],
    ["short key", () => decodeControlKey(Buffer.from("0000", "hex"))],
    ["negative key version", () => decodeControlKey(Buffer.from("ffff0001", "hex"))],
    ["null value", () => decodeEndTxnMarkerValue(null)],
    ["short value", () => decodeEndTxnMarkerValue(Buffer.from("0000000001", "hex"))],
    ["negative value version", () => decodeEndTxnMarkerValue(Buffer.from("ffff00000001", "hex"))],
  ])("rejects %s", (_what, fn) => {
    expect(fn).toThrow(RecordBatchFormatError);
  });
});

describe("end-transaction marker batch", () => {
  it("is byte-for-byte the batch Kafka's MemoryRecords.withEndTransactionMarker builds", () => {
    const batch = encodeEndTxnMarkerBatch({
      producerId: 4242,
      producerEpoch: 3,
      commit: true,
      coordinatorEpoch: 9,
      timestamp: T,
      baseOffset: 100,
    });
    // Assembled by hand from the RecordBatch v2 and EndTransactionMarker specs.
    const record = Buffer.concat([
      Buffer.from([0x20]), // length 16 (zigzag varint)
      Buffer.from([0x00]), // attributes
      Buffer.from([0x00]), // timestamp delta 0
      Buffer.from([0x00]), // offset delta 0
      Buffer.from([0x08]), // key length 4
      Buffer.from("00000001", "hex"), // key: version 0, type COMMIT
      Buffer.from([0x0c]), // value length 6
      Buffer.from("000000000009", "hex"), // value: version 0, coordinator epoch 9
      Buffer.from([0x00]), // no headers
    ]);
    const header = Buffer.alloc(61);
    header.writeBigInt64BE(100n, 0);
    header.writeInt32BE(61 + record.length - 12, 8);
    header.writeInt32BE(-1, 12); // partition leader epoch
    header.writeInt8(2, 16); // magic
    header.writeInt16BE(0x30, 21); // transactional | control
    header.writeInt32BE(0, 23); // last offset delta
    header.writeBigInt64BE(BigInt(T), 27);
    header.writeBigInt64BE(BigInt(T), 35);
    header.writeBigInt64BE(4242n, 43);
    header.writeInt16BE(3, 51);
    header.writeInt32BE(-1, 53); // no sequence
    header.writeInt32BE(1, 57); // one record
    const expected = Buffer.concat([header, record]);
    expected.writeUInt32BE(crc32c(expected, 21, expected.length), 17);
    expect(batch.length).toBe(78); // 61-byte header + Kafka's CURRENT_END_TXN_SCHEMA_RECORD_SIZE (17)
    expect(batch.toString("hex")).toBe(expected.toString("hex"));
    expect(hasValidCrc(batch)).toBe(true);
  });

  it("round-trips commit and abort markers through readEndTxnMarker", () => {
    for (const commit of [true, false]) {
      const batch = encodeEndTxnMarkerBatch({
        producerId: 7,
        producerEpoch: 32767,
        commit,
        coordinatorEpoch: 2 ** 31 - 1,
        timestamp: T,
        baseOffset: 55,
      });
      const h = readBatchHeader(batch);
      expect(h).toMatchObject({
        isControl: true,
        isTransactional: true,
        producerId: 7,
        producerEpoch: 32767,
        baseSequence: -1,
        recordCount: 1,
        lastOffset: 55,
      });
      expect(readEndTxnMarker(batch)).toEqual({
        commit,
        coordinatorEpoch: 2 ** 31 - 1,
        producerId: 7,
        producerEpoch: 32767,
        offset: 55,
        timestamp: T,
      });
    }
  });

  it("kafkajs reads it as a transactional control batch with a control record", async () => {
    const batch = encodeEndTxnMarkerBatch({
      producerId: 12,
      producerEpoch: 1,
      commit: false,
      coordinatorEpoch: 4,
      timestamp: T,
      baseOffset: 9,
    });
    const k = await kafkajsDecodeBatch(new KafkajsDecoder(batch));
    expect(k.isControlBatch).toBe(true);
    expect(k.inTransaction).toBe(true);
    expect(Number(k.producerId)).toBe(12);
    expect(k.producerEpoch).toBe(1);
    expect(k.firstSequence).toBe(-1);
    expect(k.records).toHaveLength(1);
    expect(k.records[0].isControlRecord).toBe(true);
    expect(Number(k.records[0].offset)).toBe(9);
    expect((k.records[0].key as Buffer).toString("hex")).toBe("00000000");
    expect((k.records[0].value as Buffer).toString("hex")).toBe("000000000004");
  });

  it("gives the append columns the log store needs", () => {
    const b = endTxnMarkerBatchToAppend({ producerId: 3, producerEpoch: 0, commit: true, coordinatorEpoch: 0, timestamp: T });
    expect(b).toMatchObject({
      recordCount: 1,
      lastOffsetDelta: 0,
      firstTimestamp: T,
      maxTimestamp: T,
      producerId: 3,
      producerEpoch: 0,
      baseSequence: -1,
      isTransactional: true,
      isControl: true,
    });
    expect(readEndTxnMarker(b.payload)?.commit).toBe(true);
  });

  it("returns null for other control types, throws for data batches and bad inputs", () => {
    const leaderChange = encodeRecordBatch({
      baseOffset: 0,
      isControl: true,
      producerId: -1,
      records: [{ key: encodeControlKey(2), value: Buffer.alloc(8), headers: [], timestamp: T }],
    });
    expect(readEndTxnMarker(leaderChange)).toBeNull();
    const data = encodeRecordBatch({ baseOffset: 0, records: [{ key: null, value: Buffer.from("x"), headers: [], timestamp: T }] });
    expect(() => readEndTxnMarker(data)).toThrow(RecordBatchFormatError);
    expect(decodeRecords(data)).toHaveLength(1);
    expect(() => encodeEndTxnMarkerBatch({ producerId: -1, producerEpoch: 0, commit: true, coordinatorEpoch: 0, timestamp: T })).toThrow(
      RangeError,
    );
    expect(() => encodeEndTxnMarkerBatch({ producerId: 1, producerEpoch: 40000, commit: true, coordinatorEpoch: 0, timestamp: T })).toThrow(
      RangeError,
    );
    expect(() => encodeEndTxnMarkerBatch({ producerId: 1, producerEpoch: 0, commit: true, coordinatorEpoch: -1, timestamp: T })).toThrow(
      RangeError,
    );
  });
});
