/**
 * The limits and the media type that the broker, the API's schemas, the client and the console
 * share, each defined once. Plain values without zod, so the broker and the client can import
 * them without loading the schema library.
 */

/** Kafka's limit on a topic name's length. */
export const TOPIC_NAME_MAX = 249;
export const MAX_PARTITIONS = 1000;
export const MAX_FETCH_RECORDS = 100_000;
export const MAX_FETCH_BYTES = 64 * 1024 * 1024;
/** The longest a fetch or poll waits for new records. */
export const MAX_WAIT_MS = 60_000;

/** Kafka RecordBatch v2 bytes as a request or response body (the binary produce, fetch and poll). */
export const RECORD_BATCH_CONTENT_TYPE = "application/vnd.kafka.record-batch";
