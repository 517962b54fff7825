/**
 * Static checks and the cost meter's hooks on a parsed, type-checked cel-js AST.
 *
 * cel-js evaluates by calling `node.evaluate(ev, node, ctx)` on every node (the evaluator's
 * `run`), so each node of the tree gets an `evaluate` of ours that charges the meter around the
 * original. `matches` calls are evaluated by us on RE2 instead of cel-js's `new RegExp` (which
 * backtracks exponentially). No user text is ever turned into code: this only wraps functions.
 */
import { CostMeter, deepSize, shallowSize } from "./cost.ts";
import { compileRegex, type LinearRegex, RegexError } from "./regex.ts";

/** The parts of a cel-js AST node used here (its public `op`, `args` and `meta`). */
interface Node {
  op: string;
  args: unknown;
  meta: { alternate?: Node; macro?: Record<string, unknown> };
  evaluate: Evaluate;
}
type Evaluate = (ev: Evaluator, ast: Node, ctx: Ctx) => unknown;
interface Evaluator {
  run(ast: Node, ctx: Ctx): unknown;
}
interface Ctx {
  accuValue?: unknown;
}

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

/**
 * Checks the static limits of a type-checked AST (comprehension nesting; `matches` patterns
 * given as literals must compile on RE2) and installs the meter's hooks on every node. After
 * this, evaluating the program charges `slot.meter`.
 */
export function instrument(root: Node, slot: MeterSlot, limits: StaticLimits): void {
  const roles = new Map<Node, Role>();
  const stack: { node: Node; role: Role; depth: number }[] = [{ node: root, role: "read", depth: 0 }];
  const rank = { pass: 0, iterate: 1, read: 2 } as const;
  while (stack.length) {
    const { node, role, depth } = stack.pop()!;
    const seen = roles.get(node);
    if (seen !== undefined && rank[seen] >= rank[role]) continue;
    roles.set(node, role);
    const isComprehension = node.op === "comprehension";
    const d = isComprehension ? depth + 1 : depth;
    if (d > limits.maxComprehensionDepth) {
      throw new CelStaticError(
        `too costly: comprehensions (all, exists, exists_one, map, filter) nested ${d} deep; at most ${limits.maxComprehensionDepth} are allowed`,
        "CEL_TOO_COSTLY",
      );
    }
    for (const [child, childRole] of childrenOf(node)) stack.push({ node: child, role: childRole, depth: d });
    if (isMatchesCall(node)) checkLiteralPattern(node);
  }
  const stops = quantifierSteps(roles.keys());
  for (const [node, role] of roles) hook(node, role, slot, stops.get(node));
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

/** Installs the metered `evaluate` of one node. */
function hook(node: Node, role: Role, slot: MeterSlot, quantifierStop: boolean | undefined): void {
  const creates = CREATES.has(node.op) && !node.meta.alternate && !node.meta.macro;
  let inner: Evaluate | null = isMatchesCall(node) ? evaluateMatches(node, slot) : null;
  const metered: Evaluate = function (this: Node, ev, ast, ctx) {
    const meter = slot.meter;
    inner ??= implementationOf(node);
    if (meter === null) return inner.call(this, ev, ast, ctx);
    if (meter.tripped) {
      // an all/exists keeps going after an error in its predicate (CEL's error absorption);
      // answering what ends the loop lets the evaluation unwind in a few steps
      if (quantifierStop !== undefined) return quantifierStop;
      throw meter.tripError;
    }
    meter.charge(1);
    const out = inner.call(this, ev, ast, ctx);
    if (meter.tripped) throw meter.tripError;
    if (out !== null && (typeof out === "object" || typeof out === "string") && out !== ctx.accuValue) {
      let units = 0;
      if (role === "read") units = deepSize(out);
      else if (role === "iterate") units = shallowSize(out);
      if (creates) units += shallowSize(out);
      if (units > 0) meter.charge(units);
    }
    return out;
  };
  node.evaluate = metered;
}

/**
 * What cel-js's own `ASTNode.evaluate` would run for the node (it resolves this on the first
 * evaluation and stores it on the node, which would replace our hook): the macro expansion, the
 * macro's evaluator, or the operator's.
 */
function implementationOf(node: Node): Evaluate {
  const meta = node.meta as { alternate?: Node; macro?: { evaluate: Evaluate }; evaluate: Evaluate };
  const alternate = meta.alternate;
  if (alternate) return (ev, _ast, ctx) => alternate.evaluate(ev, alternate, ctx);
  const macro = meta.macro;
  if (macro) return (ev, _ast, ctx) => macro.evaluate(ev, macro as unknown as Node, ctx);
  return meta.evaluate;
}

/** `s.matches(re)` on RE2, with the pattern compiled once and the match charged by its size. */
function evaluateMatches(node: Node, slot: MeterSlot): Evaluate {
  const [, receiver, args] = node.args as [string, Node, Node[]];
  return (ev, _ast, ctx) => {
    const s = ev.run(receiver, ctx);
    const p = ev.run(args[0], ctx);
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
