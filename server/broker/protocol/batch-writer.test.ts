import { describe, expect, it } from "vitest";
import { RecordBatchWriter } from "./batch-writer.ts";
import { decodeRecords, encodeRecordBatch, hasValidCrc, readBatchHeader } from "./record-batch.ts";
import { rng, randomBytes } from "../../testing/prng.ts";

describe("RecordBatchWriter", () => {
  it("writes the same bytes as encodeRecordBatch for the same records", () => {
    const next = rng(7);
    for (let n = 0; n < 50; n++) {
      const records = Array.from({ length: 1 + Math.floor(next() * 40) }, (_, i) => ({
        key: next() < 0.3 ? null : randomBytes(next, Math.floor(next() * 20)),
        value: next() < 0.1 ? null : randomBytes(next, Math.floor(next() * 300)),
        headers: next() < 0.5 ? [] : [{ key: `h${i}`, value: next() < 0.5 ? null : randomBytes(next, 5) }],
        timestamp: 1_700_000_000_000 + Math.floor(next() * 100_000) - 50_000,
      }));
      const w = new RecordBatchWriter(1 << 20);
      for (const r of records) expect(w.tryAppend(r.key, r.value, r.headers, r.timestamp)).toBe(true);
      const bytes = w.finish();
      expect(hasValidCrc(bytes)).toBe(true);
      expect(bytes.equals(encodeRecordBatch({ baseOffset: 0, records }))).toBe(true);
      expect(decodeRecords(bytes).map((r) => r.value)).toEqual(records.map((r) => r.value));
    }
  });

  it("refuses a record past its capacity, but always takes a first record however large", () => {
    const w = new RecordBatchWriter(200);
    expect(w.tryAppend(null, Buffer.alloc(100), [], 1)).toBe(true);
    expect(w.tryAppend(null, Buffer.alloc(100), [], 2)).toBe(false);
    expect(readBatchHeader(w.finish()).recordCount).toBe(1);
    const big = new RecordBatchWriter(200);
    expect(big.tryAppend(Buffer.from("k"), Buffer.alloc(5000), [], 1)).toBe(true);
    const b = big.finish();
    expect(hasValidCrc(b)).toBe(true);
    expect(decodeRecords(b)[0].value?.length).toBe(5000);
  });

  it("writes a key or value given as text as its UTF-8 bytes, sized in bytes, not characters", () => {
    const texts = ["", "k", "plain ascii", "ünïcödé — 表 🚀", "x".repeat(300)];
    const asText = new RecordBatchWriter(1 << 16);
    const asBytes = new RecordBatchWriter(1 << 16);
    texts.forEach((t, i) => {
      expect(asText.tryAppend(t, `v:${t}`, [], 1_000 + i)).toBe(true);
      expect(asBytes.tryAppend(Buffer.from(t, "utf8"), Buffer.from(`v:${t}`, "utf8"), [], 1_000 + i)).toBe(true);
    });
    const bytes = asText.finish();
    expect(hasValidCrc(bytes)).toBe(true);
    expect(bytes.equals(asBytes.finish())).toBe(true);
    expect(decodeRecords(bytes).map((r) => r.value?.toString("utf8"))).toEqual(texts.map((t) => `v:${t}`));
    // 60 emoji: 120 UTF-16 code units (would fit) but 240 UTF-8 bytes, past a 200-byte batch holding a record already
    const w = new RecordBatchWriter(200);
    expect(w.tryAppend(null, "a", [], 1)).toBe(true);
    expect(w.tryAppend(null, "🚀".repeat(60), [], 2)).toBe(false);
    expect(readBatchHeader(w.finish()).recordCount).toBe(1);
  });
});
