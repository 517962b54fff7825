/**
 * The one base class of Tributary's errors and the checks callers use to tell error kinds apart.
 * Checks go by shape, never `instanceof`: Next bundles the route handlers with their own copy of
 * these classes, and the client sees only the code of a JSON error body.
 */
import { ERROR_CODES, isErrorCode, type ErrorCode } from "./error-codes.ts";

export class TributaryError<C extends ErrorCode = ErrorCode> extends Error {
  /** Marks our errors for the shape checks below, whichever bundle's copy of the class made them. */
  readonly isTributaryError = true;
  readonly retriable: boolean;
  constructor(
    readonly code: C,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "TributaryError";
    this.retriable = ERROR_CODES[code].retriable;
  }
}

/** What every error carrying one of our codes looks like: a thrown error, or a client's copy of an error body. */
export interface CodedError<C extends ErrorCode = ErrorCode> {
  code: C;
  message: string;
  details?: Record<string, unknown>;
}

/** A `TributaryError` from any bundle. */
export function isTributaryError(e: unknown): e is TributaryError {
  return (
    typeof e === "object" &&
    e !== null &&
    (e as { isTributaryError?: unknown }).isTributaryError === true &&
    isErrorCode((e as { code?: unknown }).code)
  );
}

/** The code of any error carrying one of ours (ours, or the client's error for a server's answer); else undefined. */
export function codeOf(e: unknown): ErrorCode | undefined {
  if (typeof e !== "object" || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  return isErrorCode(code) ? code : undefined;
}

/** True when `e` carries one of `codes`. */
export function hasCode<C extends ErrorCode>(e: unknown, ...codes: C[]): e is CodedError<C> {
  const code = codeOf(e);
  return code !== undefined && (codes as ErrorCode[]).includes(code);
}

/** True when resending the same request unchanged may succeed, by the code's entry in the table. */
export function isRetriable(e: unknown): boolean {
  const code = codeOf(e);
  return code !== undefined && ERROR_CODES[code].retriable;
}
