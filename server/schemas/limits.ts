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

/** The largest record batch a topic's max.message.bytes may allow, whatever it says (bounds server memory). */
export const MAX_MESSAGE_BYTES_LIMIT = 16 * 1024 * 1024;

/**
 * The integer topic configs and their allowed values, inclusive (-1: no retention limit). The
 * broker checks them and the console validates with them before anything is sent.
 */
export const TOPIC_CONFIG_INTEGER_RANGES: Readonly<Record<string, readonly [min: number, max: number]>> = {
  "retention.ms": [-1, Number.MAX_SAFE_INTEGER],
  "retention.bytes": [-1, Number.MAX_SAFE_INTEGER],
  "delete.retention.ms": [0, Number.MAX_SAFE_INTEGER],
  "max.message.bytes": [0, MAX_MESSAGE_BYTES_LIMIT],
  "min.compaction.lag.ms": [0, Number.MAX_SAFE_INTEGER],
};

/** The rebalance timeline keeps this many events per consumer group (older ones are deleted as new ones are written). */
export const TIMELINE_EVENTS_PER_GROUP = 1000;

/**
 * State one task of a pipeline may hold over all its stores (keys exactly; bytes as the changelog
 * encodes the values, estimated), so a pipeline whose state outgrows the server fails, naming the
 * node, instead of running the server out of memory (and again on every restore). Sized for the
 * 384 MB heap and the 512 MB of RSS of `npm start`: a store keeps its values packed as changelog
 * bytes off the heap (all but the last 50,000 used, decoded), keys too, so a table count's key
 * measured no heap and ~47 B + its key and encoded value (~129 B) beside it (1,000,000 keys
 * restored, after a full GC; it was ~277 B of heap decoded): the default holds 1,000,000 keys in
 * ~180 MB off the heap, the most one may ask for 1.5 times that.
 */
export const PIPELINE_STATE_LIMITS = {
  defaultKeysPerTask: 1_000_000,
  maxKeysPerTask: 1_500_000,
  defaultBytesPerTask: 160 * 1024 * 1024,
  maxBytesPerTask: 240 * 1024 * 1024,
} as const;
