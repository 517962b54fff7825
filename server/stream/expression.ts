/**
 * Pipeline expressions: CEL through the one CEL module (never JavaScript), over the variables
 * every node sees, under the per-record cost budget. JSON numbers are CEL doubles, as in every
 * CEL implementation (`value.amount * 2.0`, or `int(value.amount) * 2`).
 */
import { CelCompileError, compileCel, type CelProgram, type CostMeter } from "../cel/index.ts";
import type { StreamRecord } from "./record.ts";

/** What an expression may read: the record, its event time and where it came from. */
export const PIPELINE_VARIABLES = {
  key: "dyn",
  value: "dyn",
  headers: "map<string, string>",
  timestamp: "google.protobuf.Timestamp",
  topic: "string",
  partition: "int",
  offset: "int",
} as const;

/** The result types each use accepts (`list<*>`: a list of anything; `*`: any type). */
export const RESULT_TYPES = {
  condition: ["bool", "dyn"],
  any: ["*"],
  headers: ["map<*>", "dyn"],
  list: ["list<*>", "dyn"],
  time: ["google.protobuf.Timestamp", "int", "double", "dyn"],
} as const;

/** An expression failed on one record (its error goes to the dead-letter sink with the record). */
export class ExpressionError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = "ExpressionError";
  }
}

/** An expression of a node's field that does not compile, type-check or fit the limits. */
export class ExpressionCompileError extends Error {
  constructor(
    message: string,
    readonly field: string,
    readonly code: CelCompileError["code"],
  ) {
    super(message);
    this.name = "ExpressionCompileError";
  }
}

/** A compiled expression of one node's field. */
export class Expression {
  private readonly meter: CostMeter;

  constructor(
    private readonly program: CelProgram,
    readonly field: string,
  ) {
    this.meter = program.newMeter();
  }

  /** Compiles `source`; throws ExpressionCompileError naming `field` (a validation error of the node). */
  static compile(source: string, field: string, accepts: readonly string[], extra: Readonly<Record<string, string>> = {}): Expression {
    try {
      const variables = { ...PIPELINE_VARIABLES, ...extra };
      const program = compileCel(source, { variables, resultTypes: accepts, mixedLiterals: true });
      return new Expression(program, field);
    } catch (e) {
      if (e instanceof CelCompileError) throw new ExpressionCompileError(e.message, field, e.code);
      throw e;
    }
  }

  /** Evaluates over record `r` (and `extra` variables, such as a reducer's `acc`). */
  evaluate(r: StreamRecord, extra?: Record<string, unknown>): unknown {
    try {
      const vars = variablesOf(r);
      return this.program.evaluate(extra ? Object.assign(vars, extra) : vars, this.meter);
    } catch (e) {
      throw new ExpressionError(`${this.field}: ${(e as Error).message.split("\n")[0]}`, this.field);
    }
  }

  /** For conditions: true/false, or an ExpressionError when the result is not a bool. */
  test(r: StreamRecord): boolean {
    const out = this.evaluate(r);
    if (typeof out !== "boolean") throw new ExpressionError(`${this.field}: returned ${describe(out)}, not a bool`, this.field);
    return out;
  }
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  return typeof v === "object" ? "a map" : `a ${typeof v}`;
}

export function variablesOf(r: StreamRecord): Record<string, unknown> {
  return {
    key: r.key,
    value: r.value,
    headers: r.headers,
    timestamp: new Date(r.timestamp),
    topic: r.origin.topic,
    partition: BigInt(r.origin.partition),
    offset: BigInt(r.origin.offset),
  };
}
