import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { VarintReader, varintSize, writeVarint, zigzag } from "./varint.ts";
import { rng } from "../../testing/prng.ts";

const require = createRequire(import.meta.url);
// kafkajs's protocol Encoder/Decoder: an independent implementation of Kafka's varint/varlong.
const KafkajsEncoder = require("kafkajs/src/protocol/encoder.js");
const KafkajsDecoder = require("kafkajs/src/protocol/decoder.js");

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

const EDGE_VALUES = [
  0,
  1,
  -1,
  2,
  -2,
  63,
  -63,
  64,
  -64,
  65,
  -65,
  127,
  -127,
  128,
  -128,
  8191,
  -8191,
  8192,
  -8192,
  -8193,
  2 ** 20,
  -(2 ** 20),
  // the fast 32-bit path in writeVarint ends at zigzag 2^28
  2 ** 27 - 1,
  2 ** 27,
  -(2 ** 27),
  -(2 ** 27) - 1,
  2 ** 28,
  -(2 ** 28),
  INT32_MAX,
  INT32_MIN,
  INT32_MAX - 1,
  INT32_MIN + 1,
  2 ** 31,
  2 ** 32,
  -(2 ** 32),
  2 ** 32 + 1,
  // millisecond timestamps and timestamp deltas
  1_700_000_000_000,
  -1_700_000_000_000,
  253_402_300_799_999,
  2 ** 50,
  2 ** 50 - 1,
  2 ** 50 + 1,
  -(2 ** 50),
  -(2 ** 50) - 1,
  -(2 ** 50) + 1,
  // the largest magnitudes whose zigzag form (2|n| or 2|n|-1) is still an exact double
  2 ** 52 - 1,
  -(2 ** 52),
];

function encode(n: number): Buffer {
  const buf = Buffer.alloc(16, 0xee);
  const end = writeVarint(buf, 0, n);
  return buf.subarray(0, end);
}

function decodeAll(buf: Uint8Array): number {
  const rd = new VarintReader(buf, 0, buf.length);
  const v = rd.varint();
  expect(rd.pos).toBe(buf.length);
  return v;
}

describe("zigzag", () => {
  it("maps signed to unsigned as protobuf/Kafka do", () => {
    expect([0, -1, 1, -2, 2, 63, -64].map(zigzag)).toEqual([0, 1, 2, 3, 4, 126, 127]);
    expect(zigzag(INT32_MAX)).toBe(4294967294);
    expect(zigzag(INT32_MIN)).toBe(4294967295);
  });
});

describe("varint round trips", () => {
  it.each(EDGE_VALUES.map((v) => [v]))("%d", (n) => {
    const bytes = encode(n);
    expect(decodeAll(bytes)).toBe(n);
    expect(varintSize(n)).toBe(bytes.length);
  });

  it("-0 encodes as 0", () => {
    expect(encode(-0)).toEqual(Buffer.from([0]));
    expect(Object.is(decodeAll(encode(-0)), 0)).toBe(true);
  });

  it("random values of every magnitude up to 2^52", () => {
    const next = rng(1234);
    for (let i = 0; i < 20_000; i++) {
      const bits = Math.floor(next() * 53); // 0..52
      const mag = Math.floor(next() * 2 ** bits);
      const n = next() < 0.5 && mag !== 0 ? -mag : mag; // no -0: toBe uses Object.is
      const bytes = encode(n);
      expect(bytes.length, `size of ${n}`).toBe(varintSize(n));
      expect(decodeAll(bytes), `round trip of ${n}`).toBe(n);
    }
  });

  it("a sequence of values written back to back reads back in order", () => {
    const buf = Buffer.alloc(EDGE_VALUES.length * 10 + 5);
    let pos = 3; // start mid-buffer
    for (const v of EDGE_VALUES) pos = writeVarint(buf, pos, v);
    const rd = new VarintReader(buf, 3, pos);
    for (const v of EDGE_VALUES) expect(rd.varint()).toBe(v);
    expect(rd.pos).toBe(pos);
    expect(() => rd.varint()).toThrow(RangeError);
  });

  it("writeVarint returns the position after the value and touches nothing beyond it", () => {
    for (const n of EDGE_VALUES) {
      const buf = Buffer.alloc(20, 0xee);
      const end = writeVarint(buf, 4, n);
      expect(end - 4).toBe(varintSize(n));
      expect(buf.subarray(0, 4)).toEqual(Buffer.alloc(4, 0xee));
      expect(buf.subarray(end)).toEqual(Buffer.alloc(20 - end, 0xee));
    }
  });
});

describe("varint sizes and exact bytes", () => {
  it("size boundaries", () => {
    const cases: [number, number][] = [
      [0, 1],
      [63, 1],
      [-64, 1],
      [64, 2],
      [-65, 2],
      [8191, 2],
      [-8192, 2],
      [8192, 3],
      [-8193, 3],
      [2 ** 20 - 1, 3],
      [2 ** 20, 4],
      [2 ** 27 - 1, 4],
      [2 ** 27, 5],
      [INT32_MAX, 5],
      [INT32_MIN, 5],
      [2 ** 34 - 1, 5],
      [2 ** 34, 6],
      [2 ** 50, 8], // zigzag 2^51 needs 52 bits → 8 groups of 7
      [2 ** 52 - 1, 8],
      [-(2 ** 52), 8], // zigzag < 2^53 → 53 bits → 8 groups
    ];
    for (const [n, size] of cases) {
      expect(varintSize(n), `varintSize(${n})`).toBe(size);
      expect(encode(n).length, `bytes written for ${n}`).toBe(size);
    }
  });

  it("known encodings", () => {
    const cases: [number, string][] = [
      [0, "00"],
      [-1, "01"],
      [1, "02"],
      [-2, "03"],
      [63, "7e"],
      [-64, "7f"],
      [64, "8001"],
      [300, "d804"],
      [-300, "d704"],
      [INT32_MAX, "feffffff0f"],
      [INT32_MIN, "ffffffff0f"],
      [2 ** 31, "8080808010"],
    ];
    for (const [n, hex] of cases) expect(encode(n).toString("hex"), `${n}`).toBe(hex);
  });

  it("matches kafkajs's writeVarInt for int32 values and writeVarLong for everything", () => {
    const next = rng(77);
    const values = [...EDGE_VALUES];
    for (let i = 0; i < 2000; i++) {
      const bits = Math.floor(next() * 53);
      const mag = Math.floor(next() * 2 ** bits);
      values.push(next() < 0.5 && mag !== 0 ? -mag : mag);
    }
    for (const n of values) {
      const ours = encode(n).toString("hex");
      expect(new KafkajsEncoder().writeVarLong(n).buffer.toString("hex"), `varlong ${n}`).toBe(ours);
      if (n >= INT32_MIN && n <= INT32_MAX) {
        expect(new KafkajsEncoder().writeVarInt(n).buffer.toString("hex"), `varint ${n}`).toBe(ours);
        expect(new KafkajsDecoder(encode(n)).readVarInt(), `kafkajs readVarInt ${n}`).toBe(n);
      }
      expect(Number(new KafkajsDecoder(encode(n)).readVarLong().toString()), `kafkajs readVarLong ${n}`).toBe(n);
      // and we read kafkajs's bytes
      expect(decodeAll(new KafkajsEncoder().writeVarLong(n).buffer), `our read of kafkajs ${n}`).toBe(n);
    }
  });
});

describe("truncated input", () => {
  it("empty input throws RangeError", () => {
    expect(() => new VarintReader(new Uint8Array(0), 0, 0).varint()).toThrow(RangeError);
  });

  it("every proper prefix of a multi-byte varint throws RangeError", () => {
    for (const n of EDGE_VALUES) {
      const bytes = encode(n);
      for (let cut = 0; cut < bytes.length; cut++) {
        const rd = new VarintReader(bytes.subarray(0, cut), 0, cut);
        expect(() => rd.varint(), `${n} cut at ${cut}`).toThrow(RangeError);
      }
    }
  });

  it("respects `end` even when the buffer holds more bytes", () => {
    const bytes = encode(2 ** 40); // 6 bytes
    const rd = new VarintReader(bytes, 0, 3);
    expect(() => rd.varint()).toThrow(RangeError);
    // reading from a position at/after end also throws
    expect(() => new VarintReader(bytes, 6, 6).varint()).toThrow(RangeError);
  });

  it("a run of continuation bytes longer than 10 throws RangeError", () => {
    const bad = Buffer.alloc(12, 0x80);
    expect(() => new VarintReader(bad, 0, bad.length).varint()).toThrow(RangeError);
    // ...also when terminated only after the 10-byte limit
    const bad2 = Buffer.concat([Buffer.alloc(10, 0x80), Buffer.from([0x01])]);
    expect(() => new VarintReader(bad2, 0, bad2.length).varint()).toThrow(RangeError);
  });
});
