import { describe, expect, it } from "vitest";
import type { FetchedRecord } from "../broker/broker.ts";
import { compileRecordFilter } from "./compile-record-filter.ts";

const rec = (
  o: Partial<{ key: string | null; value: string | null; headers: Record<string, string>; offset: number; timestamp: number }>,
): FetchedRecord => ({
  offset: o.offset ?? 0,
  timestamp: o.timestamp ?? Date.parse("2026-01-02T03:04:05Z"),
  timestampType: "CreateTime",
  key: o.key === undefined ? Buffer.from("k1") : o.key === null ? null : Buffer.from(o.key),
  value:
    o.value === undefined ? Buffer.from('{"amount":150,"tags":["a","b"],"name":"Ada"}') : o.value === null ? null : Buffer.from(o.value),
  headers: Object.entries(o.headers ?? { source: "web" }).map(([key, v]) => ({ key, value: Buffer.from(v) })),
});

describe("compileRecordFilter", () => {
  it("matches CEL over parsed JSON values, headers, key, partition, offset and timestamp", () => {
    const cases: [string, boolean][] = [
      ["value.amount > 100", true],
      ["value.amount > 100 && headers['source'] == 'web'", true],
      ["value.tags.exists(t, t == 'b')", true],
      ["key == 'k1' && partition == 2 && offset == 0", true],
      ["timestamp > timestamp('2026-01-01T00:00:00Z')", true],
      ["has(value.missing)", false],
      ["value.name.startsWith('B')", false],
    ];
    for (const [cel, want] of cases) expect(compileRecordFilter({ cel }).test(2, rec({})).match, cel).toBe(want);
  });

  it("sees plain text values as strings and null values as null", () => {
    expect(compileRecordFilter({ cel: "value == 'hello'" }).test(0, rec({ value: "hello" })).match).toBe(true);
    expect(compileRecordFilter({ cel: "value == null && key == null" }).test(0, rec({ value: null, key: null })).match).toBe(true);
  });

  it("text filters match case-insensitively and must all hold", () => {
    const f = compileRecordFilter({ keyContains: "K1", valueContains: "ADA", headerContains: "WEB" });
    expect(f.test(0, rec({})).match).toBe(true);
    expect(f.test(0, rec({ headers: { other: "x" } })).match).toBe(false);
    expect(compileRecordFilter({ headerContains: "sour" }).test(0, rec({})).match).toBe(true);
  });

  it("a runtime failure is no match, with the reason", () => {
    const r = compileRecordFilter({ cel: "value.nope == 1" }).test(0, rec({ offset: 7 }));
    expect(r.match).toBe(false);
    expect(r.error).toMatch(/nope.*offset 7/);
  });

  it("refuses expressions that do not parse, do not type-check or do not return bool (400)", () => {
    for (const [cel, msg] of [
      ["value.amount >", /invalid cel: Unexpected token/],
      ["nosuchvar == 1", /invalid cel: Unknown variable: nosuchvar/],
      ["offset + 1", /must return bool, not int/],
      ["'a' + 1 == 'a1'", /invalid cel/],
    ] as const) {
      expect(() => compileRecordFilter({ cel }), cel).toThrow(msg);
      try {
        compileRecordFilter({ cel });
      } catch (e) {
        expect((e as { code: string }).code).toBe("VALIDATION_FAILED");
      }
    }
  });

  it("refuses an expression of type dyn (`value.amount`) before any record is read, saying how to make it bool", () => {
    for (const cel of ["value.amount", "key", "value.tags[0]", "value.a ? value.b : value.c"]) {
      expect(() => compileRecordFilter({ cel }), cel).toThrow(/must return bool, but its type is known only when it runs \(dyn\)/);
    }
    expect(() => compileRecordFilter({ cel: "value.amount" })).toThrow(/value\.active == true/);
    // a comparison, a conversion and a boolean operator are bool
    for (const cel of ["value.amount == true", "bool(value.active)", "value.a || value.b", "!value.flag"]) {
      expect(() => compileRecordFilter({ cel }), cel).not.toThrow();
    }
  });

  it("keeps the source line and the caret of a refusal: the ^ is under the mistake, on the line it is on", () => {
    const cases: [string, string, number][] = [
      // expression, the text the caret points at, its line
      ['value.kind == "big" &&\n  value.n >', "", 2],
      ['value.kind == "big" &&\n  offset == "x"', "offset", 2],
      ["value.a &&\n  nope == 1 &&\n  true", "nope", 2],
      ["value.amount", "amount", 1],
      ["offset + 1", "offset", 1],
    ];
    for (const [cel, target, lineNumber] of cases) {
      let message = "";
      try {
        compileRecordFilter({ cel });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(caretAt(message), `${cel} → ${message}`).toEqual({
        lineNumber,
        rest: expect.stringMatching(new RegExp(`^${target.replace(".", "\\.")}`)),
      });
    }
  });

  it("never runs host code: JavaScript in an expression is a parse error", () => {
    for (const cel of ["process.exit(1)", "(() => true)()", "constructor.constructor('return 1')()"]) {
      expect(() => compileRecordFilter({ cel })).toThrow(/invalid cel/);
    }
  });

  it("stops an expression at its budget per record, and the search at the request's budget", () => {
    const grow = 'value.split("").map(a, value.split("").map(b, value + a + b)).size() > 0';
    const over = compileRecordFilter({ cel: grow }).test(0, rec({ value: "x".repeat(3000), offset: 3 }));
    expect(over.match).toBe(false);
    expect(over.error).toMatch(/CEL cost budget exceeded.*offset 3/);
    const f = compileRecordFilter({ cel: 'value.split("").all(c, c != "q")' }, { unitsPerRecord: 20_000, unitsPerRequest: 50_000 });
    const seen = Array.from({ length: 10 }, (_, i) => f.test(0, rec({ value: "z".repeat(1000), offset: i })));
    expect(seen.slice(0, 2).every((t) => t.match && !t.error)).toBe(true);
    expect(seen.findIndex((t) => t.exhausted)).toBeGreaterThan(1);
    expect(seen.at(-1)).toMatchObject({ match: false, exhausted: true, error: expect.stringMatching(/request \(50000 units\) is spent/) });
  });

  it("refuses nesting too deep and RE2-invalid literal patterns before any record is read", () => {
    const e1 = (() => {
      try {
        compileRecordFilter({ cel: "[1].all(a, [1].all(b, [1].all(c, [1].all(d, true))))" });
      } catch (e) {
        return e as { code: string; message: string; details: unknown };
      }
    })();
    expect(e1).toMatchObject({ code: "VALIDATION_FAILED", details: { field: "cel" } });
    expect(e1?.message).toMatch(/cel too costly/);
    expect(() => compileRecordFilter({ cel: 'value.matches("(?=a)")' })).toThrow(/RE2/);
  });
});

/** The line a refusal shows and the text from its caret on (`> NNNN | line`, then the caret 9 + column along). */
function caretAt(message: string): { lineNumber: number; rest: string } | null {
  const lines = message.split("\n");
  const i = lines.findIndex((l) => /^> +\d+ \| /.test(l));
  if (i < 0 || !/^ *\^$/.test(lines[i + 1] ?? "")) return null;
  const [, n, source] = /^> +(\d+) \| (.*)$/.exec(lines[i])!;
  return { lineNumber: Number(n), rest: source.slice(lines[i + 1].indexOf("^") - 9) };
}
