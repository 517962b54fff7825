import { describe, expect, it } from "vitest";
import { PackedIndex } from "./packed-index.ts";

describe("packed index", () => {
  it("behaves as a Map of strings to numbers, for ASCII and UTF-8 keys, by name or by bytes", () => {
    const index = new PackedIndex();
    const map = new Map<string, number>();
    const keys = Array.from({ length: 20_000 }, (_, i) => (i % 7 === 0 ? `zoë-${i}` : i % 11 === 0 ? `"k${i}"/€` : `k${i}`));
    let n = 0;
    const check = () => {
      expect(index.size).toBe(map.size);
      for (const k of keys.slice(0, 500)) expect(index.get(k)).toBe(map.get(k));
    };
    for (const k of keys) {
      index.set(k, ++n);
      map.set(k, n);
    }
    check();
    // by bytes, as a changelog record's key: the value replaced comes back
    for (const k of keys.slice(0, 3000)) {
      const b = Buffer.from(`xx${k}yy`, "utf8");
      expect(index.setBytes(b, 2, b.length - 2, ++n)).toBe(map.get(k));
      map.set(k, n);
    }
    expect(index.setBytes(Buffer.from("new"), 0, 3, 7)).toBe(-1);
    map.set("new", 7);
    check();
    // deletions (by name and by bytes), then the same keys again: deleted slots reused
    for (const k of keys.slice(0, 10_000)) {
      if (k.length % 2 === 0) expect(index.delete(k)).toBe(map.get(k));
      else {
        const b = Buffer.from(k, "utf8");
        expect(index.deleteBytes(b, 0, b.length)).toBe(map.get(k));
      }
      map.delete(k);
    }
    expect(index.delete("absent")).toBeUndefined();
    expect(index.deleteBytes(Buffer.from("absent"), 0, 6)).toBe(-1);
    check();
    for (const k of keys.slice(0, 5000)) {
      index.set(k, ++n);
      map.set(k, n);
    }
    check();
    expect(new Map(index.entries())).toEqual(map);
    expect(new Set(index.keys())).toEqual(new Set(map.keys()));
    expect([...index.values()].sort()).toEqual([...map.values()].sort());
    expect(index.has("k1")).toBe(map.has("k1"));
    expect(index.has("k12345")).toBe(true);
  });
});
