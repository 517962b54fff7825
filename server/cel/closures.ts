/**
 * A type-checked cel-js AST compiled to closures, once per expression: each node becomes a
 * function of (evaluator, context) that calls its children's functions directly, instead of
 * cel-js's per-node dispatch (`ev.run` → `node.evaluate` → operator table → overload lookup).
 * It is still an interpreter of the AST: user text is never turned into JavaScript source.
 *
 * Semantics stay cel-js's: the hot cases (field access on JSON objects, comparisons and
 * arithmetic of doubles, equality of primitives, `&&`, `||`, `!`, `?:`, list and map literals)
 * are written here as cel-js's own overloads compute them; every other case, and every error,
 * goes to the handler cel-js's type checker chose for the node (`node.handle`) or to the node's
 * cel-js evaluation, whose children calls (`ev.run(child)`) reach these closures again.
 */

/** The parts of a cel-js AST node used here (its public fields, and what its check set). */
export interface CelNode {
  op: string;
  args: unknown;
  meta: { alternate?: CelNode; macro?: Record<string, unknown>; evaluate: Evaluate };
  evaluate: Evaluate;
  checkedType?: CelType;
  /** set by cel-js's type check: the overload (or dynamic dispatch) the node calls */
  handle?: (...args: unknown[]) => unknown;
  receiverWithArgs?: CelNode[];
}
export interface CelType {
  name: string;
  kind: string;
}
export type Evaluate = (ev: Evaluator, ast: CelNode, ctx: Ctx) => unknown;
/** cel-js's evaluator (the methods of it used here). */
export interface Evaluator {
  run(ast: CelNode, ctx: Ctx): unknown;
  debugType(v: unknown): CelType;
  debugRuntimeType(v: unknown, checkedType?: CelType): unknown;
  createError(code: string, message: string, node?: CelNode): Error;
  objectTypes: Map<string, { convert?: (v: unknown) => unknown }>;
}
/** cel-js's evaluation context (the variables; a comprehension's overlay). */
export interface Ctx {
  accuValue?: unknown;
  getValue(name: string): unknown;
  getCheckedValue(ev: Evaluator, ast: CelNode): unknown;
}

/**
 * The variables of an evaluation as cel-js's root context gives them to the expression (and to
 * a comprehension's overlay, which asks here for names it does not bind): a variable must be
 * present and of its declared type; a map given for a message type is converted when the type
 * can be. One object per program, pointed at each evaluation's variables in turn.
 */
export class Variables implements Ctx {
  vars: Record<string, unknown> = {};

  getValue(name: string): unknown {
    return this.vars[name];
  }

  getCheckedValue(ev: Evaluator, ast: CelNode): unknown {
    const name = ast.args as string;
    const v = this.vars[name];
    if (v === undefined) throw ev.createError("unknown_variable", `Unknown variable: ${name}`, ast);
    const type = ast.checkedType as CelType & { matchesValueType(v: unknown, ev: Evaluator): boolean };
    if (type.matchesValueType(v, ev)) return v;
    const valueType = ev.debugType(v);
    if (type.kind === "message" && valueType.kind === "map") {
      const converted = ev.objectTypes.get(type.name)?.convert?.(v);
      if (converted) return converted;
    }
    throw ev.createError("variable_type_mismatch", `Variable '${name}' is not of type '${String(type)}', got '${String(valueType)}'`, ast);
  }
}
/** A compiled node. */
export type Fn = (ev: Evaluator, ctx: Ctx) => unknown;

const hasOwn = Object.hasOwn;
const isPrimitive = (t: string) => t === "string" || t === "number" || t === "boolean" || t === "bigint";
const isNumber = (t: string) => t === "number" || t === "bigint";

/** What cel-js itself runs for the node: the macro expansion, the macro, or the operator. */
export function celEvaluation(node: CelNode): Fn {
  const alternate = node.meta.alternate;
  if (alternate) return (ev, ctx) => alternate.evaluate(ev, alternate, ctx);
  const macro = node.meta.macro as unknown as CelNode & { evaluate: Evaluate };
  if (macro) return (ev, ctx) => macro.evaluate(ev, macro, ctx);
  const evaluate = node.meta.evaluate;
  return (ev, ctx) => evaluate(ev, node, ctx);
}

/**
 * The closure of `node`, with `fn(child)` the closure of each child (metered by the caller).
 * Nodes without a fast case here evaluate as cel-js does.
 */
export function closureOf(node: CelNode, fn: (child: CelNode) => Fn): Fn {
  const meta = node.meta;
  if (meta.alternate) return fn(meta.alternate);
  if (meta.macro) return celEvaluation(node);
  const handle = node.handle;
  switch (node.op) {
    case "value": {
      const v = node.args;
      return () => v;
    }
    case "id":
      return (ev, ctx) => ctx.getCheckedValue(ev, node);
    case ".":
      return fieldAccess(node, fn, handle!);
    case "==":
    case "!=":
      return equality(node, fn, handle!);
    case "<":
    case "<=":
    case ">":
    case ">=":
      return comparison(node, fn, handle!);
    case "+":
    case "-":
    case "*":
    case "/":
      return arithmetic(node, fn, handle!);
    case "&&":
    case "||":
      return logical(node, fn);
    case "!_": {
      const operand = fn(node.args as CelNode);
      return (ev, ctx) => {
        const v = operand(ev, ctx);
        return typeof v === "boolean" ? !v : handle!(v, node, ev);
      };
    }
    case "?:": {
      const [c, l, r] = (node.args as CelNode[]).map(fn);
      return (ev, ctx) => {
        const cond = c(ev, ctx);
        if (cond === true) return l(ev, ctx);
        if (cond === false) return r(ev, ctx);
        return handle!(cond, ev, node, ctx); // cel-js's error for a non-bool condition
      };
    }
    case "list":
      return list((node.args as CelNode[]).map(fn));
    case "map":
      return mapLiteral((node.args as [CelNode, CelNode][]).map(([k, v]) => [fn(k), fn(v)]));
    case "call": {
      const args = list(((node.args as unknown[])[1] as CelNode[]).map(fn));
      return (ev, ctx) => handle!(args(ev, ctx), node, ev);
    }
    case "rcall": {
      const fns = node.receiverWithArgs!.map(fn);
      const method = fns.length === 2 ? STRING_METHODS[(node.args as [string])[0]] : undefined;
      if (method) return stringMethod(node, fns[0], fns[1], method, handle!);
      const args = list(fns);
      return (ev, ctx) => handle!(args(ev, ctx), ev, node);
    }
    case "comprehension": {
      const c = node.args as { iterable: CelNode };
      const iterable = fn(c.iterable);
      return (ev, ctx) => handle!(iterable(ev, ctx), c, ev, ctx);
    }
    default:
      return celEvaluation(node);
  }
}

/**
 * `a.b`. On a `dyn` operand that is a JSON object (the record's value) the field is read here
 * as cel-js's dynamic field access reads it; anything else (maps, messages, a missing field,
 * statically typed operands) goes to cel-js's handler, with its errors.
 */
function fieldAccess(node: CelNode, fn: (child: CelNode) => Fn, handle: (...args: unknown[]) => unknown): Fn {
  const [leftNode, key] = node.args as [CelNode, string];
  const left = fn(leftNode);
  const t = leftNode.checkedType;
  if (!(t?.kind === "dyn" && t.name === "dyn")) return (ev, ctx) => handle(left(ev, ctx), key, node, ev);
  return (ev, ctx) => {
    const o = left(ev, ctx);
    if (typeof o === "object" && o !== null && o.constructor === Object && hasOwn(o, key)) {
      const v = (o as Record<string, unknown>)[key];
      const tv = typeof v;
      if (isPrimitive(tv)) return v;
      if (tv === "object") {
        if (v === null) return v;
        const c = (v as object).constructor;
        if (c !== Object && c !== Array) ev.debugType(v); // refuses types CEL has no name for
        return v;
      }
    }
    return handle(o, key, node, ev);
  };
}

function operands(node: CelNode, fn: (child: CelNode) => Fn): [Fn, Fn] {
  const [l, r] = node.args as [CelNode, CelNode];
  return [fn(l), fn(r)];
}

/** `==` / `!=`: two primitives of one JavaScript type compare as cel-js's overloads do (===). */
function equality(node: CelNode, fn: (child: CelNode) => Fn, handle: (...args: unknown[]) => unknown): Fn {
  const [left, right] = operands(node, fn);
  const negate = node.op === "!=";
  return (ev, ctx) => {
    const l = left(ev, ctx);
    const r = right(ev, ctx);
    const t = typeof l;
    if (t === typeof r && isPrimitive(t)) return negate ? l !== r : l === r;
    return handle(l, r, node, ev);
  };
}

/** `<` `<=` `>` `>=`: numbers (int and double mixed, as CEL orders them) and strings. */
function comparison(node: CelNode, fn: (child: CelNode) => Fn, handle: (...args: unknown[]) => unknown): Fn {
  const [left, right] = operands(node, fn);
  const compare = COMPARE[node.op as keyof typeof COMPARE];
  return (ev, ctx) => {
    const l = left(ev, ctx);
    const r = right(ev, ctx);
    const tl = typeof l;
    const tr = typeof r;
    if ((isNumber(tl) && isNumber(tr)) || (tl === "string" && tr === "string")) return compare(l as number, r as number);
    return handle(l, r, node, ev);
  };
}

const COMPARE = {
  "<": (a: number, b: number) => a < b,
  "<=": (a: number, b: number) => a <= b,
  ">": (a: number, b: number) => a > b,
  ">=": (a: number, b: number) => a >= b,
};

/**
 * `+` `-` `*` `/` of two doubles (IEEE, as cel-js: no overflow error for doubles) and `+` of two
 * strings. Ints (overflow checked), mixed types and everything else: cel-js's handler.
 */
function arithmetic(node: CelNode, fn: (child: CelNode) => Fn, handle: (...args: unknown[]) => unknown): Fn {
  const [left, right] = operands(node, fn);
  const op = ARITHMETIC[node.op as keyof typeof ARITHMETIC];
  const concat = node.op === "+";
  return (ev, ctx) => {
    const l = left(ev, ctx);
    const r = right(ev, ctx);
    if (typeof l === "number" && typeof r === "number") return op(l, r);
    if (concat && typeof l === "string" && typeof r === "string") return l + r;
    return handle(l, r, node, ev);
  };
}

const ARITHMETIC = {
  "+": (a: number, b: number) => a + b,
  "-": (a: number, b: number) => a - b,
  "*": (a: number, b: number) => a * b,
  "/": (a: number, b: number) => a / b,
};

/**
 * `&&` and `||` with CEL's error absorption, as cel-js does it: the left side's error is kept
 * and the right side decides (`false && error` is false, `true || error` is true); when it
 * cannot, the left error (or a non-bool operand) is the result.
 */
function logical(node: CelNode, fn: (child: CelNode) => Fn): Fn {
  const [leftNode] = node.args as [CelNode, CelNode];
  const [left, right] = operands(node, fn);
  const decisive = node.op === "||"; // the value that decides without the other side
  const operandError = (ev: Evaluator, v: unknown) =>
    ev.createError("invalid_logical_operand", `Logical operator requires bool operands, got '${String(ev.debugRuntimeType(v))}'`, leftNode);
  return (ev, ctx) => {
    let l: unknown;
    try {
      l = left(ev, ctx);
    } catch (e) {
      l = e;
    }
    if (l === decisive) return decisive;
    const r = right(ev, ctx);
    if (l === !decisive && typeof r === "boolean") return r;
    if (r === decisive) return decisive;
    if (r !== !decisive) throw operandError(ev, r);
    if (l === r) return r;
    throw l instanceof Error ? l : operandError(ev, l);
  };
}

/** Elements evaluated last to first, as cel-js does (which error wins when several fail). */
function list(elements: Fn[]): Fn {
  const n = elements.length;
  if (n === 0) return () => [];
  if (n === 1) {
    const [a] = elements;
    return (ev, ctx) => [a(ev, ctx)];
  }
  if (n === 2) {
    const [a, b] = elements;
    return (ev, ctx) => {
      const y = b(ev, ctx);
      return [a(ev, ctx), y];
    };
  }
  return (ev, ctx) => {
    const out = new Array<unknown>(n);
    for (let i = n - 1; i >= 0; i--) out[i] = elements[i](ev, ctx);
    return out;
  };
}

/**
 * Methods of a string with one argument, computed as cel-js's overloads for a string receiver
 * compute them (lib/functions.js), without its dispatch on the runtime types (`dyn` receivers, as
 * the record's value is); undefined when the argument is not the overload's (or, for
 * `substring`, out of range): cel-js's handler then gives the result or the error.
 */
const STRING_METHODS: Record<string, (s: string, arg: unknown) => unknown> = {
  startsWith: (s, a) => (typeof a === "string" ? s.startsWith(a) : undefined),
  endsWith: (s, a) => (typeof a === "string" ? s.endsWith(a) : undefined),
  contains: (s, a) => (typeof a === "string" ? s.includes(a) : undefined),
  substring: (s, a) => {
    if (typeof a !== "bigint") return undefined;
    const start = Number(a);
    return start >= 0 && start <= s.length ? s.substring(start) : undefined;
  },
};

/** `receiver.method(arg)` for the methods above; other receivers and arguments go to cel-js's handler. */
function stringMethod(
  node: CelNode,
  receiver: Fn,
  arg: Fn,
  method: (s: string, arg: unknown) => unknown,
  handle: (...args: unknown[]) => unknown,
): Fn {
  return (ev, ctx) => {
    // in `list`'s order: the argument, then the receiver
    const a = arg(ev, ctx);
    const r = receiver(ev, ctx);
    if (typeof r === "string") {
      const out = method(r, a);
      if (out !== undefined) return out;
    }
    return handle([r, a], ev, node);
  };
}

/** Keys cel-js's map literals skip (they would reach the object's prototype). */
const UNSAFE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/**
 * A map literal as cel-js builds it: a plain object, entries evaluated in order, a later
 * duplicate key replacing an earlier one.
 */
function mapLiteral(entries: [Fn, Fn][]): Fn {
  const n = entries.length;
  return (ev, ctx) => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const entry = entries[i];
      const k = entry[0](ev, ctx) as string;
      const v = entry[1](ev, ctx);
      if (!UNSAFE_KEYS.has(k)) out[k] = v;
    }
    return out;
  };
}
