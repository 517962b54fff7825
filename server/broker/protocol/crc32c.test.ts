import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { crc32c, crc32cIsNative, crc32cPortable } from "./crc32c.ts";
import { rng, randomBytes } from "../../testing/prng.ts";

const require = createRequire(import.meta.url);
/** kafkajs's CRC-32C (a second, independent implementation), used as an extra reference. */
const kafkajsCrc32c: (buf: Buffer) => number = require("kafkajs/src/protocol/recordBatch/crc32C/index.js");

/** Textbook bit-at-a-time CRC-32C (reflected, polynomial 0x82F63B78): the reference. */
function crc32cBitwise(buf: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of buf) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe("crc32c known vectors", () => {
  it('"123456789" is 0xE3069283 (the CRC-32C check value)', () => {
    expect(crc32c(Buffer.from("123456789", "ascii"))).toBe(0xe3069283);
  });

  it("empty input is 0", () => {
    expect(crc32c(Buffer.alloc(0))).toBe(0);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it("RFC 3720 (iSCSI) vectors", () => {
    expect(crc32c(Buffer.alloc(32, 0x00))).toBe(0x8a9136aa);
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
    expect(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i)))).toBe(0x46dd794e);
    expect(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)))).toBe(0x113fdb5c);
  });

  it("returns an unsigned 32-bit integer", () => {
    const v = crc32c(Buffer.from("123456789", "ascii"));
    expect(v).toBeGreaterThan(0x7fffffff);
    expect(Number.isInteger(v)).toBe(true);
  });

  it("the bitwise reference itself agrees with the check value", () => {
    // guards the reference used by the randomised tests below
    expect(crc32cBitwise(Buffer.from("123456789", "ascii"))).toBe(0xe3069283);
    expect(crc32cBitwise(Buffer.alloc(32))).toBe(0x8a9136aa);
  });
});

describe("crc32c slicing-by-8 vs the bitwise reference", () => {
  it("every length 0..100, several random buffers each", () => {
    const next = rng(0xc0ffee);
    for (let len = 0; len <= 100; len++) {
      for (let rep = 0; rep < 5; rep++) {
        const buf = randomBytes(next, len);
        const expected = crc32cBitwise(buf);
        expect(crc32c(buf), `len ${len} rep ${rep} ${buf.toString("hex")}`).toBe(expected);
      }
    }
  });

  it("large buffers (including lengths not a multiple of 8)", () => {
    const next = rng(42);
    for (const len of [1000, 1001, 4095, 4096, 4097, 65_536 + 3, 1_000_003]) {
      const buf = randomBytes(next, len);
      expect(crc32c(buf), `len ${len}`).toBe(crc32cBitwise(buf));
    }
  });

  it("all-0xFF and all-zero buffers of many lengths (sign-bit handling)", () => {
    for (let len = 0; len <= 70; len++) {
      for (const fill of [0x00, 0xff, 0x80, 0x7f]) {
        const buf = Buffer.alloc(len, fill);
        expect(crc32c(buf), `len ${len} fill ${fill}`).toBe(crc32cBitwise(buf));
      }
    }
  });

  it("start/end sub-ranges at every alignment match the reference on the slice", () => {
    const next = rng(7);
    const buf = randomBytes(next, 200);
    for (let start = 0; start <= 17; start++) {
      for (const end of [start, start + 1, start + 7, start + 8, start + 9, 100, 183, 200]) {
        if (end < start) continue;
        expect(crc32c(buf, start, end), `[${start}, ${end})`).toBe(crc32cBitwise(buf.subarray(start, end)));
      }
    }
    // end defaults to the buffer length
    expect(crc32c(buf, 21)).toBe(crc32cBitwise(buf.subarray(21)));
  });

  it("works on a Buffer view with a non-zero byteOffset", () => {
    const next = rng(99);
    const big = randomBytes(next, 300);
    for (let off = 1; off < 12; off++) {
      const view = big.subarray(off, off + 123);
      expect(view.byteOffset).not.toBe(0);
      expect(crc32c(view)).toBe(crc32cBitwise(view));
    }
  });

  it("agrees with kafkajs's CRC-32C implementation", () => {
    const next = rng(2024);
    for (const len of [0, 1, 7, 8, 9, 61, 584, 5000]) {
      const buf = randomBytes(next, len);
      expect(crc32c(buf), `len ${len}`).toBe(kafkajsCrc32c(buf));
    }
  });

  it("is sensitive to every single-bit flip", () => {
    const next = rng(5);
    const buf = randomBytes(next, 64);
    const base = crc32c(buf);
    for (let i = 0; i < buf.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        buf[i] ^= 1 << bit;
        expect(crc32c(buf)).not.toBe(base);
        expect(crc32c(buf)).toBe(crc32cBitwise(buf));
        buf[i] ^= 1 << bit;
      }
    }
    expect(crc32c(buf)).toBe(base);
  });
});

describe("crc32c native and portable implementations agree", () => {
  it("loads the native implementation on this machine", () => {
    expect(crc32cIsNative).toBe(true);
  });

  it("gives the same checksum for random buffers and sub-ranges", () => {
    const next = rng(4242);
    for (let n = 0; n < 300; n++) {
      const b = randomBytes(next, Math.floor(next() * 5000));
      const start = Math.floor(next() * (b.length + 1));
      const end = start + Math.floor(next() * (b.length - start + 1));
      expect(crc32c(b, start, end)).toBe(crc32cPortable(b, start, end));
    }
  });
});
