import { describe, expect, it } from "vitest";
import { decodeState, encodeState } from "./state-codec.ts";
import { StateStore } from "./state-store.ts";

describe("state codec", () => {
  it("gives back exactly the values CEL works with: ints, doubles, timestamps, bytes, sets, maps, $-keys", () => {
    const value = {
      count: 3n,
      big: 2n ** 70n,
      avg: { sum: 1.5, count: 2 },
      at: new Date(1234),
      raw: new Uint8Array([0, 255, 7]),
      distinct: new Set(['"a"', '"b"']),
      byKey: new Map<unknown, unknown>([[1n, "x"]]),
      weird: { $b: "not a bigint", plain: [1, null, true] },
      inf: Number.POSITIVE_INFINITY,
    };
    const back = decodeState(encodeState(value)) as typeof value;
    expect(back).toEqual(value);
    expect(typeof back.count).toBe("bigint");
    expect(back.at).toBeInstanceOf(Date);
    expect(back.raw).toBeInstanceOf(Uint8Array);
  });

  it("refuses values nested past 64 levels instead of overflowing", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 70; i++) deep = [deep];
    expect(() => encodeState(deep)).toThrow(/64 levels/);
  });
});

describe("state store", () => {
  it("reports each changed key once with its latest value, deletions as undefined, and restores without marking changes", () => {
    const s = new StateStore<number>();
    s.set("a", 1);
    s.set("a", 2);
    s.set("b", 1);
    s.delete("b");
    expect(s.takeEncodedChanges()).toEqual([
      ["a", encodeState(2)],
      ["b", null],
    ]);
    expect(s.takeEncodedChanges()).toEqual([]);
    s.restoreEncoded("c", encodeState(5));
    s.restoreEncoded("a", null);
    expect([...s.entries()]).toEqual([["c", 5]]);
    expect(s.takeEncodedChanges()).toEqual([]);
  });
});
