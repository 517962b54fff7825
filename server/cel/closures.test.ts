import { describe, expect, it } from "vitest";
import { compileCel } from "./compile.ts";
import { createCelEnvironment } from "./environment.ts";

/**
 * The compiled closures against cel-js's own evaluator: every expression below, over every
 * variable set below, must give the same value or fail with the same message. The expressions
 * cover each fast case of closures.ts on the values it takes and on those it hands to cel-js.
 */
const VARIABLES = {
  value: "dyn",
  key: "dyn",
  n: "int",
  headers: "map<string, string>",
  timestamp: "google.protobuf.Timestamp",
} as const;

const EXPRESSIONS = [
  // field access
  "value.a",
  "value.o.k",
  "value.missing",
  "value.a.x",
  "value.list.x",
  "value.o.k.deeper",
  'value["a"]',
  "value.constructor",
  "headers.h",
  "headers.missing",
  'headers["h"]',
  "key",
  // comparisons
  "value.a > 1",
  "value.a > 1.5",
  "value.a < 2.5",
  "value.a <= 2.5",
  "value.a > 2.5",
  "value.a >= 2.5",
  'value.s < "abc"',
  'value.s > "abc"',
  "value.a <= n",
  'value.s < "b"',
  'value.s >= "abc"',
  "value.a < value.s",
  "value.b > true",
  "value.b < value.a",
  "n > 2",
  "n < 2.5",
  "value.a > 1u",
  "timestamp > timestamp('2020-01-01T00:00:00Z')",
  // arithmetic
  "value.a + 1.0",
  "value.a * 2.0",
  "value.a * 2",
  "value.a - value.a",
  "value.a / 0.0",
  "-value.a / 0.0",
  "value.a % 2",
  "n + 1",
  "n * 9223372036854775807",
  "n / 0",
  "n % 0",
  "n - value.a",
  'value.s + "x"',
  "value.s + value.s",
  "value.s + 1",
  "[1] + [2]",
  "value.list + value.list",
  "1u + 2u",
  "-value.a",
  "-n",
  "-value.s",
  "-9223372036854775807 - n * n * n * n",
  "timestamp + duration('1h')",
  "duration('1s') + duration('2s')",
  // equality
  "value.a == 1.0",
  "value.a == 1",
  'value.s == "abc"',
  'value.a == "x"',
  "value.list == [1.0, 2.0, 3.0]",
  "value.list != [1.0, 2.0, 3.0]",
  'value.o == {"k": 1.0}',
  "value.missing == null",
  "value.z == null",
  "null == value.a",
  "n == 3",
  "n != 3",
  "value.b != false",
  "value.b == value.b",
  "key == value",
  "double('NaN') == double('NaN')",
  "double('NaN') != double('NaN')",
  "b'abc' == b'abc'",
  "timestamp == timestamp",
  // logical operators and their error absorption
  "value.b && value.a > 1",
  "value.b || value.a > 1",
  "value.missing || true",
  "true || value.missing",
  "value.missing && false",
  "false && value.missing",
  "true && value.missing",
  "false || value.missing",
  "value.missing || false",
  "value.missing && true",
  "value.a || true",
  "value.a && false",
  "value.a || false",
  "false || value.a",
  "true && value.a",
  "value.missing || value.other",
  "value.a || value.s",
  "!value.b",
  "!value.a",
  "!!value.b",
  // conditionals
  "value.b ? 1 : 2",
  "value.a ? 1 : 2",
  "value.missing ? 1 : 2",
  "value.b ? value.missing : value.a",
  // literals
  "[value.a, value.s]",
  "[value.missing, value.other]",
  '{"a": value.a, "b": [1, 2]}',
  '{"__proto__": 1, "x": 2, "constructor": 3, "prototype": 4}',
  "{1: 'one', 2: 'two'}",
  '{"k": 1, "k": 2}',
  "{}",
  "[]",
  '{"k": value.a}.k',
  '{"k": value.missing, "j": value.other}',
  "[1, 2, 3][1]",
  "value.list[0]",
  "value.list[5]",
  "value.list[-1]",
  'value.list["x"]',
  // functions
  "size(value.s)",
  "value.s.size()",
  "size(value)",
  'value.s.startsWith("a")',
  'value.s.contains("b")',
  // string methods computed without cel-js's dispatch: strings, other receivers and arguments, ranges
  'value.s.startsWith("")',
  'value.s.endsWith("bc")',
  "value.s.endsWith(value.s)",
  "value.s.startsWith(value.a)",
  "value.a.startsWith(value.s)",
  'value.list.contains("x")',
  "value.s.contains(value.o)",
  "value.s.substring(1)",
  "value.s.substring(0)",
  "value.s.substring(3)",
  "value.s.substring(4)",
  "value.s.substring(-1)",
  "value.s.substring(n)",
  "value.s.substring(value.a)",
  "value.s.substring(1, 2)",
  '"K" + value.s.substring(1)',
  'key.startsWith("k")',
  "int(value.a)",
  "int(value.s)",
  "string(n)",
  "double(n)",
  "string(value.a)",
  "type(value.a) == double",
  "string(value.s)",
  "timestamp.getFullYear()",
  "size(b'ab')",
  // in
  '"a" in value',
  '"k" in value.o',
  "value.a in [1.0, 2.0, 2.5]",
  '"h" in headers',
  "value.a in value.list",
  // macros
  "has(value.a)",
  "has(value.o.k)",
  "has(value.missing.k)",
  "has(headers.h)",
  "value.list.all(x, x > 0.0)",
  "value.list.exists(x, x > 1.0)",
  "value.list.exists_one(x, x > 1.0)",
  "value.list.map(x, x * 2.0)",
  "value.list.filter(x, x > 1.0)",
  "value.list.map(x, x > 1.0, x + 1.0)",
  "value.list.all(x, x.missing)",
  "value.list.exists(x, x.missing || x > 1.0)",
  "value.list.all(x, x.missing && false)",
  'value.o.all(k, k != "")',
  "value.list.map(x, value.list.map(y, x + y))",
  "value.list.map(x, [x, value.a])",
  "value.list.filter(x, x)",
  "cel.bind(y, value.a, y + y)",
  "cel.bind(value, 1, value + 1)",
  "value.list.map(value, value * 2.0)",
  "value.list.exists(n, n > 1.0) && n == 3",
];

const RECORDS: unknown[] = [
  { a: 2.5, s: "abc", b: true, list: [1.0, 2.0, 3.0], o: { k: 1.0 }, z: null },
  { a: 0, s: "", b: false, list: [], o: {} },
  { a: "str", s: 5, b: 1, list: "x", o: [1] },
  { constructor: 1, a: 1 },
  { a: 1, list: [1.0, "two"], o: { k: { deeper: true } } },
  "text",
  null,
  42,
  [1, 2],
];

function variables(value: unknown): Record<string, unknown> {
  return { value, key: "k1", n: 3n, headers: { h: "v" }, timestamp: new Date(1_700_000_000_000) };
}

type Outcome = { value: unknown } | { error: string };

function outcome(run: () => unknown): Outcome {
  try {
    return { value: run() };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

describe("CEL compiled to closures", () => {
  it("gives what cel-js's own evaluator gives, values and errors, on every expression and record", () => {
    const env = createCelEnvironment(VARIABLES, true);
    let compared = 0;
    const invalid = EXPRESSIONS.filter((source) => !env.check(source).valid);
    expect(invalid, "expressions that do not type-check").toEqual([]);
    for (const source of EXPRESSIONS) {
      const reference = env.parse(source) as unknown as ((vars: object) => unknown) & { check(): { valid: boolean } };
      reference.check();
      const program = compileCel(source, { variables: VARIABLES, resultTypes: ["*"], mixedLiterals: true });
      const meter = program.newMeter();
      for (const value of RECORDS) {
        const expected = outcome(() => reference(variables(value)));
        const actual = outcome(() => program.evaluate(variables(value), meter));
        expect(actual, `${source} over ${JSON.stringify(value)}`).toEqual(expected);
        compared++;
      }
    }
    expect(compared).toBe(EXPRESSIONS.length * RECORDS.length);
  });

  it("evaluates the same program again and again with other variables (nothing kept from the last)", () => {
    const program = compileCel('{"user": value.user, "big": value.amount * 2.0}', {
      variables: VARIABLES,
      resultTypes: ["*"],
      mixedLiterals: true,
    });
    const meter = program.newMeter();
    const outs = [1, 2, 3].map((i) => program.evaluate(variables({ user: `u${i}`, amount: i }), meter));
    expect(outs).toEqual([
      { user: "u1", big: 2 },
      { user: "u2", big: 4 },
      { user: "u3", big: 6 },
    ]);
    expect(outs[0]).not.toBe(outs[1]);
    expect(() => program.evaluate({ key: null }, meter)).toThrow(/Unknown variable: value/);
  });

  it("charges nodes outside loops once per evaluation and nodes inside loops each time they run", () => {
    const once = compileCel("value.a > 1.0 && value.b", { variables: VARIABLES, resultTypes: ["*"] });
    const meter = once.newMeter();
    once.evaluate(variables({ a: 2, b: true }), meter);
    const flat = meter.used;
    expect(flat).toBeGreaterThan(0);
    expect(flat).toBeLessThan(20);
    const loop = compileCel("value.list.all(x, x > 0.0)", { variables: VARIABLES, resultTypes: ["*"] });
    loop.evaluate(variables({ list: Array.from({ length: 10 }, () => 1) }), meter);
    const ten = meter.used;
    loop.evaluate(variables({ list: Array.from({ length: 1000 }, () => 1) }), meter);
    expect(meter.used - ten).toBeGreaterThan(990 * 4); // the step's nodes, per element
  });

  it("charges a map literal its entries and, as a result, its deep size", () => {
    const program = compileCel('{"v": value}', { variables: VARIABLES, resultTypes: ["*"], mixedLiterals: true });
    const meter = program.newMeter();
    program.evaluate(variables("x".repeat(10_000)), meter);
    expect(meter.used).toBeGreaterThan(10_000);
    const many = compileCel("[value, value, value, value, value, value, value, value, value, value]", {
      variables: VARIABLES,
      resultTypes: ["*"],
      mixedLiterals: true,
      limits: { unitsPerEvaluation: 50_000 },
    });
    expect(() => many.evaluate(variables("x".repeat(10_000)), many.newMeter())).toThrow(/cost budget/);
  });
});
