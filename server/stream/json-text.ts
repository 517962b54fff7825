/**
 * Whether bytes hold one JSON text, exactly as `JSON.parse` over TextDecoder's fatal UTF-8
 * decoding of them decides (ECMA-404: a leading byte order mark dropped, whitespace of space,
 * tab, LF and CR only, no trailing commas, numbers without leading zeros or a bare point,
 * strings without raw control characters and with only JSON's escapes), without building the
 * value: a pipeline whose nodes never read a source's values (a count) still sends a record
 * that is not JSON to its dead-letter sink, but decodes nothing. Iterative: a value nested a
 * million deep costs a byte per level in an array of the open containers, not a call.
 */
import { isUtf8 } from "node:buffer";

const OBJECT = 1;
const ARRAY = 2;

/** Open containers, innermost last (reused: a call keeps nothing). */
let open = new Uint8Array(64);
/** A string of the current call held a byte past 0x7f (then the whole text's UTF-8 is checked). */
let nonAscii = false;

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isHex = (c: number) => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

function skipSpace(b: Uint8Array, i: number, end: number): number {
  while (i < end && isSpace(b[i])) i++;
  return i;
}

/** The position after the string starting at `i` (a quote), or -1. Bytes past 0x7f are left to the UTF-8 check. */
function afterString(b: Uint8Array, i: number, end: number): number {
  for (i++; i < end;) {
    const c = b[i];
    if (c === 0x22) return i + 1;
    if (c < 0x20) return -1;
    if (c !== 0x5c) {
      if (c > 0x7f) nonAscii = true;
      i++;
      continue;
    }
    const e = b[i + 1];
    if (e === 0x75) {
      if (i + 5 >= end || !isHex(b[i + 2]) || !isHex(b[i + 3]) || !isHex(b[i + 4]) || !isHex(b[i + 5])) return -1;
      i += 6;
    } else if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) i += 2;
    else return -1;
  }
  return -1;
}

/** The position after a member's name and its colon, starting at `i` (past whitespace), or -1. */
function afterName(b: Uint8Array, i: number, end: number): number {
  if (i >= end || b[i] !== 0x22) return -1;
  i = skipSpace(b, afterString(b, i, end), end);
  return i >= 0 && i < end && b[i] === 0x3a ? i + 1 : -1;
}

/** The position after the number starting at `i`, or -1: `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`. */
function afterNumber(b: Uint8Array, i: number, end: number): number {
  if (b[i] === 0x2d) i++;
  if (i >= end) return -1;
  if (b[i] === 0x30) i++;
  else if (isDigit(b[i])) while (i < end && isDigit(b[i])) i++;
  else return -1;
  if (i < end && b[i] === 0x2e) {
    i++;
    if (i >= end || !isDigit(b[i])) return -1;
    while (i < end && isDigit(b[i])) i++;
  }
  if (i < end && (b[i] === 0x65 || b[i] === 0x45)) {
    i++;
    if (i < end && (b[i] === 0x2b || b[i] === 0x2d)) i++;
    if (i >= end || !isDigit(b[i])) return -1;
    while (i < end && isDigit(b[i])) i++;
  }
  return i;
}

/** The position after `word` (true, false, null) if it starts at `i`, or -1. */
function afterWord(b: Uint8Array, i: number, end: number, word: string): number {
  if (i + word.length > end) return -1;
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) return -1;
  return i + word.length;
}

/** Whether bytes `start`..`end` of `b` are one JSON text (see above). */
export function isJsonText(b: Uint8Array, start: number, end: number): boolean {
  let i = start;
  if (end - i >= 3 && b[i] === 0xef && b[i + 1] === 0xbb && b[i + 2] === 0xbf) i += 3;
  let depth = 0;
  nonAscii = false;
  for (;;) {
    // a value is due
    i = skipSpace(b, i, end);
    if (i >= end) return false;
    const c = b[i];
    if (c === 0x7b || c === 0x5b) {
      i = skipSpace(b, i + 1, end);
      if (i < end && b[i] === (c === 0x7b ? 0x7d : 0x5d)) i++;
      else {
        if (depth === open.length) {
          const grown = new Uint8Array(open.length * 2);
          grown.set(open);
          open = grown;
        }
        open[depth++] = c === 0x7b ? OBJECT : ARRAY;
        // an object's member: its name, then its value
        if (c === 0x7b && (i = afterName(b, i, end)) < 0) return false;
        continue;
      }
    } else if (c === 0x22) i = afterString(b, i, end);
    else if (c === 0x2d || isDigit(c)) i = afterNumber(b, i, end);
    else if (c === 0x74) i = afterWord(b, i, end, "true");
    else if (c === 0x66) i = afterWord(b, i, end, "false");
    else if (c === 0x6e) i = afterWord(b, i, end, "null");
    else return false;
    if (i < 0) return false;
    // the value is complete: close containers until a comma asks for the next value
    for (;;) {
      i = skipSpace(b, i, end);
      if (depth === 0) return i === end && (!nonAscii || isUtf8(b.subarray(start, end)));
      if (i >= end) return false;
      const d = b[i];
      const inObject = open[depth - 1] === OBJECT;
      if (d === (inObject ? 0x7d : 0x5d)) {
        depth--;
        i++;
        continue;
      }
      if (d !== 0x2c) return false;
      i = skipSpace(b, i + 1, end);
      if (inObject && (i = afterName(b, i, end)) < 0) return false;
      break;
    }
  }
}
