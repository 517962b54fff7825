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

/** Budget of one evaluation (one record); reusable with `reset`. */
export class CostMeter {
  private spent = 0;
  private budget = 0;
  private nextClock = CLOCK_EVERY;
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
    this.nextClock = CLOCK_EVERY;
    this.deadline = performance.now() + this.timeBudgetMs;
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
      if (performance.now() > this.deadline) {
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

function objectKeyCount(o: object): number {
  let n = keyCounts.get(o);
  if (n === undefined) {
    n = 0;
    for (const k in o) if (Object.hasOwn(o, k)) n++;
    keyCounts.set(o, n);
  }
  return n;
}

/**
 * Characters and elements of a value and everything in it: what comparing, searching or copying
 * it costs. Values an evaluation sees are never changed once complete (JSON documents, CEL
 * results), so each object's size is computed once and remembered, inner objects included (a
 * list of lists of the same list must not be walked exponentially often). Iterative: a JSON
 * document nested thousands deep must not overflow the stack here.
 */
export function deepSize(v: unknown): number {
  if (typeof v !== "object" || v === null || ArrayBuffer.isView(v) || v instanceof Date) return leafSize(v);
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
