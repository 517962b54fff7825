/**
 * Text PostgreSQL can store. A NUL is refused by every text and jsonb value ("invalid byte
 * sequence for encoding UTF8: 0x00"), and jsonb refuses a lone surrogate escape; in a text
 * parameter a lone surrogate does not even fail: node encodes it as U+FFFD, so two different ids
 * would land on the same row. The stores check their text parameters before any statement runs
 * and refuse such text as a request error naming the field, not as a database failure.
 */
import { BrokerError } from "../errors.ts";

// a NUL, a high surrogate not followed by a low one, or a low one not preceded by a high one
// (no `u` flag: the pattern must see UTF-16 code units, not code points)
// eslint-disable-next-line no-control-regex -- NUL is what PostgreSQL text cannot store
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether PostgreSQL can store `s` as text exactly as given. */
export function isStorableText(s: string): boolean {
  return !UNSTORABLE.test(s);
}

function refuse(field: string): BrokerError {
  return new BrokerError("INVALID_REQUEST", `${field} contains a NUL character or a lone UTF-16 surrogate, which cannot be stored`, {
    field,
  });
}

/** Throws INVALID_REQUEST naming `field` unless `value` (when a string) is storable text. */
export function checkStorableText(field: string, value: string | null | undefined): void {
  if (typeof value === "string" && !isStorableText(value)) throw refuse(field);
}

/**
 * Checks every string (and object key) inside a value bound for a jsonb column; the field named
 * in the error is the path to the first bad one, e.g. `transaction.partitions[0].topic`.
 */
export function checkStorableJson(field: string, value: unknown): void {
  if (typeof value === "string") {
    checkStorableText(field, value);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => checkStorableJson(`${field}[${i}]`, v));
  } else if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      checkStorableText(`${field} key`, k);
      checkStorableJson(`${field}.${k}`, v);
    }
  }
}
