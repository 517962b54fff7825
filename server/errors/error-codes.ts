/**
 * Every error code Tributary answers with, and the one table that says for each its Kafka
 * numeric code, whether a client may simply resend the same request, and its HTTP status.
 * A leaf (imports nothing): the broker, the API, the WebSocket sessions and the client share it.
 *
 * The broker's codes are Kafka's error names, so that a Kafka-protocol listener can answer each
 * partition with `kafkaCode`. Kafka's numbers are those of `org.apache.kafka.common.protocol.Errors`
 * (https://kafka.apache.org/protocol#protocol_error_codes); codes of the HTTP edge and the few
 * conditions Kafka reports only inside its clients have `kafkaCode: null`.
 */

/** Errors of topics, partitions, the log and the record batches written to it. */
export type BrokerErrorCode =
  | "UNKNOWN_TOPIC_OR_PARTITION"
  | "TOPIC_ALREADY_EXISTS"
  | "INVALID_TOPIC_EXCEPTION"
  | "INVALID_PARTITIONS"
  | "INVALID_CONFIG"
  | "INVALID_REQUEST"
  | "INVALID_RECORD"
  | "CORRUPT_MESSAGE"
  | "UNSUPPORTED_COMPRESSION_TYPE"
  | "MESSAGE_TOO_LARGE"
  | "RECORD_LIST_TOO_LARGE"
  | "OFFSET_OUT_OF_RANGE"
  | "INVALID_TIMESTAMP"
  | "BROKER_NOT_AVAILABLE"
  | "KAFKA_STORAGE_ERROR";

/** Errors of the group coordinator (KIP-848 membership, offsets). */
export type GroupErrorCode =
  /** memberId not in the group (never joined, left, or expired/fenced): rejoin with epoch 0. */
  | "UNKNOWN_MEMBER_ID"
  /** Heartbeat epoch ahead of / too far behind the coordinator's: drop all partitions, rejoin. */
  | "FENCED_MEMBER_EPOCH"
  /** Commit with an older member epoch than the member's current one. */
  | "STALE_MEMBER_EPOCH"
  /** Commit for a partition the member does not own at its current epoch. */
  | "ILLEGAL_GENERATION"
  | "GROUP_ID_NOT_FOUND"
  | "NON_EMPTY_GROUP"
  | "INVALID_GROUP_ID"
  | "UNSUPPORTED_ASSIGNOR"
  | "GROUP_MAX_SIZE_REACHED"
  | "INVALID_REGULAR_EXPRESSION"
  /** auto.offset.reset=none and the group has no committed offset for a partition it polls. */
  | "NO_OFFSET_FOR_PARTITION"
  /** Deleting a topic's offsets while members are subscribed to it. */
  | "GROUP_SUBSCRIBED_TO_TOPIC"
  | "INVALID_REQUEST";

/** Errors of idempotent producers and transactions. */
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

/** Errors of the HTTP and WebSocket edge: requests refused before any broker call. */
export type ApiErrorCode =
  | "INVALID_JSON"
  | "VALIDATION_FAILED"
  | "INVALID_REGULAR_EXPRESSION"
  | "REQUEST_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "REQUEST_TIMEOUT"
  | "CROSS_SITE_REQUEST"
  | "HOST_NOT_ALLOWED"
  | "TOO_MANY_CONNECTIONS"
  | "BROKER_NOT_AVAILABLE"
  | "INTERNAL";

/** Errors of stream-processing pipelines (server/pipelines); Kafka has none of these. */
export type PipelineErrorCode =
  | "PIPELINE_NOT_FOUND"
  | "PIPELINE_ALREADY_EXISTS"
  /** The definition does not validate: `details.problems` lists each with its node and field. */
  | "INVALID_PIPELINE"
  /** The move does not fit the pipeline's state (pause a stopped pipeline, …). */
  | "INVALID_PIPELINE_STATE"
  /** A stateful node changed: deploying over the old state needs an explicit `resetState`. */
  | "PIPELINE_STATE_RESET_REQUIRED";

/** Errors of simulated clients (server/simulation); Kafka has none of these. */
export type SimulationErrorCode =
  | "SIMULATION_NOT_FOUND"
  /** A simulated group with that group id runs already. */
  | "SIMULATION_ALREADY_EXISTS"
  /** The action does not fit the simulated member's or producer's state (pause a killed member, …). */
  | "INVALID_SIMULATION_STATE";

export type ErrorCode = BrokerErrorCode | GroupErrorCode | TxnErrorCode | ApiErrorCode | PipelineErrorCode | SimulationErrorCode;

export interface ErrorSpec {
  /** Kafka's numeric error code, or null where Kafka's protocol has none. */
  readonly kafkaCode: number | null;
  /**
   * True when resending the same request unchanged may succeed (the condition passes by
   * itself). False when the client must act first: rejoin, take a new epoch, fix its input.
   */
  readonly retriable: boolean;
  readonly httpStatus: number;
}

const spec = (kafkaCode: number | null, httpStatus: number, retriable = false): ErrorSpec => ({ kafkaCode, retriable, httpStatus });

/** The one table. Typed over `ErrorCode`: a code without an entry (or an entry without a code) does not compile. */
export const ERROR_CODES = {
  // the HTTP and WebSocket edge
  INVALID_JSON: spec(null, 400),
  VALIDATION_FAILED: spec(null, 400),
  REQUEST_TOO_LARGE: spec(null, 413),
  UNSUPPORTED_MEDIA_TYPE: spec(null, 415),
  TOO_MANY_CONNECTIONS: spec(null, 429),
  NOT_FOUND: spec(null, 404),
  METHOD_NOT_ALLOWED: spec(null, 405),
  REQUEST_TIMEOUT: spec(null, 408),
  CROSS_SITE_REQUEST: spec(null, 403),
  HOST_NOT_ALLOWED: spec(null, 421),
  /** Kafka's UNKNOWN_SERVER_ERROR: what a Kafka listener answers for an unexpected failure. */
  INTERNAL: spec(-1, 500),
  // topics, partitions, the log
  OFFSET_OUT_OF_RANGE: spec(1, 416),
  CORRUPT_MESSAGE: spec(2, 400),
  UNKNOWN_TOPIC_OR_PARTITION: spec(3, 404),
  BROKER_NOT_AVAILABLE: spec(8, 503, true),
  MESSAGE_TOO_LARGE: spec(10, 413),
  INVALID_TOPIC_EXCEPTION: spec(17, 400),
  RECORD_LIST_TOO_LARGE: spec(18, 413),
  INVALID_TIMESTAMP: spec(32, 400),
  TOPIC_ALREADY_EXISTS: spec(36, 409),
  INVALID_PARTITIONS: spec(37, 400),
  INVALID_CONFIG: spec(40, 400),
  INVALID_REQUEST: spec(42, 400),
  KAFKA_STORAGE_ERROR: spec(56, 503, true),
  UNSUPPORTED_COMPRESSION_TYPE: spec(76, 415),
  INVALID_RECORD: spec(87, 400),
  // consumer groups
  ILLEGAL_GENERATION: spec(22, 409),
  INVALID_GROUP_ID: spec(24, 400),
  UNKNOWN_MEMBER_ID: spec(25, 404),
  NON_EMPTY_GROUP: spec(68, 409),
  GROUP_ID_NOT_FOUND: spec(69, 404),
  GROUP_MAX_SIZE_REACHED: spec(81, 409),
  GROUP_SUBSCRIBED_TO_TOPIC: spec(86, 409),
  FENCED_MEMBER_EPOCH: spec(110, 409),
  UNSUPPORTED_ASSIGNOR: spec(112, 400),
  STALE_MEMBER_EPOCH: spec(113, 409),
  INVALID_REGULAR_EXPRESSION: spec(128, 400),
  /** Kafka's consumer raises NoOffsetForPartitionException itself; no broker answers it. */
  NO_OFFSET_FOR_PARTITION: spec(null, 409),
  // idempotent producers and transactions
  OUT_OF_ORDER_SEQUENCE_NUMBER: spec(45, 409),
  DUPLICATE_SEQUENCE_NUMBER: spec(46, 409),
  INVALID_PRODUCER_EPOCH: spec(47, 409),
  INVALID_TXN_STATE: spec(48, 409),
  INVALID_PRODUCER_ID_MAPPING: spec(49, 409),
  INVALID_TRANSACTION_TIMEOUT: spec(50, 400),
  CONCURRENT_TRANSACTIONS: spec(51, 503, true),
  TRANSACTION_COORDINATOR_FENCED: spec(52, 409),
  UNKNOWN_PRODUCER_ID: spec(59, 409),
  UNSTABLE_OFFSET_COMMIT: spec(88, 503, true),
  PRODUCER_FENCED: spec(90, 409),
  TRANSACTIONAL_ID_NOT_FOUND: spec(105, 404),
  /** Kafka has no code for it: its producer learns of a transaction timed out by the broker from an epoch error. */
  TRANSACTION_ABORTED: spec(null, 409),
  // pipelines
  PIPELINE_NOT_FOUND: spec(null, 404),
  PIPELINE_ALREADY_EXISTS: spec(null, 409),
  INVALID_PIPELINE: spec(null, 400),
  INVALID_PIPELINE_STATE: spec(null, 409),
  PIPELINE_STATE_RESET_REQUIRED: spec(null, 409),
  // simulations
  SIMULATION_NOT_FOUND: spec(null, 404),
  SIMULATION_ALREADY_EXISTS: spec(null, 409),
  INVALID_SIMULATION_STATE: spec(null, 409),
} satisfies Record<ErrorCode, ErrorSpec>;

/** True for one of our codes (a string from the wire, a body, another bundle). */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(ERROR_CODES, code);
}
