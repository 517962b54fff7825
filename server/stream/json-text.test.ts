import { describe, expect, it } from "vitest";
import { isJsonText } from "./json-text.ts";
import { rng } from "../testing/prng.ts";

const fatal = new TextDecoder("utf-8", { fatal: true });

/** What a pipeline decoding the bytes decides: JSON.parse over TextDecoder's fatal decoding. */
function parses(bytes: Uint8Array): boolean {
  try {
    JSON.parse(fatal.decode(bytes));
    return true;
  } catch {
    return false;
  }
}

/** `isJsonText` of `bytes` placed inside a larger buffer, with bytes around them that could continue a JSON text. */
function checked(bytes: Uint8Array): boolean {
  const around = Buffer.from([0x22, 0x5c, ...bytes, 0x5c, 0x75, 0x30, 0x30, 0x22, 0x5d]);
  return isJsonText(around, 2, 2 + bytes.length);
}

const utf8 = (s: string) => new Uint8Array(Buffer.from(s, "utf8"));

describe("isJsonText", () => {
  const valid = [
    "0",
    "-0",
    "-0.5e+10",
    "1E-2",
    "123456789012345678901234567890",
    '""',
    '"\\u00e9\\ud83d\\ude80\\/\\b\\f\\n\\r\\t\\"\\\\"',
    '"\\ud800"',
    "true",
    " \t\r\nfalse \n",
    "null",
    "[]",
    "{}",
    "[ ]",
    "{ }",
    '{"a":[1,{"b":null}],"c":"ü🚀"}',
    '[1, 2 ,3,"x",[[]],{"":{}}]',
    '{"user":"k1","amount":42}                                                   ',
    '"\u2028\u2029\uFEFF"',
    "\uFEFF[1]",
  ];
  const invalid = [
    "",
    " ",
    "01",
    "-",
    "1.",
    ".5",
    "+1",
    "1e",
    "1e+",
    "0x10",
    "NaN",
    "Infinity",
    "tru",
    "nul",
    "True",
    "[1,]",
    "{,}",
    '{"a":1,}',
    '{"a" 1}',
    "{a:1}",
    "{'a':1}",
    "[1 2]",
    "[",
    "]",
    '{"a":1',
    '"abc',
    '"a\\x"',
    '"\\u12"',
    '"\\u12G4"',
    '"tab\there"',
    '"nl\nhere"',
    "1 2",
    "[]]",
    "\uFEFF\uFEFF1",
    "\u00a01",
    "1\u00a0",
    "/*c*/1",
  ];
  it.each(valid)("accepts %j, as JSON.parse does", (s) => {
    expect(parses(utf8(s))).toBe(true);
    expect(checked(utf8(s))).toBe(true);
  });
  it.each(invalid)("refuses %j, as JSON.parse does", (s) => {
    expect(parses(utf8(s))).toBe(false);
    expect(checked(utf8(s))).toBe(false);
  });

  it("refuses what is not UTF-8, inside a string or out of one; accepts a value nested 200,000 deep", () => {
    for (const bytes of [
      [0x22, 0xff, 0x22],
      [0x22, 0xc0, 0xaf, 0x22],
      [0x22, 0xed, 0xa0, 0x80, 0x22],
      [0x22, 0xe2, 0x82, 0x22],
      [0xc3, 0xa9],
    ]) {
      expect(parses(new Uint8Array(bytes))).toBe(false);
      expect(checked(new Uint8Array(bytes))).toBe(false);
    }
    const deep = utf8("[".repeat(200_000) + '{"a":1}' + "]".repeat(200_000));
    expect(checked(deep)).toBe(parses(deep));
    expect(checked(deep)).toBe(true);
    expect(checked(utf8("[".repeat(200_000) + "]".repeat(199_999)))).toBe(false);
  });

  it("decides as JSON.parse does on 300,000 random and mutated texts", () => {
    const random = rng(20261207);
    const pieces = [
      "{",
      "}",
      "[",
      "]",
      '"',
      ":",
      ",",
      " ",
      "\n",
      "0",
      "1",
      "9",
      "-",
      "+",
      ".",
      "e",
      "E",
      "\\",
      "u",
      "a",
      "F",
      "t",
      "r",
      "true",
      "false",
      "null",
      '"k"',
      "\t",
      "\u0001",
      "é",
      "🚀",
    ];
    const seeds = valid.map(utf8);
    for (let n = 0; n < 300_000; n++) {
      let bytes: Uint8Array;
      if (n % 2 === 0) {
        let s = "";
        const len = Math.floor(random() * 12);
        for (let k = 0; k < len; k++) s += pieces[Math.floor(random() * pieces.length)];
        bytes = utf8(s);
      } else {
        // a valid text with one byte changed, inserted or removed (any byte value)
        const seed = Array.from(seeds[Math.floor(random() * seeds.length)]);
        const at = Math.floor(random() * (seed.length + 1));
        const byte = random() < 0.5 ? Math.floor(random() * 256) : pieces[Math.floor(random() * 9)].charCodeAt(0);
        const op = Math.floor(random() * 3);
        if (op === 0) seed.splice(at, 1, byte);
        else if (op === 1) seed.splice(at, 0, byte);
        else seed.splice(at, 1);
        bytes = new Uint8Array(seed);
      }
      const expected = parses(bytes);
      if (checked(bytes) !== expected)
        expect({ text: Buffer.from(bytes).toString("latin1"), bytes: [...bytes] }).toEqual({ parses: expected });
    }
  });
});
