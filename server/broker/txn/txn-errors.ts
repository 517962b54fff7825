/**
 * Errors of idempotent producers and transactions. Their codes (Kafka's error names), Kafka
 * numbers, retriability and HTTP statuses are in the one table of `server/errors/error-codes.ts`.
 */
import type { TxnErrorCode } from "../../errors/error-codes.ts";
import { TributaryError } from "../../errors/tributary-error.ts";

export type { TxnErrorCode };

export class TxnError extends TributaryError<TxnErrorCode> {
  /** Raised inside the broker (see `BrokerError`). */
  readonly isBrokerError = true;
  constructor(code: TxnErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = "TxnError";
  }
}

/** Cross-bundle safe check (see `isBrokerError` in ../errors.ts for why not `instanceof`). */
export function isTxnError(e: unknown): e is TxnError {
  return (
    typeof e === "object" &&
    e !== null &&
    (e as { isBrokerError?: unknown }).isBrokerError === true &&
    (e as { name?: unknown }).name === "TxnError"
  );
}

export const invalidRequest = (message: string, details?: Record<string, unknown>) => new TxnError("INVALID_REQUEST", message, details);
