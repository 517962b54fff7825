/**
 * CopyBinaryReader on COPY data split at every kind of boundary, and cold reads through a real
 * PostgreSQL's COPY: batches larger than a socket read come back in pieces whose bytes are the
 * stored batch's, base offset included.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CopyBinaryReader, CopyFormatError } from "./copy-binary-reader.ts";
import { payloadPartsOf } from "./log-store.ts";
import { encodeRecordBatch, hasValidCrc, readBatchHeader } from "../protocol/record-batch.ts";
import { withBroker, type BrokerHarness } from "../../testing/broker-fixture.ts";

const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");

function int16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
}
function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

/** COPY binary data of rows (int8, bytea | null), with a header extension of `ext` bytes. */
function copyData(rows: [number, Buffer | null][], ext = 0): Buffer {
  const out = [SIGNATURE, int32(0), int32(ext), Buffer.alloc(ext, 7)];
  for (const [n, bytes] of rows) {
    const i8 = Buffer.alloc(8);
    i8.writeBigInt64BE(BigInt(n));
    out.push(int16(2), int32(8), i8, bytes ? int32(bytes.length) : int32(-1), bytes ?? Buffer.alloc(0));
  }
  out.push(int16(-1));
  return Buffer.concat(out);
}

/** Splits `data` into chunks of the given sizes (cycled), empty chunks included. */
function chunked(data: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length];
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}

function readAll(chunks: Buffer[]): [number, Buffer | null][] {
  const r = new CopyBinaryReader(chunks);
  const rows: [number, Buffer | null][] = [];
  let fields: number | null;
  while ((fields = r.nextRow()) !== null) {
    expect(fields).toBe(2);
    const n = r.int8Field();
    const parts = r.field();
    rows.push([n, parts && Buffer.concat(parts)]);
  }
  return rows;
}

describe("CopyBinaryReader", () => {
  const rows: [number, Buffer | null][] = [
    [0, Buffer.from("first")],
    [2 ** 40 + 3, Buffer.alloc(0)],
    [7, null],
    [-5, Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251))],
  ];

  it("reads every row whatever the chunk boundaries (1-byte chunks, empty chunks, one chunk)", () => {
    const data = copyData(rows, 5);
    for (const sizes of [[data.length], [1], [0, 1, 2], [3, 7, 64], [19], [21, 4096]]) {
      expect(readAll(chunked(data, sizes)), `chunks of ${sizes.join("/")}`).toEqual(rows);
    }
  });

  it("gives a field's bytes as subarrays of the chunks (no copy)", () => {
    const data = copyData(rows);
    // each chunk in memory of its own (Buffer.alloc is never pooled), so a copy could not pass for one
    const chunks = chunked(data, [1000]).map((c) => {
      const own = Buffer.alloc(c.length);
      own.set(c);
      return own;
    });
    const r = new CopyBinaryReader(chunks);
    for (let i = 0; i < 3; i++) {
      r.nextRow();
      r.int8Field();
      r.field();
    }
    r.nextRow();
    r.int8Field();
    const parts = r.field() as Buffer[];
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(chunks.some((c) => c.buffer === p.buffer)).toBe(true);
    expect(Buffer.concat(parts).equals(rows[3][1] as Buffer)).toBe(true);
  });

  it("refuses data that is not COPY binary, or ends early", () => {
    expect(() => new CopyBinaryReader([Buffer.from("id,payload\n1,abc\n")])).toThrow(CopyFormatError);
    const data = copyData(rows);
    const cut = new CopyBinaryReader([data.subarray(0, data.length - 100)]);
    expect(() => {
      while (cut.nextRow() !== null) {
        cut.int8Field();
        cut.field();
      }
    }).toThrow(/ends \d+ bytes early/);
  });

  it("refuses a field of another width where an int8 is expected", () => {
    const bad = Buffer.concat([SIGNATURE, int32(0), int32(0), int16(1), int32(4), int32(9), int16(-1)]);
    const r = new CopyBinaryReader([bad]);
    r.nextRow();
    expect(() => r.int8Field()).toThrow(/int8/);
  });
});

describe("cold reads through PostgreSQL's COPY", () => {
  let h: BrokerHarness;
  beforeAll(async () => {
    h = await withBroker("postgres");
  });
  afterAll(async () => {
    await h?.close();
  });

  it("batches of 100 B to 3 MiB come back byte for byte, the large ones in pieces", async () => {
    const topic = "cold";
    await h.broker.createTopic({ name: topic, partitions: 1, configs: { "max.message.bytes": 4 << 20 } });
    const sizes = [100, 70_000, 1 << 20, 3 << 20, 10, 200_000];
    const sent = sizes.map((size, i) =>
      encodeRecordBatch({
        baseOffset: 0,
        records: [{ key: null, value: Buffer.alloc(size, i + 1), headers: [], timestamp: 1_700_000_000_000 + i }],
      }),
    );
    for (const b of sent) await h.broker.produceBatches(topic, 0, b);
    const broker = await h.reopen(); // nothing cached: the fetch reads PostgreSQL
    const got = (await broker.fetchBatches(topic, 0, { offset: 0, maxBytes: 16 << 20 })).batches;
    expect(got.map((b) => b.baseOffset)).toEqual(sizes.map((_, i) => i));
    let pieces = 0;
    got.forEach((b, i) => {
      const bytes = Buffer.concat(payloadPartsOf(b));
      const expected = Buffer.from(sent[i]);
      expected.writeBigInt64BE(BigInt(i), 0);
      expect(bytes.equals(expected), `batch ${i}`).toBe(true);
      expect(b.payload.equals(expected)).toBe(true);
      expect(b.sizeBytes).toBe(expected.length);
      expect(hasValidCrc(b.payload)).toBe(true);
      expect(readBatchHeader(b.payload)).toMatchObject({ baseOffset: i, recordCount: 1, maxTimestamp: 1_700_000_000_000 + i });
      pieces = Math.max(pieces, payloadPartsOf(b).length);
    });
    expect(pieces).toBeGreaterThan(1);
  });
});
