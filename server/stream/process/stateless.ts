/**
 * The stateless operators: filter, map, flatMap, selectKey, branch, merge. Each holds its
 * compiled expressions; a failing expression throws ExpressionError, which the topology turns
 * into a dead letter for that record (the other records go on).
 */
import { Expression, ExpressionError, RESULT_TYPES } from "../expression.ts";
import { toJsonData, type StreamRecord } from "../record.ts";
import { MAX_FLAT_MAP_OUTPUTS, type Emit, type Processor } from "./processor.ts";

export class FilterProcessor implements Processor {
  private readonly condition: Expression;
  constructor(condition: string) {
    this.condition = Expression.compile(condition, "condition", RESULT_TYPES.condition);
  }
  process(_input: string, r: StreamRecord, emit: Emit): void {
    if (this.condition.test(r)) emit("out", r);
  }
}

/** Header values must be text: CEL values other than strings are written as JSON. */
function headersOf(v: unknown, field: string): Record<string, string> {
  if (v === null || typeof v !== "object" || Array.isArray(v) || v instanceof Uint8Array || v instanceof Date)
    throw new ExpressionError(`${field}: must return a map of header names to values`, field);
  const out: Record<string, string> = {};
  const entries = v instanceof Map ? [...v] : Object.entries(v);
  for (const [k, x] of entries) out[String(k)] = typeof x === "string" ? x : JSON.stringify(toJsonData(x));
  return out;
}

export class MapProcessor implements Processor {
  private readonly key?: Expression;
  private readonly value?: Expression;
  private readonly headers?: Expression;
  constructor(config: { key?: string; value?: string; headers?: string }) {
    if (config.key !== undefined) this.key = Expression.compile(config.key, "key", RESULT_TYPES.any);
    if (config.value !== undefined) this.value = Expression.compile(config.value, "value", RESULT_TYPES.any);
    if (config.headers !== undefined) this.headers = Expression.compile(config.headers, "headers", RESULT_TYPES.headers);
  }
  process(_input: string, r: StreamRecord, emit: Emit): void {
    // every expression sees the input record, not the half-built output
    const key = this.key ? this.key.evaluate(r) : r.key;
    const value = this.value ? this.value.evaluate(r) : r.value;
    const headers = this.headers ? headersOf(this.headers.evaluate(r), "headers") : r.headers;
    emit("out", { ...r, key, value, headers });
  }
}

export class FlatMapProcessor implements Processor {
  private readonly values: Expression;
  constructor(values: string) {
    this.values = Expression.compile(values, "values", RESULT_TYPES.list);
  }
  process(_input: string, r: StreamRecord, emit: Emit): void {
    const out = this.values.evaluate(r);
    if (!Array.isArray(out)) throw new ExpressionError("values: must return a list", "values");
    if (out.length > MAX_FLAT_MAP_OUTPUTS)
      throw new ExpressionError(`values: returned ${out.length} elements; at most ${MAX_FLAT_MAP_OUTPUTS} per record`, "values");
    for (const value of out) emit("out", { ...r, value });
  }
}

export class SelectKeyProcessor implements Processor {
  private readonly key: Expression;
  constructor(key: string) {
    this.key = Expression.compile(key, "key", RESULT_TYPES.any);
  }
  process(_input: string, r: StreamRecord, emit: Emit): void {
    emit("out", { ...r, key: this.key.evaluate(r) });
  }
}

/** The first branch whose condition holds takes the record; none: `default`. */
export class BranchProcessor implements Processor {
  private readonly branches: { name: string; condition: Expression }[];
  constructor(branches: readonly { name: string; condition: string }[]) {
    this.branches = branches.map((b, i) => ({
      name: b.name,
      condition: Expression.compile(b.condition, `branches.${i}.condition`, RESULT_TYPES.condition),
    }));
  }
  process(_input: string, r: StreamRecord, emit: Emit): void {
    for (const b of this.branches) {
      if (b.condition.test(r)) return emit(b.name, r);
    }
    emit("default", r);
  }
}

export class MergeProcessor implements Processor {
  process(_input: string, r: StreamRecord, emit: Emit): void {
    emit("out", r);
  }
}
