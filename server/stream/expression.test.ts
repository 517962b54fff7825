import { describe, expect, it } from "vitest";
import { Expression, ExpressionError, RESULT_TYPES } from "./expression.ts";
import type { StreamRecord } from "./record.ts";

function rec(value: unknown, offset = 0): StreamRecord {
  return { key: "k", value, headers: { h: "v" }, timestamp: 1_000 + offset, origin: { topic: "in", partition: 2, offset } };
}

describe("a pipeline expression", () => {
  it("reads every variable of the record it is evaluated on", () => {
    const e = Expression.compile(
      "[key, value.n, headers.h, timestamp, topic, partition, offset, timestamp == timestamp]",
      "value",
      RESULT_TYPES.any,
    );
    expect(e.evaluate(rec({ n: 1 }, 7))).toEqual(["k", 1, "v", new Date(1_007), "in", 2n, 7n, true]);
    // the next record's variables, not the last one's
    expect(e.evaluate(rec({ n: 2 }, 8))).toEqual(["k", 2, "v", new Date(1_008), "in", 2n, 8n, true]);
  });

  it("gives each evaluation its own timestamp value (a result may keep it)", () => {
    const e = Expression.compile("timestamp", "value", RESULT_TYPES.any);
    const a = e.evaluate(rec(null, 1)) as Date;
    const b = e.evaluate(rec(null, 2)) as Date;
    expect([a.getTime(), b.getTime()]).toEqual([1_001, 1_002]);
  });

  it("reads extra variables (a reducer's acc, a join's sides) given with the record, and only then", () => {
    const add = Expression.compile("acc + value.n", "add", RESULT_TYPES.any, { acc: "dyn" });
    expect(add.evaluate(rec({ n: 2.0 }), { acc: 1.5 })).toBe(3.5);
    expect(add.evaluate(rec({ n: 1.0 }), { acc: 10.0 })).toBe(11);
    expect(() => add.evaluate(rec({ n: 1.0 }))).toThrow(/Unknown variable: acc/);
    const join = Expression.compile('{"l": left, "r": right, "v": value}', "value", RESULT_TYPES.any, { left: "dyn", right: "dyn" });
    expect(join.evaluate(rec(3), { left: 1, right: null })).toEqual({ l: 1, r: null, v: 3 });
  });

  it("fails per record with the field named, and goes on with the next", () => {
    const e = Expression.compile("value.amount > 10.0", "condition", RESULT_TYPES.condition);
    expect(() => e.test(rec({}))).toThrow(ExpressionError);
    expect(() => e.test(rec({}))).toThrow(/^condition: No such key: amount/);
    expect(e.test(rec({ amount: 11 }))).toBe(true);
  });
});
