import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { murmur2, partitionForKey, toPositive } from "./murmur2.ts";
import { rng, randomBytes } from "../../testing/prng.ts";

const require = createRequire(import.meta.url);
const { Partitioners } = require("kafkajs");
/** kafkajs's Java-compatible murmur2 (BigInt-based; a string key is hashed as its UTF-8 bytes). */
const kafkajsMurmur2: (key: Buffer | string) => number = require("kafkajs/src/producer/partitioners/default/murmur2.js");

/**
 * kafkajs 2.x's DefaultPartitioner (the Java-compatible one). `DefaultPartitioner()` returns
 * `({ topic, partitionMetadata, message }) => partition`; for a keyed message without an explicit
 * partition it returns toPositive(murmur2(key)) % partitionMetadata.length.
 */
const kafkajsPartition: (args: {
  topic: string;
  partitionMetadata: { partitionId: number; leader: number }[];
  message: { key: Buffer | string | null; value?: unknown; partition?: number };
}) => number = Partitioners.DefaultPartitioner();

const metadataFor = Array.from({ length: 101 }, (_, n) => Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 0 })));

/** A random well-formed string of `n` code points mixing ASCII, 2- and 3-byte BMP and astral characters. */
function randomUnicode(next: () => number, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) {
    const bucket = next();
    let cp: number;
    if (bucket < 0.3) cp = Math.floor(next() * 0x80);
    else if (bucket < 0.5) cp = 0x80 + Math.floor(next() * (0x800 - 0x80));
    else if (bucket < 0.8) {
      cp = 0x800 + Math.floor(next() * (0x10000 - 0x800));
      if (cp >= 0xd800 && cp <= 0xdfff) cp -= 0x800; // skip surrogates
    } else cp = 0x10000 + Math.floor(next() * (0x110000 - 0x10000));
    s += String.fromCodePoint(cp);
  }
  return s;
}

describe("murmur2 known Java-client values", () => {
  // Values from Kafka's Java client (UtilsTest / DefaultPartitionerTest), each checked against
  // kafkajs's murmur2 too, so a wrong constant here cannot make the test pass by accident.
  const cases: [string, number][] = [
    ["21", -973932308],
    ["foobar", -790332482],
    ["a-little-bit-long-string", -985981536],
    ["a-little-bit-longer-string", -1486304829],
    ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
    ["abc", 479470107],
  ];
  it.each(cases)("murmur2(%j) = %d", (s, expected) => {
    expect(kafkajsMurmur2(s)).toBe(expected);
    expect(murmur2(Buffer.from(s, "utf8"))).toBe(expected);
  });

  it("returns a signed 32-bit int", () => {
    expect(murmur2(Buffer.from("foobar"))).toBeLessThan(0);
    expect(murmur2(Buffer.from("abc"))).toBeGreaterThan(0);
  });

  it("accepts a plain Uint8Array", () => {
    expect(murmur2(new Uint8Array(Buffer.from("foobar")))).toBe(-790332482);
  });
});

describe("toPositive", () => {
  it("clears the sign bit (not Math.abs)", () => {
    expect(toPositive(0)).toBe(0);
    expect(toPositive(5)).toBe(5);
    expect(toPositive(-1)).toBe(0x7fffffff);
    expect(toPositive(-(2 ** 31))).toBe(0);
    expect(toPositive(-790332482)).toBe(-790332482 & 0x7fffffff);
    expect(toPositive(-790332482)).not.toBe(790332482);
    expect(toPositive(2 ** 31 - 1)).toBe(2 ** 31 - 1);
  });
});

describe("murmur2 vs kafkajs", () => {
  it("every length 0..64 (all tail cases), random bytes", () => {
    const next = rng(11);
    for (let len = 0; len <= 64; len++) {
      for (let rep = 0; rep < 20; rep++) {
        const key = randomBytes(next, len);
        expect(murmur2(key), key.toString("hex")).toBe(kafkajsMurmur2(key));
      }
    }
  });

  it("a key view with a non-zero byteOffset hashes its own bytes", () => {
    const big = Buffer.from("xxfoobarxx");
    const view = big.subarray(2, 8);
    expect(murmur2(view)).toBe(-790332482);
  });

  it("keys with high bytes (sign extension in Java)", () => {
    for (let len = 0; len <= 12; len++) {
      for (const fill of [0x80, 0xff, 0x7f, 0x00]) {
        const key = Buffer.alloc(len, fill);
        expect(murmur2(key), `${len}×${fill}`).toBe(kafkajsMurmur2(key));
      }
    }
  });
});

describe("partitionForKey equals kafkajs's DefaultPartitioner", () => {
  const next = rng(0x5eed);
  const byteKeys: Buffer[] = [];
  const stringKeys: string[] = [];
  for (let i = 0; i < 3000; i++) byteKeys.push(randomBytes(next, i % 65)); // every length 0..64
  for (let i = 0; i < 3000; i++) stringKeys.push(randomUnicode(next, Math.floor(next() * 65)));

  it("has at least 5,000 distinct keys of lengths 0..64", () => {
    const lengths = new Set(byteKeys.map((k) => k.length));
    expect(lengths.size).toBe(65);
    expect(byteKeys.length + stringKeys.length).toBeGreaterThanOrEqual(5000);
    // the strings really contain multi-byte UTF-8
    expect(stringKeys.some((s) => Buffer.byteLength(s) > s.length)).toBe(true);
  });

  it("random byte keys, every partition count 1..100", () => {
    let mismatches = 0;
    const firstMismatches: string[] = [];
    for (let n = 1; n <= 100; n++) {
      const partitionMetadata = metadataFor[n];
      for (const key of byteKeys) {
        const theirs = kafkajsPartition({ topic: "t", partitionMetadata, message: { key, value: "v" } });
        const ours = partitionForKey(key, n);
        if (ours !== theirs) {
          mismatches++;
          if (firstMismatches.length < 5) firstMismatches.push(`key ${key.toString("hex")} n=${n}: ours ${ours}, kafkajs ${theirs}`);
        }
      }
    }
    expect(firstMismatches).toEqual([]);
    expect(mismatches).toBe(0);
  });

  it("random unicode string keys (hashed as UTF-8), every partition count 1..100", () => {
    let mismatches = 0;
    const firstMismatches: string[] = [];
    for (let n = 1; n <= 100; n++) {
      const partitionMetadata = metadataFor[n];
      for (const key of stringKeys) {
        // kafkajs is given the string itself; it hashes Buffer.from(String(key)), i.e. UTF-8
        const theirs = kafkajsPartition({ topic: "t", partitionMetadata, message: { key, value: "v" } });
        const ours = partitionForKey(Buffer.from(key, "utf8"), n);
        if (ours !== theirs) {
          mismatches++;
          if (firstMismatches.length < 5) firstMismatches.push(`key ${JSON.stringify(key)} n=${n}: ours ${ours}, kafkajs ${theirs}`);
        }
      }
    }
    expect(firstMismatches).toEqual([]);
    expect(mismatches).toBe(0);
  });

  it("the partition is always in range and spreads over all partitions", () => {
    for (const n of [1, 2, 3, 7, 12, 100]) {
      const seen = new Set<number>();
      for (const key of byteKeys) {
        const p = partitionForKey(key, n);
        expect(Number.isInteger(p) && p >= 0 && p < n).toBe(true);
        seen.add(p);
      }
      expect(seen.size).toBe(n);
    }
  });

  it("a key whose hash is negative still maps like Java (toPositive, not abs)", () => {
    const key = Buffer.from("foobar"); // murmur2 = -790332482
    for (let n = 1; n <= 100; n++) {
      expect(partitionForKey(key, n)).toBe((-790332482 & 0x7fffffff) % n);
    }
    expect(partitionForKey(key, 7)).not.toBe(790332482 % 7);
  });
});
