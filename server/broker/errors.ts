/**
 * Typed broker errors. Codes are Kafka's error names so that a Kafka-protocol front end can
 * map them one-to-one later; `retriable` says whether a client may simply try again.
 * Callers across bundles (Next route handlers load their own copy of this module) must test
 * `isBrokerError`, not `instanceof`.
 */
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

const RETRIABLE: ReadonlySet<BrokerErrorCode> = new Set(["BROKER_NOT_AVAILABLE", "KAFKA_STORAGE_ERROR"]);

export class BrokerError extends Error {
  readonly isBrokerError = true;
  readonly retriable: boolean;
  constructor(
    readonly code: BrokerErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "BrokerError";
    this.retriable = RETRIABLE.has(code);
  }
}

export function isBrokerError(e: unknown): e is BrokerError {
  return typeof e === "object" && e !== null && (e as { isBrokerError?: unknown }).isBrokerError === true;
}

export const unknownTopic = (topic: string) =>
  new BrokerError("UNKNOWN_TOPIC_OR_PARTITION", `topic '${topic}' does not exist`, { topic });

export const unknownPartition = (topic: string, partition: number, partitions: number) =>
  new BrokerError(
    "UNKNOWN_TOPIC_OR_PARTITION",
    `topic '${topic}' has no partition ${partition} (it has partitions 0..${partitions - 1})`,
    { topic, partition, partitions },
  );
