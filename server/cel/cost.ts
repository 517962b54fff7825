/**
 * The cost meter of a CEL evaluation. cel-js has structural limits (AST size, nesting) but no
 * runtime cost limit, and a two-line expression can loop over a 3,000-character string nested
 * three deep or grow strings until the heap is gone. So every evaluation step is charged here:
 * one unit per AST node evaluated, plus the size of what a step reads whole (strings, lists,
 * maps handed to a function or operator), of what it creates, and of what a comprehension
 * iterates. Past the budget the meter trips and the evaluation unwinds with CelCostError.
 */

/** Thrown when an evaluation spends more than its budget; counted as that record's error. */
export class CelCostError extends Error {
  readonly code = "CEL_COST_EXCEEDED";
  constructor(message: string) {
    super(message);
    this.name = "CelCostError";
  }
}

/** How often (in units) the meter also looks at the clock, as a backstop to the unit count. */
const CLOCK_EVERY = 1 << 14;
/**
 * Units after which an evaluation first reads the clock and starts its time budget. Most
 * evaluations (a filter, a map over one record) never get there, so they never pay for a clock
 * read; the time backstop then counts from here, and the first units' few µs are not in it.
 */
const CLOCK_START = 1 << 10;

/** Budget of one evaluation (one record); reusable with `reset`. */
export class CostMeter {
  private spent = 0;
  private budget = 0;
  private nextClock = CLOCK_START;
  private deadline = 0;
  private error: CelCostError | null = null;

  constructor(
    /** Units one evaluation may spend. */
    readonly unitBudget: number,
    /** Wall-clock backstop of one evaluation (ms): units are calibrated, this is not. */
    readonly timeBudgetMs: number,
  ) {}

  /** Starts an evaluation with `units` to spend (at most the meter's unitBudget). */
  reset(units = this.unitBudget): void {
    this.spent = 0;
    this.budget = Math.min(units, this.unitBudget);
    this.nextClock = CLOCK_START;
    this.deadline = 0;
    this.error = null;
  }

  /** Units spent since the last reset. */
  get used(): number {
    return this.spent;
  }

  /** True once the budget is spent: every further step throws `tripError`. */
  get tripped(): boolean {
    return this.error !== null;
  }

  /** The error the evaluation unwinds with (one object, rethrown: throwing it again is cheap). */
  get tripError(): CelCostError {
    return this.error ?? new CelCostError("CEL cost budget exceeded");
  }

  /** Charges `units`; throws CelCostError when the budget or the time backstop is exceeded. */
  charge(units: number): void {
    if (this.error) throw this.error;
    this.spent += units;
    if (this.spent > this.budget) {
      this.error = new CelCostError(
        `CEL cost budget exceeded: the expression needs more than ${this.budget} units on this record (loops over large values, growing strings or lists)`,
      );
      throw this.error;
    }
    if (this.spent >= this.nextClock) {
      this.nextClock = this.spent + CLOCK_EVERY;
      const now = performance.now();
      if (this.deadline === 0) this.deadline = now + this.timeBudgetMs;
      else if (now > this.deadline) {
        this.error = new CelCostError(`CEL time budget exceeded: the expression ran longer than ${this.timeBudgetMs} ms on one record`);
        throw this.error;
      }
    }
  }
}

/** Element or character count of a value itself, not of what it contains. */
export function shallowSize(v: unknown): number {
  if (typeof v === "string") return v.length;
  if (typeof v !== "object" || v === null) return 0;
  if (Array.isArray(v)) return v.length;
  if (v instanceof Map || v instanceof Set) return v.size;
  if (ArrayBuffer.isView(v)) return v.byteLength;
  return objectKeyCount(v as object);
}

const keyCounts = new WeakMap<object, number>();
const deepSizes = new WeakMap<object, number>();
/**
 * Objects this small are sized by walking them, never remembered: walking costs no more than
 * the units they are charged, and remembering every record's small values (a WeakMap entry
 * each) cost more than the rest of a filter's evaluation.
 */
const SMALL = 64;

function objectKeyCount(o: object): number {
  let n = 0;
  for (const k in o) if (Object.hasOwn(o, k) && ++n > SMALL) break;
  if (n <= SMALL) return n;
  let known = keyCounts.get(o);
  if (known === undefined) {
    known = 0;
    for (const k in o) if (Object.hasOwn(o, k)) known++;
    keyCounts.set(o, known);
  }
  return known;
}

/**
 * Characters and elements of a value and everything in it: what comparing, searching or copying
 * it costs. Values an evaluation sees are never changed once complete (JSON documents, CEL
 * results), so each large object's size is computed once and remembered, inner objects included
 * (a list of lists of the same list must not be walked exponentially often). Iterative: a JSON
 * document nested thousands deep must not overflow the stack here.
 */
export function deepSize(v: unknown): number {
  if (typeof v !== "object" || v === null || ArrayBuffer.isView(v) || v instanceof Date) return leafSize(v);
  const small = smallDeepSize(v, 0);
  if (small >= 0) return small;
  const known = deepSizes.get(v);
  if (known !== undefined) return known;
  // post-order: an object's size is summed when all its children are known
  const stack: { o: object; exit: boolean }[] = [{ o: v, exit: false }];
  while (stack.length) {
    const { o, exit } = stack.pop()!;
    if (deepSizes.has(o)) continue;
    if (exit) {
      let total = 1;
      for (const c of children(o)) total += typeof c === "object" && c !== null && !isLeafObject(c) ? deepSizes.get(c)! : leafSize(c);
      deepSizes.set(o, total);
      continue;
    }
    stack.push({ o, exit: true });
    for (const c of children(o))
      if (typeof c === "object" && c !== null && !isLeafObject(c) && !deepSizes.has(c)) stack.push({ o: c, exit: false });
  }
  return deepSizes.get(v)!;
}

/**
 * The deep size of a plain object or array of at most SMALL elements in all, nested at most 4
 * deep, by walking it (work ≤ SMALL elements a level); -1 when it is larger, deeper or of another
 * kind. (No closures in here: it runs for every record a map expression makes.)
 */
function smallDeepSize(o: object, depth: number): number {
  if (depth > 4) return -1;
  let total = 1;
  if (Array.isArray(o)) {
    if (o.length > SMALL) return -1;
    for (const c of o as unknown[]) {
      const size = elementSize(c, depth);
      if (size < 0 || (total += size) > SMALL) return -1;
    }
    return total;
  }
  const proto = Object.getPrototypeOf(o) as unknown;
  if (proto !== Object.prototype && proto !== null) return -1;
  for (const k in o) {
    if (!Object.hasOwn(o, k)) continue;
    const size = elementSize((o as Record<string, unknown>)[k], depth);
    if (size < 0 || (total += k.length + size) > SMALL) return -1;
  }
  return total;
}

function elementSize(c: unknown, depth: number): number {
  if (typeof c !== "object" || c === null || isLeafObject(c)) return leafSize(c);
  return smallDeepSize(c, depth + 1);
}

function isLeafObject(o: object): boolean {
  return ArrayBuffer.isView(o) || o instanceof Date;
}

function leafSize(v: unknown): number {
  if (typeof v === "string") return v.length;
  if (ArrayBuffer.isView(v)) return v.byteLength;
  return 1;
}

function* children(o: object): Iterable<unknown> {
  if (Array.isArray(o)) yield* o;
  else if (o instanceof Map) {
    for (const [k, e] of o) {
      yield k;
      yield e;
    }
  } else if (o instanceof Set) yield* o;
  else {
    for (const k in o) {
      if (!Object.hasOwn(o, k)) continue;
      yield k;
      yield (o as Record<string, unknown>)[k];
    }
  }
}
