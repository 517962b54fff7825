/**
 * Compiling a CEL expression with limits, and evaluating it under a cost budget.
 */
import { CostMeter } from "./cost.ts";
import { createCelEnvironment, type CelVariables } from "./environment.ts";
import { Variables } from "./closures.ts";
import { CelStaticError, evaluatorOf, instrument, type MeterSlot } from "./instrument.ts";

const NO_VARIABLES: Record<string, unknown> = {};

/** Why an expression was refused before running; `code` is the API error code to answer with. */
export class CelCompileError extends Error {
  constructor(
    message: string,
    readonly code: "INVALID_CEL" | "CEL_TOO_COSTLY" | "INVALID_REGULAR_EXPRESSION",
  ) {
    super(message);
    this.name = "CelCompileError";
  }
}

export interface CelLimits {
  /**
   * Units one evaluation may spend: one per AST node evaluated, plus the characters/elements of
   * what is read whole, created or iterated (see cost.ts). Measured here on the costliest
   * expressions per unit (loops of tiny steps): 40–200 ns a unit on a loaded 2-core machine, so
   * 200,000 units are ~10–40 ms.
   */
  unitsPerEvaluation: number;
  /** Wall-clock backstop per evaluation (ms). */
  msPerEvaluation: number;
  /** Comprehensions nested deeper than this are refused at compile time. */
  maxComprehensionDepth: number;
}

export const DEFAULT_CEL_LIMITS: CelLimits = { unitsPerEvaluation: 200_000, msPerEvaluation: 50, maxComprehensionDepth: 3 };

export interface CompileOptions {
  variables: CelVariables;
  /** The result types accepted (cel-js names: `bool`, `dyn`, `int`…; `list<*>` any list, `*` anything). */
  resultTypes: readonly string[];
  limits?: Partial<CelLimits>;
  /** List and map literals may mix value types (see createCelEnvironment). */
  mixedLiterals?: boolean;
}

/** A compiled expression; evaluate it with a meter of `newMeter()` (one per caller, reused). */
export interface CelProgram {
  readonly source: string;
  readonly resultType: string;
  readonly limits: CelLimits;
  /**
   * Evaluates with `vars` (an object whose properties, own or getters, are the variables),
   * charging `meter` (reset first, with at most `units` to spend). Throws CelCostError past the
   * budget, or cel-js's EvaluationError.
   */
  evaluate(vars: object, meter: CostMeter, units?: number): unknown;
  /** A meter with this program's per-evaluation budget. */
  newMeter(): CostMeter;
}

type Evaluable = ((ctx: object) => unknown) & { ast: unknown; check(): { valid: boolean; type?: string; error?: Error } };

/** What checkCel needs: the variables' types and the result types accepted. */
export interface CheckOptions {
  variables: CelVariables;
  resultTypes: readonly string[];
  mixedLiterals?: boolean;
  /** string and bytes values may be null, as a record's key or value may: `key == null` type-checks */
  nullableScalars?: boolean;
}

/**
 * Parses and type-checks `source` against `variables` without compiling it to run: the result
 * type, or CelCompileError (INVALID_CEL) with the same words and caret as compileCel. Pipelines
 * check each expression so against the record type inferred for its node's input, while the
 * program that runs declares the record `dyn` (a null key must still reach it).
 */
export function checkCel(source: string, options: CheckOptions): { resultType: string; fields: CelField[] } {
  const env = createCelEnvironment(options.variables, options.mixedLiterals, options.nullableScalars);
  const { parsed, resultType } = parseAndCheck(source, env, options.resultTypes);
  return { resultType, fields: literalFields(parsed.ast as LiteralNode, 0) };
}

/** A field a map literal gives its result (`{"user": key}` → user), with its checked type. */
export interface CelField {
  /** the names from the result down to the field (`["window", "start"]`) */
  path: string[];
  type: string;
}

interface LiteralNode {
  op: string;
  args: unknown;
  checkedType?: unknown;
}

/** How deep nested map literals are followed for their fields. */
const LITERAL_DEPTH = 3;
const LITERAL_FIELDS = 100;

/** The string-keyed fields of a map literal at the root of an expression (and of map literals in it), or none. */
function literalFields(node: LiteralNode, depth: number): CelField[] {
  if (node.op !== "map" || depth >= LITERAL_DEPTH) return [];
  const out: CelField[] = [];
  for (const [k, v] of node.args as [LiteralNode, LiteralNode][]) {
    if (k.op !== "value" || typeof k.args !== "string" || out.length >= LITERAL_FIELDS) continue;
    out.push({ path: [k.args], type: declarableType(String(v.checkedType ?? "dyn")) });
    for (const f of literalFields(v, depth + 1)) out.push({ path: [k.args, ...f.path], type: f.type });
  }
  return out;
}

/**
 * A result type of checkCel as a type a variable can be declared with: `list` and `map` (what
 * cel-js calls lists and maps of dyn) spelled out, and types with placeholders (the `list<T>` of
 * `[]`) as dyn.
 */
export function declarableType(resultType: string): string {
  if (resultType === "list") return "list<dyn>";
  if (resultType === "map") return "map<dyn, dyn>";
  return /\b[A-Z]\b/.test(resultType) ? "dyn" : resultType;
}

function parseAndCheck(source: string, env: ReturnType<typeof createCelEnvironment>, resultTypes: readonly string[]) {
  let parsed: Evaluable;
  let check: { valid: boolean; type?: string; error?: Error };
  try {
    parsed = env.parse(source) as unknown as Evaluable;
    check = parsed.check();
  } catch (e) {
    throw new CelCompileError((e as Error).message, "INVALID_CEL");
  }
  if (!check.valid) throw new CelCompileError(check.error?.message ?? "the expression does not compile", "INVALID_CEL");
  const resultType = check.type ?? "dyn";
  const accepted = resultTypes.some((t) => t === "*" || t === resultType || (t.endsWith("<*>") && resultType.startsWith(t.slice(0, -2))));
  if (!accepted) {
    const want = resultTypes[0];
    const why =
      resultType === "dyn"
        ? `the expression must return ${want}, but its type is known only when it runs (dyn)` +
          (want === "bool" ? ": compare it (value.amount > 100) or convert it (value.active == true, bool(value.active))" : "")
        : `the expression must return ${want}, not ${resultType}`;
    throw new CelCompileError(withHighlight(why, source, (parsed.ast as { pos?: number }).pos ?? 0), "INVALID_CEL");
  }
  return { parsed, resultType };
}

/**
 * Parses, type-checks and instruments `source`. Throws CelCompileError: INVALID_CEL when it
 * does not parse or type-check or returns another type than `resultTypes`; CEL_TOO_COSTLY when
 * it is statically over a limit; INVALID_REGULAR_EXPRESSION when a literal `matches` pattern
 * is not valid RE2 or too large.
 */
export function compileCel(source: string, options: CompileOptions): CelProgram {
  const limits = { ...DEFAULT_CEL_LIMITS, ...options.limits };
  const env = createCelEnvironment(options.variables, options.mixedLiterals);
  const { parsed, resultType } = parseAndCheck(source, env, options.resultTypes);
  const slot: MeterSlot = { meter: null };
  const root = parsed.ast as Parameters<typeof instrument>[0];
  const ev = evaluatorOf(parsed, root);
  let compiled: ReturnType<typeof instrument>;
  try {
    compiled = instrument(root, slot, limits);
  } catch (e) {
    if (e instanceof CelStaticError) throw new CelCompileError(e.message, e.code);
    throw e;
  }
  const { staticUnits, run } = compiled;
  const variables = new Variables();
  return {
    source,
    resultType,
    limits,
    newMeter: () => new CostMeter(limits.unitsPerEvaluation, limits.msPerEvaluation),
    evaluate(vars, meter, units) {
      meter.reset(units);
      slot.meter = meter;
      variables.vars = vars as Record<string, unknown>;
      try {
        meter.charge(staticUnits); // the nodes outside loop bodies, each run at most once (instrument.ts)
        const out = run(ev, variables);
        // an error absorbed by || / && / exists after the budget ran out still ends the evaluation
        if (meter.tripped) throw meter.tripError;
        return out;
      } catch (e) {
        if (meter.tripped) throw meter.tripError;
        throw e;
      } finally {
        slot.meter = null;
        variables.vars = NO_VARIABLES;
      }
    },
  };
}

/**
 * `message` with the source line and a caret under `pos`, as cel-js formats its own errors (so
 * every refusal reads the same): the lines are kept, and in a monospace font the `^` is under the
 * character at `pos`.
 */
export function withHighlight(message: string, source: string, pos: number): string {
  const at = Math.max(0, Math.min(pos, source.length));
  const lineStart = source.lastIndexOf("\n", at - 1) + 1;
  const lineEnd = source.indexOf("\n", at);
  const line = source.slice(lineStart, lineEnd < 0 ? source.length : lineEnd);
  const lineNumber = source.slice(0, at).split("\n").length;
  return `${message}\n\n> ${String(lineNumber).padStart(4, " ")} | ${line}\n${" ".repeat(9 + at - lineStart)}^`;
}
