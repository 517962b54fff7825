/**
 * Typed errors of idempotent producers and transactions. Same shape as `BrokerError`
 * (`isBrokerError`, `code`, `retriable`, `details`) so the API layer's `isBrokerError()` check
 * and code → HTTP table handle them without importing this folder. Codes are Kafka's error
 * names, so a Kafka-protocol front end can map them one-to-one later.
 */
export type TxnErrorCode =
  /** Produce (at a partition) with an epoch older than the partition has seen: a zombie. */
  | "INVALID_PRODUCER_EPOCH"
  /** Coordinator request (add partitions/offsets, end txn) with an epoch other than the current one. */
  | "PRODUCER_FENCED"
  /** A gap in a producer's sequence numbers (or a new epoch not starting at 0). */
  | "OUT_OF_ORDER_SEQUENCE_NUMBER"
  /**
   * The batch's sequences were already written, but too long ago for its offsets to be remembered
   * (it is older than the last 5 batches). Nothing is written; Kafka's clients treat it as
   * success without offsets.
   */
  | "DUPLICATE_SEQUENCE_NUMBER"
  /** A producer id the partition has no state for, sending a sequence other than 0. */
  | "UNKNOWN_PRODUCER_ID"
  /** The request does not fit the transaction's state (e.g. commit of an aborted txn). */
  | "INVALID_TXN_STATE"
  | "TRANSACTIONAL_ID_NOT_FOUND"
  | "INVALID_TRANSACTION_TIMEOUT"
  /** The transaction is completing (markers being written): retry shortly. */
  | "CONCURRENT_TRANSACTIONS"
  /** The transactional id is unknown or mapped to another producer id. */
  | "INVALID_PRODUCER_ID_MAPPING"
  /** The broker aborted this producer's transaction (timeout) and fenced the epoch it used. */
  | "TRANSACTION_ABORTED"
  /** A marker from an older coordinator epoch than the partition has seen. */
  | "TRANSACTION_COORDINATOR_FENCED"
  /** Transactional offsets are pending for the partition (KIP-447 require_stable fetches). */
  | "UNSTABLE_OFFSET_COMMIT"
  | "INVALID_RECORD"
  | "INVALID_REQUEST";

const RETRIABLE: ReadonlySet<TxnErrorCode> = new Set(["CONCURRENT_TRANSACTIONS", "UNSTABLE_OFFSET_COMMIT"]);

export class TxnError extends Error {
  readonly isBrokerError = true;
  readonly retriable: boolean;
  constructor(
    readonly code: TxnErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "TxnError";
    this.retriable = RETRIABLE.has(code);
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
