/**
 * Static checks of a parsed, type-checked cel-js AST, and its compilation to metered closures.
 *
 * Every node becomes a closure (closures.ts) and its `evaluate` is replaced by a call of it, so
 * cel-js code that evaluates a child (a macro, a comprehension's loop, a function's arguments)
 * reaches the compiled child too. `matches` calls run on RE2 instead of cel-js's `new RegExp`
 * (which backtracks exponentially). No user text is ever turned into code.
 *
 * The cost meter sees what it saw when it charged around every node: one unit per node
 * evaluated, plus the size of what a node reads whole, creates or iterates. What changed is where
 * the unit is charged: a node outside every comprehension's loop body runs at most once per
 * evaluation, so all of those are charged at once when the evaluation starts (the program's
 * `staticUnits`, at most the AST's 2,000 nodes); only nodes inside loop bodies charge their unit
 * (and look at the meter) each time they run. Sizes are charged only where a value can have one:
 * nodes whose checked type is bool, int or double return plain numbers and booleans.
 */
import { CostMeter, deepSize, shallowSize } from "./cost.ts";
import { closureOf, type CelNode as Node, type Evaluator, type Fn } from "./closures.ts";
import { compileRegex, type LinearRegex, RegexError } from "./regex.ts";

/**
 * How a node's value is used by its parent, which decides what its evaluation is charged:
 * `read` — handed whole to a function or operator, which may walk all of it (deep size);
 * `iterate` — the range of a comprehension (one step per element: shallow size);
 * `pass` — passed on untouched (field access, branches, bindings): one unit.
 */
type Role = "read" | "iterate" | "pass";

const BINARY = new Set(["!=", "==", "in", "+", "-", "*", "/", "%", "<", "<=", ">", ">="]);
/** Functions that look at their arguments' length only, not inside them. */
const SHALLOW_READERS = new Set(["size"]);
/** Nodes whose result is a new value (string, list, map) whose size was just allocated. */
const CREATES = new Set(["+", "call", "rcall", "list", "map"]);
/** RE2 works ~4 ns per program instruction per character; a unit is worth ~8 of those. */
const REGEX_INSTRUCTIONS_PER_UNIT = 8;

export interface StaticLimits {
  /** Comprehensions (all, exists, exists_one, map, filter) nested deeper than this are refused. */
  maxComprehensionDepth: number;
}

/** A compile-time refusal: the message says what to change. */
export class CelStaticError extends Error {
  constructor(
    message: string,
    readonly code: "CEL_TOO_COSTLY" | "INVALID_REGULAR_EXPRESSION",
  ) {
    super(message);
    this.name = "CelStaticError";
  }
}

const isNode = (x: unknown): x is Node =>
  typeof x === "object" && x !== null && typeof (x as Node).op === "string" && "meta" in (x as object);

/** The meter the next evaluation of an instrumented program charges. */
export interface MeterSlot {
  meter: CostMeter | null;
}

const CAPTURED = Symbol("captured");

/**
 * cel-js's evaluator of a parsed program (it is private to its environment): the program is
 * started once with its root's `evaluate` replaced by one that keeps the evaluator and stops,
 * before anything of the expression runs. Calling the compiled root with it afterwards skips
 * cel-js's per-evaluation entry (a new root context each time).
 */
export function evaluatorOf(program: (vars: object) => unknown, root: Node): Evaluator {
  let captured: Evaluator | null = null;
  const own = Object.getOwnPropertyDescriptor(root, "evaluate");
  root.evaluate = (ev) => {
    captured = ev;
    throw CAPTURED;
  };
  try {
    program({});
  } catch (e) {
    if (e !== CAPTURED) throw e;
  } finally {
    if (own) Object.defineProperty(root, "evaluate", own);
    else delete (root as Partial<Node>).evaluate;
  }
  if (!captured) throw new Error("cel-js did not start the program at its root");
  return captured;
}

/**
 * Checks the static limits of a type-checked AST (comprehension nesting; `matches` patterns
 * given as literals must compile on RE2) and compiles every node to its metered closure. After
 * this, evaluating the program charges `slot.meter`: the returned `staticUnits` once at the
 * start (the caller does that), the rest as it runs.
 */
export function instrument(root: Node, slot: MeterSlot, limits: StaticLimits): { staticUnits: number; run: Fn } {
  const roles = new Map<Node, Role>();
  const looped = new Set<Node>();
  const stack: { node: Node; role: Role; depth: number; inLoop: boolean }[] = [{ node: root, role: "read", depth: 0, inLoop: false }];
  const rank = { pass: 0, iterate: 1, read: 2 } as const;
  while (stack.length) {
    const { node, role, depth, inLoop } = stack.pop()!;
    const seen = roles.get(node);
    if (seen !== undefined && rank[seen] >= rank[role] && (looped.has(node) || !inLoop)) continue;
    if (seen === undefined || rank[role] > rank[seen]) roles.set(node, role);
    if (inLoop) looped.add(node);
    const isComprehension = node.op === "comprehension";
    const d = isComprehension ? depth + 1 : depth;
    if (d > limits.maxComprehensionDepth) {
      throw new CelStaticError(
        `too costly: comprehensions (all, exists, exists_one, map, filter) nested ${d} deep; at most ${limits.maxComprehensionDepth} are allowed`,
        "CEL_TOO_COSTLY",
      );
    }
    // a comprehension's step runs once per element: it and all below it are in a loop
    const step = isComprehension && !node.meta.alternate && !node.meta.macro ? (node.args as { step: unknown }).step : null;
    for (const [child, childRole] of childrenOf(node))
      stack.push({ node: child, role: childRole, depth: d, inLoop: inLoop || child === step });
    if (isMatchesCall(node)) checkLiteralPattern(node);
  }
  const stops = quantifierSteps(roles.keys());
  const compiled = new Map<Node, Fn>();
  const fnOf = (node: Node): Fn => {
    let f = compiled.get(node);
    if (f) return f;
    const core = isMatchesCall(node) ? evaluateMatches(node, fnOf, slot) : closureOf(node, fnOf);
    f = metered(node, roles.get(node) ?? "pass", looped.has(node), stops.get(node), core, slot);
    compiled.set(node, f);
    const run = f;
    node.evaluate = (ev, _ast, ctx) => run(ev, ctx);
    return f;
  };
  // every node, also those only cel-js's own evaluation reaches (macros, comprehension steps)
  for (const node of roles.keys()) fnOf(node);
  let staticUnits = 0;
  for (const node of roles.keys()) if (!looped.has(node)) staticUnits++;
  return { staticUnits, run: fnOf(root) };
}

/**
 * The steps of all/exists comprehensions, each with the value that ends its loop: false for
 * all, true for exists (found by asking the loop's own condition).
 */
function quantifierSteps(nodes: Iterable<Node>): Map<Node, boolean> {
  const stops = new Map<Node, boolean>();
  for (const n of nodes) {
    if (n.op !== "comprehension") continue;
    const c = n.args as { kind?: string; step: unknown; condition?: (accu: unknown) => boolean };
    if (c.kind === "quantifier" && typeof c.condition === "function" && isNode(c.step)) stops.set(c.step, Boolean(c.condition(false)));
  }
  return stops;
}

/** The nodes a node evaluates, with how it uses each. */
function childrenOf(node: Node): [Node, Role][] {
  const out: [Node, Role][] = [];
  const add = (x: unknown, role: Role) => {
    if (isNode(x)) out.push([x, role]);
  };
  const meta = node.meta;
  // a macro call (x.all(...), x.map(...)) evaluates its expansion, not its own arguments
  if (meta.alternate) {
    add(meta.alternate, "pass");
    return out;
  }
  if (meta.macro) {
    for (const [k, v] of Object.entries(meta.macro)) {
      if (k === "ast" || k === "bindCtx") continue;
      if (Array.isArray(v)) for (const e of v) add(e, "pass");
      else add(v, "pass");
    }
    return out;
  }
  const a = node.args as unknown;
  switch (node.op) {
    case "call": {
      const [name, args] = a as [string, unknown[]];
      for (const x of args) add(x, SHALLOW_READERS.has(name) ? "pass" : "read");
      break;
    }
    case "rcall": {
      const [name, receiver, args] = a as [string, unknown, unknown[]];
      add(receiver, SHALLOW_READERS.has(name) ? "pass" : "read");
      for (const x of args) add(x, "read");
      break;
    }
    case "!_":
    case "-_":
      add(a, "read");
      break;
    case ".":
    case ".?":
      add((a as unknown[])[0], "pass");
      break;
    case "[]":
    case "[?]":
      add((a as unknown[])[0], "pass");
      add((a as unknown[])[1], "read");
      break;
    case "comprehension": {
      const c = a as { iterable: unknown; init: unknown; step: unknown };
      add(c.iterable, "iterate");
      add(c.init, "pass");
      add(c.step, "pass");
      break;
    }
    case "map":
      for (const [k, v] of a as [unknown, unknown][]) {
        add(k, "pass");
        add(v, "pass");
      }
      break;
    default:
      if (BINARY.has(node.op)) for (const x of a as unknown[]) add(x, "read");
      else if (Array.isArray(a)) for (const x of a) add(x, "pass");
      else add(a, "pass");
  }
  return out;
}

function isMatchesCall(node: Node): boolean {
  return node.op === "rcall" && (node.args as unknown[])[0] === "matches" && !node.meta.alternate && !node.meta.macro;
}

/** A pattern written as a literal is compiled now, so a bad one is a 400 before any record is read. */
function checkLiteralPattern(node: Node): void {
  const pattern = ((node.args as unknown[])[2] as Node[])[0];
  if (pattern?.op === "value" && typeof pattern.args === "string") {
    try {
      compileRegex(pattern.args);
    } catch (e) {
      if (e instanceof RegexError) throw new CelStaticError(`matches: ${e.message}`, "INVALID_REGULAR_EXPRESSION");
      throw e;
    }
  }
}

/** JavaScript values of these checked types are numbers or booleans: nothing to size. */
const UNSIZED_TYPES = new Set(["bool", "int", "double"]);

/**
 * The node's closure with its metering. A node outside every loop body was charged its unit
 * when the evaluation started; one inside a loop body charges it each time it runs, and once
 * the meter has tripped it ends the evaluation at once (an all/exists step answers what stops
 * its loop, since those loops absorb their predicate's errors). Either charges the size of what
 * it returns, as its parent uses it (see Role) and when it created the value.
 */
function metered(node: Node, role: Role, looped: boolean, quantifierStop: boolean | undefined, core: Fn, slot: MeterSlot): Fn {
  const creates = CREATES.has(node.op) && !node.meta.alternate && !node.meta.macro;
  const sized = (role !== "pass" || creates) && !UNSIZED_TYPES.has(node.checkedType?.name ?? "dyn");
  const chargeSize =
    node.op === "map" && creates
      ? (meter: CostMeter, out: unknown) => meter.charge(mapLiteralUnits(out as Record<string, unknown>, role))
      : (meter: CostMeter, out: unknown) => {
          let units = 0;
          if (role === "read") units = deepSize(out);
          else if (role === "iterate") units = shallowSize(out);
          if (creates) units += shallowSize(out);
          if (units > 0) meter.charge(units);
        };
  if (!looped) {
    if (!sized) return core;
    return (ev, ctx) => {
      const out = core(ev, ctx);
      const meter = slot.meter;
      if (meter !== null && out !== null && (typeof out === "object" || typeof out === "string") && out !== ctx.accuValue)
        chargeSize(meter, out);
      return out;
    };
  }
  return (ev, ctx) => {
    const meter = slot.meter;
    if (meter === null) return core(ev, ctx);
    if (meter.tripped) {
      if (quantifierStop !== undefined) return quantifierStop;
      throw meter.tripError;
    }
    meter.charge(1);
    const out = core(ev, ctx);
    if (meter.tripped) throw meter.tripError;
    if (sized && out !== null && (typeof out === "object" || typeof out === "string") && out !== ctx.accuValue) chargeSize(meter, out);
    return out;
  };
}

/**
 * What a map literal's result is charged, in one walk of the object it just made: its entries
 * (created), and as its parent uses it, its deep size or its entries again: the same units as
 * deepSize and shallowSize give.
 */
function mapLiteralUnits(out: Record<string, unknown>, role: Role): number {
  let entries = 0;
  let deep = 1;
  for (const k in out) {
    if (!Object.hasOwn(out, k)) continue;
    entries++;
    if (role === "read") {
      const v = out[k];
      deep += k.length + (typeof v === "string" ? v.length : typeof v === "object" && v !== null ? deepSize(v) : 1);
    }
  }
  return entries + (role === "read" ? deep : role === "iterate" ? entries : 0);
}

/** `s.matches(re)` on RE2, with the pattern compiled once and the match charged by its size. */
function evaluateMatches(node: Node, fnOf: (n: Node) => Fn, slot: MeterSlot): Fn {
  const [, receiverNode, args] = node.args as [string, Node, Node[]];
  const receiver = fnOf(receiverNode);
  const pattern = fnOf(args[0]);
  return (ev, ctx) => {
    const s = receiver(ev, ctx);
    const p = pattern(ev, ctx);
    if (typeof s !== "string" || typeof p !== "string") {
      throw new Error(`found no matching overload for '${typeName(s)}.matches(${typeName(p)})'`);
    }
    let re: LinearRegex;
    try {
      re = compileRegex(p);
    } catch (e) {
      throw new Error(`matches: ${(e as Error).message}`, { cause: e });
    }
    slot.meter?.charge(Math.ceil((s.length * re.programSize) / REGEX_INSTRUCTIONS_PER_UNIT));
    return re.test(s);
  };
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "list";
  if (typeof v === "object") return "map";
  if (typeof v === "bigint") return "int";
  if (typeof v === "number") return "double";
  return typeof v;
}
