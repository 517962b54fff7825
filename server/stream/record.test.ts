import { describe, expect, it } from "vitest";
import { decode, decodeRange, DecodeError, encode, jsonText, toJsonData } from "./record.ts";

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

describe("a record's bytes as the pipeline sees them", () => {
  const fatal = new TextDecoder("utf-8", { fatal: true });
  const cases: [string, number[]][] = [
    ["ASCII", [...Buffer.from('{"user":"k1","n":2}')]],
    ["multibyte text", [...Buffer.from("значение 🚀 ü")]],
    ["a byte order mark, dropped", [0xef, 0xbb, 0xbf, ...Buffer.from('"x"')]],
    ["a real U+FFFD, kept", [...Buffer.from('"a\uFFFDb"')]],
    ["empty", []],
    ["a lone continuation byte", [0x61, 0x80, 0x62]],
    ["an overlong '/'", [0xc0, 0xaf]],
    ["a surrogate (U+D800)", [0xed, 0xa0, 0x80]],
    ["past U+10FFFF", [0xf4, 0x90, 0x80, 0x80]],
    ["a truncated sequence", [0x61, 0xe2, 0x82]],
    ["not JSON", [...Buffer.from("{nope")]],
  ];
  // what TextDecoder's fatal mode and JSON.parse make of the bytes: the value, or the error
  const expected = (bytes: Uint8Array, format: "text" | "json") => {
    let t: string;
    try {
      t = fatal.decode(bytes);
    } catch {
      return { error: "value is not UTF-8 text" };
    }
    if (format === "text") return { value: t };
    try {
      return { value: JSON.parse(t) as unknown };
    } catch (e) {
      return { error: `value is not JSON: ${(e as Error).message}` };
    }
  };
  const outcome = (f: () => unknown) => {
    try {
      return { value: f() };
    } catch (e) {
      expect(e).toBeInstanceOf(DecodeError);
      return { error: (e as Error).message };
    }
  };

  it.each(cases)("%s: read by range from a larger buffer as TextDecoder (fatal) and JSON.parse read it alone", (_name, bytes) => {
    // the record's bytes in the middle of a batch: bytes around it that are not UTF-8 either
    const batch = Buffer.from([0xff, 0xfe, ...bytes, 0xc3]);
    const alone = new Uint8Array(bytes);
    for (const format of ["text", "json"] as const) {
      expect(outcome(() => decodeRange(batch, 2, bytes.length, format, "value"))).toEqual(expected(alone, format));
      expect(outcome(() => decode(alone, format, "value"))).toEqual(expected(alone, format));
    }
    expect(decodeRange(batch, 2, bytes.length, "bytes", "value")).toEqual(Buffer.from(bytes));
  });

  it("a null key or value (length -1) is null in every format; the error names the key or the value", () => {
    for (const format of ["text", "json", "bytes"] as const) expect(decodeRange(Buffer.alloc(4), 1, -1, format, "key")).toBeNull();
    expect(() => decodeRange(Buffer.from([0x80]), 0, 1, "text", "key")).toThrow("key is not UTF-8 text");
  });
});

describe("a value as JSON text", () => {
  it("writes every string as JSON.stringify does", () => {
    const strings = [
      "",
      "k1",
      "a b~",
      'say "hi"',
      "back\\slash",
      "tab\there",
      "\u0000\u001f\u007f",
      "é",
      "🚀",
      "\ud800",
      "\udc00x",
      "\u2028",
    ];
    for (let c = 0; c < 0x300; c++) strings.push(`x${String.fromCharCode(c)}y`);
    for (const s of strings) expect(jsonText(s)).toBe(JSON.stringify(s));
  });
});
