import { describe, expect, it } from "vitest";
import { CelCompileError, compileCel, type CelLimits } from "./compile.ts";
import { CelCostError, CostMeter, deepSize } from "./cost.ts";

const VARIABLES = { value: "dyn", n: "int" };

/**
 * Evaluates once. These tests look at units; the clock backstop (tested on its own below) would
 * decide some of them on a loaded machine (a cold first evaluation of 10,000 steps took 30–130 ms
 * at a load average of 18), so its default is far away unless a test sets it.
 */
function run(source: string, value: unknown, limits: Partial<CelLimits> = {}): { out?: unknown; error?: Error; used: number } {
  const program = compileCel(source, {
    variables: VARIABLES,
    resultTypes: ["bool", "dyn", "int", "list<int>"],
    limits: { msPerEvaluation: 60_000, ...limits },
  });
  const meter = program.newMeter();
  try {
    return { out: program.evaluate({ value, n: 3n }, meter), used: meter.used };
  } catch (e) {
    return { error: e as Error, used: meter.used };
  }
}

function compileError(source: string): CelCompileError {
  try {
    compileCel(source, { variables: VARIABLES, resultTypes: ["bool"] });
  } catch (e) {
    if (e instanceof CelCompileError) return e;
    throw e;
  }
  throw new Error(`'${source}' compiled`);
}

describe("compileCel", () => {
  it("evaluates ordinary expressions as cel-js does, macros included", () => {
    expect(run("value.items.map(i, i.price * 2).filter(p, p > 2)", { items: [{ price: 1n }, { price: 2n }, { price: 3n }] }).out).toEqual([
      4n,
      6n,
    ]);
    expect(run('value.tags.exists(t, t == "b") && value.tags.all(t, size(t) == 1)', { tags: ["a", "b"] }).out).toBe(true);
    expect(run("value.tags.exists_one(t, t == 'a')", { tags: ["a", "b"] }).out).toBe(true);
    expect(run("cel.bind(x, value + value, x.size() == 4)", "ab").out).toBe(true);
    expect(run("has(value.a) && !has(value.b)", { a: 1n }).out).toBe(true);
    expect(run("n + 1", null).out).toBe(4n);
    expect(run('value.matches("^h.l+o$")', "hello").out).toBe(true);
  });

  it("refuses text that does not parse or type-check, and results of the wrong type", () => {
    expect(compileError("value >").code).toBe("INVALID_CEL");
    expect(compileError("nosuch == 1").message).toMatch(/Unknown variable/);
    expect(compileError("n + 1").message).toMatch(/must return bool, not int/);
  });

  it("refuses comprehensions nested deeper than the limit at compile time", () => {
    const e = compileError("[1].all(a, [1].all(b, [1].all(c, [1].all(d, true))))");
    expect(e.code).toBe("CEL_TOO_COSTLY");
    expect(e.message).toMatch(/nested 4 deep; at most 3/);
    expect(() => compileCel("[1].all(a, [1].all(b, [1].all(c, true)))", { variables: VARIABLES, resultTypes: ["bool"] })).not.toThrow();
  });

  it("refuses a literal matches pattern that RE2 refuses, at compile time", () => {
    for (const p of ["(?=a)", "(a)\\\\1", "[a-z]{1000}[a-z]{1000}"]) {
      const e = compileError(`value.matches("${p}")`);
      expect(e.code, p).toBe("INVALID_REGULAR_EXPRESSION");
    }
  });

  it("matches on RE2: a catastrophic-backtracking pattern is answered, and charged by input × program size", () => {
    const r = run('value.matches("^(a+)+$")', "a".repeat(31) + "!");
    expect(r.out).toBe(false);
    const big = run('value.matches("^(a+)+$")', "a".repeat(100_000) + "!", { unitsPerEvaluation: 1_000_000 });
    expect(big.out).toBe(false);
    expect(big.used).toBeGreaterThan(100_000);
    // a pattern only known at run time is checked then, as a per-evaluation error
    expect(run("value.matches(value)", "(?=x)").error?.message).toMatch(/RE2/);
    expect(run("value.s.matches(value.p)", { s: "abc", p: "b" }).out).toBe(true);
  });
});

describe("the cost meter", () => {
  const grow = 'value.split("").map(a, value.split("").map(b, value + a + b)).size() > 0';

  it("stops an expression that grows strings in nested loops (it ran the server out of memory)", () => {
    const r = run(grow, "x".repeat(3000));
    expect(r.error).toBeInstanceOf(CelCostError);
    expect(r.error?.message).toMatch(/CEL cost budget exceeded/);
    expect(r.used).toBeLessThan(1_100_000);
  });

  it("stops nested all/exists loops even though they absorb errors in their predicates", () => {
    for (const source of [
      'value.split("").all(a, value.split("").all(b, value.split("").all(c, a + b + c != "zzz")))',
      'value.split("").exists(a, value.split("").exists(b, value.split("").exists(c, a + b + c == "zzz")))',
      '[1].exists(x, value.split("").exists(a, value.split("").exists(b, false))) || true',
    ]) {
      const r = run(source, "y".repeat(800), { unitsPerEvaluation: 100_000 });
      expect(r.error, source).toBeInstanceOf(CelCostError);
      // the meter trips at the budget and the loops unwind in a few steps, not one per element
      expect(r.used, source).toBeLessThan(101_000);
    }
  });

  it("charges what a function reads: a search of a large string inside a loop is charged each time", () => {
    const r = run('value.split("").all(a, value.contains(a))', "x".repeat(10_000), { unitsPerEvaluation: 1_000_000 });
    expect(r.error).toBeInstanceOf(CelCostError);
    // charges roughly (elements × 10,000 characters) instead of one unit a step
    const cheap = run('value.split("").all(a, a == "x")', "x".repeat(10_000), { unitsPerEvaluation: 1_000_000 });
    expect(cheap.out).toBe(true);
    expect(cheap.used).toBeLessThan(200_000);
  });

  it("charges deep values read whole by their size, computed once", () => {
    const doc = { rows: Array.from({ length: 1000 }, (_, i) => ({ id: i, name: `row-${i}` })) };
    const r = run("value.rows.map(r, value.rows == value.rows).size() > 0", doc, { unitsPerEvaluation: 1_000_000 });
    expect(r.error).toBeInstanceOf(CelCostError);
    const fieldsOnly = run("value.rows.all(r, r.id >= 0 && value.rows.size() > 0)", doc, { unitsPerEvaluation: 10_000_000 });
    expect(fieldsOnly.out).toBe(true);
  });

  it("starts each evaluation afresh: a record over budget does not spoil the next", () => {
    const program = compileCel('value.split("").all(a, value.split("").all(b, true))', {
      variables: VARIABLES,
      resultTypes: ["bool"],
      limits: { unitsPerEvaluation: 50_000 },
    });
    const meter = program.newMeter();
    expect(() => program.evaluate({ value: "q".repeat(500), n: 0n }, meter)).toThrow(CelCostError);
    expect(program.evaluate({ value: "q".repeat(10), n: 0n }, meter)).toBe(true);
    expect(meter.used).toBeLessThan(2_000);
    // a caller may give less than the per-evaluation budget (what is left of a request's)
    expect(() => program.evaluate({ value: "q".repeat(10), n: 0n }, meter, 100)).toThrow(CelCostError);
  });

  it("has a clock backstop besides the unit count", () => {
    const meter = new CostMeter(Number.MAX_SAFE_INTEGER, 0);
    meter.reset();
    expect(() => {
      for (let i = 0; i < 1_000_000; i++) meter.charge(1);
    }).toThrow(/time budget/);
  });

  it("sizes values once, without walking shared parts again", () => {
    let v: unknown[] = ["abcd"];
    for (let i = 0; i < 60; i++) v = [v, v];
    expect(deepSize(v)).toBeGreaterThan(2 ** 60);
    let deep: unknown = "x";
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(deepSize(deep)).toBe(1 + 100_000);
  });
});
