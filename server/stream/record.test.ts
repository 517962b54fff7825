import { describe, expect, it } from "vitest";
import { decode, encode, toJsonData } from "./record.ts";

const text = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString("utf8"));

describe("a sink's value as bytes", () => {
  it("writes plain JSON data as JSON.stringify does, and CEL's other values as their JSON data", () => {
    const plain = { order: 7, amount: 12.5, tier: "gold", tags: ["a", null, true], nested: { deep: [{ x: 0.5 }] } };
    expect(text(encode(plain))).toBe(JSON.stringify(plain));
    expect(JSON.parse(text(encode(plain))!)).toEqual(toJsonData(plain));
    // values JSON.stringify would write differently, or not at all, go through toJsonData
    const cel = {
      n: 3n,
      big: 2n ** 70n,
      at: new Date(1000),
      bytes: new Uint8Array([1, 2]),
      m: new Map([[1n, "one"]]),
      u: undefined,
      inf: Infinity,
    };
    expect(JSON.parse(text(encode(cel))!)).toEqual({
      n: 3,
      big: "1180591620717411303424",
      at: "1970-01-01T00:00:01.000Z",
      bytes: "AQI=",
      m: { "1": "one" },
      u: null,
      inf: "Infinity",
    });
    // nested too: a BigInt deep inside a plain object
    expect(text(encode({ a: [{ b: 1n }] }))).toBe('{"a":[{"b":1}]}');
    expect(text(encode([1, undefined]))).toBe("[1,null]");
    expect(text(encode(Object.assign(Object.create(null) as object, { k: "v" })))).toBe('{"k":"v"}');
  });

  it("refuses a value nested deeper than 64 levels, and writes text and bytes as they are", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 70; i++) deep = { d: deep };
    expect(() => encode(deep)).toThrow(/deeper than 64/);
    expect(text(encode("héllo"))).toBe("héllo");
    const bytes = new Uint8Array([0xff, 0]);
    expect(encode(bytes)).toBe(bytes);
    expect(encode(null)).toBe(null);
    expect(decode(encode({ a: 1 }), "json", "value")).toEqual({ a: 1 });
  });
});
