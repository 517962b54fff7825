/**
 * The one table from error codes (broker and API) to HTTP statuses, and the error body.
 * Broker errors are recognised by shape, not `instanceof`: route handlers are bundled by Next
 * and see a different copy of the broker's classes than the server that threw them.
 */
const STATUS: Record<string, number> = {
  // API
  INVALID_JSON: 400,
  VALIDATION_FAILED: 400,
  REQUEST_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_CONNECTIONS: 429,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  CROSS_SITE_REQUEST: 403,
  HOST_NOT_ALLOWED: 421,
  BROKER_NOT_AVAILABLE: 503,
  INTERNAL: 500,
  // broker (Kafka error names)
  UNKNOWN_TOPIC_OR_PARTITION: 404,
  TOPIC_ALREADY_EXISTS: 409,
  INVALID_TOPIC_EXCEPTION: 400,
  INVALID_PARTITIONS: 400,
  INVALID_CONFIG: 400,
  INVALID_REQUEST: 400,
  INVALID_RECORD: 400,
  INVALID_TIMESTAMP: 400,
  CORRUPT_MESSAGE: 400,
  UNSUPPORTED_COMPRESSION_TYPE: 415,
  MESSAGE_TOO_LARGE: 413,
  RECORD_LIST_TOO_LARGE: 413,
  OFFSET_OUT_OF_RANGE: 416,
  KAFKA_STORAGE_ERROR: 503,
  // consumer groups
  GROUP_ID_NOT_FOUND: 404,
  UNKNOWN_MEMBER_ID: 404,
  INVALID_GROUP_ID: 400,
  UNSUPPORTED_ASSIGNOR: 400,
  INVALID_REGULAR_EXPRESSION: 400,
  NON_EMPTY_GROUP: 409,
  STALE_MEMBER_EPOCH: 409,
  FENCED_MEMBER_EPOCH: 409,
  ILLEGAL_GENERATION: 409,
  GROUP_MAX_SIZE_REACHED: 409,
  GROUP_SUBSCRIBED_TO_TOPIC: 409,
  NO_OFFSET_FOR_PARTITION: 409,
  // idempotent producers and transactions
  OUT_OF_ORDER_SEQUENCE_NUMBER: 409,
  DUPLICATE_SEQUENCE_NUMBER: 409,
  INVALID_PRODUCER_EPOCH: 409,
  PRODUCER_FENCED: 409,
  UNKNOWN_PRODUCER_ID: 409,
  INVALID_PRODUCER_ID_MAPPING: 409,
  TRANSACTION_ABORTED: 409,
  INVALID_TXN_STATE: 409,
  TRANSACTIONAL_ID_NOT_FOUND: 404,
  INVALID_TRANSACTION_TIMEOUT: 400,
  CONCURRENT_TRANSACTIONS: 503,
  UNSTABLE_OFFSET_COMMIT: 503,
  TRANSACTION_COORDINATOR_FENCED: 409,
};

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

interface CodedError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

function isCoded(e: unknown): e is CodedError {
  if (typeof e !== "object" || e === null) return false;
  const o = e as { isBrokerError?: unknown; isApiError?: unknown; code?: unknown };
  return (o.isBrokerError === true || o.isApiError === true) && typeof o.code === "string";
}

/** Status and body for any thrown value; unknown errors become a logged 500 without internals. */
export function toErrorResponse(e: unknown): { status: number; body: ErrorBody } {
  if (isCoded(e) && STATUS[e.code] !== undefined) {
    const body: ErrorBody = { error: { code: e.code, message: e.message } };
    if (e.details && Object.keys(e.details).length > 0) body.error.details = e.details;
    return { status: STATUS[e.code], body };
  }
  console.error("unexpected error:", e);
  return { status: 500, body: { error: { code: "INTERNAL", message: "internal error; see the server log" } } };
}
