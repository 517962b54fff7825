/**
 * The functions of an aggregate node: count, sum, min, max, avg, distinct count and a custom
 * reducer (CEL `init` and `add` over `acc` and the record). Each keeps an accumulator per key
 * and window; all but the custom reducer can also merge two accumulators, which session
 * windows need when a record bridges two sessions.
 */
import type { z } from "zod";
import type { ZAggregation } from "../../schemas/pipeline.ts";
import { Expression, ExpressionError, RESULT_TYPES } from "../expression.ts";
import { toJsonData, type StreamRecord } from "../record.ts";

type TAggregation = z.infer<typeof ZAggregation>;

/** The most distinct values one distinct count keeps per key and window. */
export const MAX_DISTINCT_VALUES = 10_000;

export interface Aggregator {
  /** the result field's name */
  readonly as: string;
  init(r: StreamRecord): unknown;
  add(acc: unknown, r: StreamRecord): unknown;
  /** Combines two accumulators of merged sessions; absent when the function cannot. */
  readonly merge?: (a: unknown, b: unknown) => unknown;
  result(acc: unknown): unknown;
}

function numberOf(e: Expression, r: StreamRecord): number {
  const v = e.evaluate(r);
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  throw new ExpressionError(`${e.field}: returned ${v === null ? "null" : typeof v}, not a number`, e.field);
}

export function aggregatorFor(a: TAggregation, index: number): Aggregator {
  const field = (name: string) => `aggregations.${index}.${name}`;
  switch (a.fn) {
    case "count":
      return {
        as: a.as,
        init: () => 0,
        add: (acc) => (acc as number) + 1,
        merge: (x, y) => (x as number) + (y as number),
        result: (acc) => acc,
      };
    case "sum": {
      const of = Expression.compile(a.of, field("of"), RESULT_TYPES.any);
      return {
        as: a.as,
        init: () => 0,
        add: (acc, r) => (acc as number) + numberOf(of, r),
        merge: (x, y) => (x as number) + (y as number),
        result: (acc) => acc,
      };
    }
    case "min":
    case "max": {
      const of = Expression.compile(a.of, field("of"), RESULT_TYPES.any);
      const pick = a.fn === "min" ? Math.min : Math.max;
      return {
        as: a.as,
        init: () => null,
        add: (acc, r) => (acc === null ? numberOf(of, r) : pick(acc as number, numberOf(of, r))),
        merge: (x, y) => (x === null ? y : y === null ? x : pick(x as number, y as number)),
        result: (acc) => acc,
      };
    }
    case "avg": {
      const of = Expression.compile(a.of, field("of"), RESULT_TYPES.any);
      type Avg = { sum: number; count: number };
      return {
        as: a.as,
        init: () => ({ sum: 0, count: 0 }),
        add: (acc, r) => ({ sum: (acc as Avg).sum + numberOf(of, r), count: (acc as Avg).count + 1 }),
        merge: (x, y) => ({ sum: (x as Avg).sum + (y as Avg).sum, count: (x as Avg).count + (y as Avg).count }),
        result: (acc) => ((acc as Avg).count === 0 ? null : (acc as Avg).sum / (acc as Avg).count),
      };
    }
    case "distinctCount": {
      const of = Expression.compile(a.of, field("of"), RESULT_TYPES.any);
      const grow = (set: Set<string>, v: string) => {
        if (set.has(v)) return set;
        if (set.size >= MAX_DISTINCT_VALUES)
          throw new ExpressionError(`${field("of")}: more than ${MAX_DISTINCT_VALUES} distinct values in one window`, field("of"));
        return set.add(v);
      };
      return {
        as: a.as,
        init: () => new Set<string>(),
        add: (acc, r) => grow(acc as Set<string>, JSON.stringify(toJsonData(of.evaluate(r)))),
        merge: (x, y) => {
          for (const v of y as Set<string>) grow(x as Set<string>, v);
          return x;
        },
        result: (acc) => (acc as Set<string>).size,
      };
    }
    case "reduce": {
      const init = Expression.compile(a.init, field("init"), RESULT_TYPES.any);
      const add = Expression.compile(a.add, field("add"), RESULT_TYPES.any, { acc: "dyn" });
      return { as: a.as, init: (r) => init.evaluate(r), add: (acc, r) => add.evaluate(r, { acc }), result: (acc) => acc };
    }
  }
}
