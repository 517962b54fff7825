/**
 * Regular expressions from users (CEL `matches`, consumer-group topic patterns) run on RE2
 * (re2js): matching is linear in the input, so no pattern can backtrack for seconds the way
 * `^(a+)+$` does in JavaScript's engine. Linear is not free, though: RE2's work is about
 * program size × input length, so programs are bounded too, and each pattern is compiled once.
 */
import { RE2JS } from "re2js";

/** Longest pattern accepted (characters). */
export const MAX_PATTERN_LENGTH = 1000;
/**
 * Largest compiled program accepted (RE2 instructions). `[a-z]{999}` is about 1,000; measured
 * here, matching costs up to ~4 ns per instruction per input character, so this keeps a
 * 249-character topic name under 1 ms and lets the CEL cost meter charge a match fairly.
 */
export const MAX_PROGRAM_SIZE = 1000;
/** Compiling is ~13 µs per instruction: estimated sizes above this are refused unseen. */
const MAX_ESTIMATED_SIZE = 3 * MAX_PROGRAM_SIZE;
const CACHE_SIZE = 256;

/** A pattern that RE2 refuses or that is too large; `code` is the API's error code. */
export class RegexError extends Error {
  readonly code = "INVALID_REGULAR_EXPRESSION";
  constructor(
    message: string,
    readonly pattern: string,
  ) {
    super(message);
    this.name = "RegexError";
  }
}

/** A compiled RE2 pattern. */
export interface LinearRegex {
  readonly source: string;
  /** RE2 instructions: the per-character cost factor of a match. */
  readonly programSize: number;
  /** Whether the pattern matches somewhere in `input` (CEL `matches` semantics). */
  test(input: string): boolean;
  /** Whether the pattern matches all of `input` (Kafka's pattern subscription semantics). */
  testWhole(input: string): boolean;
}

const cache = new Map<string, LinearRegex>();

/**
 * Compiles `source` with RE2 syntax, once: later calls with the same text reuse the program
 * (a small LRU). Throws RegexError for a syntax RE2 refuses (backreferences, lookarounds) or a
 * program over MAX_PROGRAM_SIZE.
 */
export function compileRegex(source: string): LinearRegex {
  const hit = cache.get(source);
  if (hit) {
    cache.delete(source);
    cache.set(source, hit);
    return hit;
  }
  const re = compileUncached(source);
  cache.set(source, re);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  return re;
}

/** null when `source` compiles, else why not (for validating input at the edge). */
export function regexProblem(source: string): string | null {
  try {
    compileRegex(source);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

function compileUncached(source: string): LinearRegex {
  if (typeof source !== "string") throw new RegexError("a regular expression must be a string", String(source));
  if (source.length > MAX_PATTERN_LENGTH) {
    throw new RegexError(`regular expression longer than ${MAX_PATTERN_LENGTH} characters`, source.slice(0, 100));
  }
  if (estimateProgramSize(source) > MAX_ESTIMATED_SIZE) {
    throw new RegexError(`regular expression too large (over ${MAX_PROGRAM_SIZE} RE2 instructions)`, source);
  }
  let re: RE2JS;
  try {
    re = RE2JS.compile(source);
  } catch (e) {
    throw new RegexError(`invalid regular expression (RE2 syntax): ${(e as Error).message}`, source);
  }
  const programSize = (re as unknown as { re2Input: { prog: { inst: unknown[] } } }).re2Input?.prog?.inst?.length ?? source.length;
  if (programSize > MAX_PROGRAM_SIZE) {
    throw new RegexError(`regular expression too large (${programSize} RE2 instructions, at most ${MAX_PROGRAM_SIZE})`, source);
  }
  return {
    source,
    programSize,
    test: (input) => re.test(input),
    testWhole: (input) => re.testExact(input),
  };
}

/**
 * A quick upper-bound-ish guess of the program size from the text (counted repeats multiply what
 * they repeat), so a pattern like `(.{999}){9}`-in-disguise is refused before the costly compile.
 * RE2 still has the last word on syntax and the real size is checked after compiling.
 */
export function estimateProgramSize(source: string): number {
  const groups: number[] = [];
  let current = 0;
  let lastAtom = 0;
  const atom = (size: number) => {
    current += size;
    lastAtom = size;
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "\\") {
      const next = source[i + 1];
      if (next === "Q") {
        const end = source.indexOf("\\E", i + 2);
        const stop = end < 0 ? source.length : end;
        current += stop - (i + 2);
        lastAtom = 1;
        i = end < 0 ? source.length : end + 1;
      } else if ((next === "p" || next === "P") && source[i + 2] === "{") {
        const end = source.indexOf("}", i + 3);
        i = end < 0 ? source.length : end;
        atom(1);
      } else {
        i++;
        atom(1);
      }
    } else if (c === "[") {
      let j = i + 1;
      if (source[j] === "^") j++;
      if (source[j] === "]") j++;
      for (; j < source.length && source[j] !== "]"; j++) {
        if (source[j] === "\\") j++;
        else if (source[j] === "[" && source[j + 1] === ":") {
          const end = source.indexOf(":]", j + 2);
          if (end >= 0) j = end + 1;
        }
      }
      i = j;
      atom(1);
    } else if (c === "(") {
      groups.push(current);
      current = 0;
      lastAtom = 0;
    } else if (c === ")") {
      const inner = current + 2;
      current = (groups.pop() ?? 0) + inner;
      lastAtom = inner;
    } else if (c === "|") {
      current += 1;
      lastAtom = 0;
    } else if (c === "{") {
      const m = /^\{(\d+)(?:,(\d*))?\}/.exec(source.slice(i, i + 16));
      if (m) {
        const times = Math.max(Number(m[1]), m[2] ? Number(m[2]) : 0, 1);
        current += lastAtom * (times - 1) * (m[2] !== undefined ? 2 : 1);
        lastAtom *= times;
        i += m[0].length - 1;
      } else atom(1);
    } else if (c === "*" || c === "+" || c === "?") {
      current += 1;
      lastAtom += 1;
    } else atom(1);
  }
  while (groups.length) current += groups.pop()! + 2;
  return current;
}
