/**
 * Any thrown value → HTTP status and the JSON error body `{"error":{"code","message","details"?}}`,
 * by the one table. Used by the route handlers, the binary fast path and the WebSocket sessions.
 */
import { ERROR_CODES } from "./error-codes.ts";
import { isTributaryError } from "./tributary-error.ts";

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** Status and body for any thrown value; unknown errors become a logged 500 without internals. */
export function toErrorResponse(e: unknown): { status: number; body: ErrorBody } {
  if (isTributaryError(e)) {
    const body: ErrorBody = { error: { code: e.code, message: e.message } };
    if (e.details && Object.keys(e.details).length > 0) body.error.details = e.details;
    return { status: ERROR_CODES[e.code].httpStatus, body };
  }
  console.error("unexpected error:", e);
  return { status: 500, body: { error: { code: "INTERNAL", message: "internal error; see the server log" } } };
}
