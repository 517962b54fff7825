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
  private readonly activation: RecordActivation;

  constructor(
    private readonly program: CelProgram,
    readonly field: string,
    private readonly extraNames: readonly string[] = [],
  ) {
    this.meter = program.newMeter();
    this.activation = new RecordActivation(extraNames);
  }

  /** Compiles `source`; throws ExpressionCompileError naming `field` (a validation error of the node). */
  static compile(source: string, field: string, accepts: readonly string[], extra: Readonly<Record<string, string>> = {}): Expression {
    try {
      const variables = { ...PIPELINE_VARIABLES, ...extra };
      const program = compileCel(source, { variables, resultTypes: accepts, mixedLiterals: true });
      return new Expression(program, field, Object.keys(extra));
    } catch (e) {
      if (e instanceof CelCompileError) throw new ExpressionCompileError(e.message, field, e.code);
      throw e;
    }
  }

  /** Evaluates over record `r` (and `extra` variables, such as a reducer's `acc`). */
  evaluate(r: StreamRecord, extra?: Record<string, unknown>): unknown {
    const vars = this.activation;
    vars.bind(r);
    if (extra) for (const name of this.extraNames) vars.extra[name] = extra[name];
    try {
      return this.program.evaluate(vars, this.meter);
    } catch (e) {
      throw new ExpressionError(`${this.field}: ${(e as Error).message.split("\n")[0]}`, this.field);
    } finally {
      vars.release();
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

const NO_RECORD: StreamRecord = { key: null, value: null, headers: {}, timestamp: 0, origin: { topic: "", partition: 0, offset: 0 } };

/**
 * The variables of one expression's evaluations, reused from record to record: each is read
 * from the record when the expression reads it (CEL reads variables by name from this object),
 * so a record costs no object of variables, and the timestamp's Date and the ints (BigInt) of
 * partition and offset are made only when used. Extra variables (a reducer's `acc`, a join's
 * `left` and `right`) are looked up in `extra` before the record's.
 */
class RecordActivation {
  private r: StreamRecord = NO_RECORD;
  private date: Date | null = null;
  readonly extra: Record<string, unknown>;

  constructor(private readonly extraNames: readonly string[]) {
    this.extra = Object.create(null) as Record<string, unknown>;
    for (const name of extraNames) {
      this.extra[name] = undefined;
      Object.defineProperty(this, name, { get: () => this.extra[name], enumerable: true });
    }
  }

  bind(r: StreamRecord): void {
    this.r = r;
    this.date = null;
  }

  /** Lets go of the record and the extra values (a reducer's state must not be kept here). */
  release(): void {
    this.r = NO_RECORD;
    this.date = null;
    for (const name of this.extraNames) this.extra[name] = undefined;
  }

  get key(): unknown {
    return this.r.key;
  }
  get value(): unknown {
    return this.r.value;
  }
  get headers(): Record<string, string> {
    return this.r.headers;
  }
  get timestamp(): Date {
    return (this.date ??= new Date(this.r.timestamp));
  }
  get topic(): string {
    return this.r.origin.topic;
  }
  get partition(): bigint {
    return BigInt(this.r.origin.partition);
  }
  get offset(): bigint {
    return BigInt(this.r.origin.offset);
  }
}
