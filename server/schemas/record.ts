import { z } from "zod";
import { zQueryInt } from "./common.ts";
import { ZClientId, ZHeaderKey, ZTransactionalId } from "./ids.ts";
import { MAX_FETCH_BYTES, MAX_FETCH_RECORDS, MAX_PARTITIONS, MAX_WAIT_MS } from "./limits.ts";

export const MAX_PRODUCE_RECORDS = 100_000;

const base64 = z.base64("must be standard base64");

/**
 * A header value is UTF-8 text (`value`) or bytes (`valueBase64`); null/absent is a null value.
 */
export { ZHeaderKey };

interface UnionIssue {
  input?: unknown;
  errors?: { path: PropertyKey[]; message: string; issues?: { message: string }[] }[][];
}

/**
 * Headers come as an array of {key, value} or as an object of key → value; zod would only say
 * "Invalid input" when neither fits, so say what is wrong in the form the client used.
 */
function headersFormError(iss: UnionIssue): string | undefined {
  const first = iss.errors?.[Array.isArray(iss.input) ? 0 : 1]?.[0];
  if (!first) return undefined;
  const message = first.issues?.[0]?.message ?? first.message;
  // the key itself, quoted as JSON: it may be the very control character refused
  return first.path.length > 0 ? `at ${JSON.stringify(first.path.map(String).join("."))}: ${message}` : message;
}

export const ZHeaderInput = z
  .object({
    key: ZHeaderKey,
    value: z.string().nullable().optional(),
    valueBase64: base64.optional(),
  })
  .strict()
  .refine((h) => h.value === undefined || h.valueBase64 === undefined, "give value or valueBase64, not both");

/**
 * A record to produce. Keys and values are carried as:
 * - `key` / `value` as a JSON string: stored as its UTF-8 bytes;
 * - `value` as any other JSON (object, array, number, boolean): stored as its JSON text;
 * - `keyBase64` / `valueBase64`: binary, base64-encoded;
 * - `value: null` or no value at all: a null value (a tombstone on compacted topics).
 */
export const ZProduceRecord = z
  .object({
    key: z.string().nullable().optional(),
    keyBase64: base64.optional(),
    value: z.json().optional(),
    valueBase64: base64.optional(),
    headers: z
      .union([z.array(ZHeaderInput).max(1000), z.record(ZHeaderKey, z.string().nullable())], { error: headersFormError })
      .optional(),
    timestamp: z
      .union([z.number().int().min(0).max(8.64e15), z.iso.datetime({ offset: true })])
      .optional()
      .describe("CreateTime: epoch milliseconds or an ISO 8601 date-time; default now"),
    partition: z.number().int().min(0).optional(),
  })
  .strict()
  .refine((r) => r.key === undefined || r.keyBase64 === undefined, "give key or keyBase64, not both")
  .refine((r) => r.value === undefined || r.valueBase64 === undefined, "give value or valueBase64, not both")
  .meta({ id: "ProduceRecord" });
export type TProduceRecord = z.infer<typeof ZProduceRecord>;

export const ZIsolation = z
  .enum(["read_uncommitted", "read_committed"])
  .describe(
    "read_uncommitted (default, as in Kafka): up to the high watermark, aborted records included; read_committed: up to the last stable offset, aborted records and markers skipped",
  );

/**
 * With `producerId` the records are written as one idempotent (and, with `transactionalId`,
 * transactional) producer's batch: they must all go to one partition, numbered from
 * `baseSequence`.
 */
export const ZProduceRequest = z
  .object({
    records: z.array(ZProduceRecord).min(1, "records must hold at least one record").max(MAX_PRODUCE_RECORDS),
    producerId: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional().describe("from POST /api/v1/producers"),
    producerEpoch: z.number().int().min(0).max(32767).optional(),
    baseSequence: z
      .number()
      .int()
      .min(0)
      .max(2147483647)
      .optional()
      .describe("the sequence of the first record; the next request to this partition continues after the last"),
    transactionalId: ZTransactionalId.optional().describe("produce inside this id's transaction (starting one when none is open)"),
    clientId: ZClientId.optional().describe("the producing client's name (Kafka's client.id), shown in the live topology"),
  })
  .strict()
  .refine(
    (r) =>
      (r.producerId === undefined) === (r.producerEpoch === undefined) && (r.producerId === undefined) === (r.baseSequence === undefined),
    "producerId, producerEpoch and baseSequence go together",
  )
  .refine(
    (r) => r.transactionalId === undefined || r.producerId !== undefined,
    "transactionalId needs producerId, producerEpoch and baseSequence",
  )
  .meta({ id: "ProduceRequest" });
export type TProduceRequest = z.infer<typeof ZProduceRequest>;

export const ZProducedRecord = z.object({
  partition: z.number().int(),
  offset: z.number().int(),
  timestamp: z.number().int(),
});

export const ZProduceResponse = z.object({ topic: z.string(), records: z.array(ZProducedRecord) }).meta({ id: "ProduceResponse" });
export type TProduceResponse = z.infer<typeof ZProduceResponse>;

export const ZBatchProduceResponse = z
  .object({
    topic: z.string(),
    partition: z.number().int(),
    baseOffset: z.number().int(),
    lastOffset: z.number().int(),
    recordCount: z.number().int(),
  })
  .meta({ id: "BatchProduceResponse" });

export const ZEncoding = z.enum(["utf8", "base64"]);

export const ZHeader = z.object({ key: z.string(), value: z.string().nullable(), valueEncoding: ZEncoding });

/** A fetched record. Bytes that are valid UTF-8 come as text, others as base64 (see *Encoding). */
export const ZRecord = z
  .object({
    topic: z.string(),
    partition: z.number().int(),
    offset: z.number().int(),
    timestamp: z.number().int(),
    timestampType: z.enum(["CreateTime", "LogAppendTime"]),
    key: z.string().nullable(),
    keyEncoding: ZEncoding,
    value: z.string().nullable(),
    valueEncoding: ZEncoding,
    headers: z.array(ZHeader),
    sizeBytes: z.number().int(),
  })
  .meta({ id: "Record" });
export type TRecord = z.infer<typeof ZRecord>;

export const ZFetchQuery = z
  .object({
    offset: zQueryInt("offset", 0, Number.MAX_SAFE_INTEGER),
    maxRecords: zQueryInt("maxRecords", 1, MAX_FETCH_RECORDS).optional(),
    maxBytes: zQueryInt("maxBytes", 1, MAX_FETCH_BYTES).optional(),
    waitMs: zQueryInt("waitMs", 0, MAX_WAIT_MS).optional(),
    encoding: z.enum(["auto", "base64"]).optional(),
    isolation: ZIsolation.optional(),
  })
  .strict();

export const ZFetchResponse = z
  .object({
    topic: z.string(),
    partition: z.number().int(),
    logStartOffset: z.number().int(),
    highWatermark: z.number().int(),
    lastStableOffset: z.number().int(),
    nextOffset: z.number().int().describe("the offset to fetch next"),
    records: z.array(ZRecord),
  })
  .meta({ id: "FetchResponse" });
export type TFetchResponse = z.infer<typeof ZFetchResponse>;

export const ZListOffsetsQuery = z
  .object({
    at: z
      .string()
      .regex(/^(earliest|latest|\d{1,16})$/, "at must be 'earliest', 'latest' or epoch milliseconds")
      .default("latest"),
    isolation: ZIsolation.optional().describe("latest under read_committed is the last stable offset"),
  })
  .strict();

export const ZListOffsetsResponse = z
  .object({
    topic: z.string(),
    at: z.string(),
    partitions: z.array(
      z.object({
        partition: z.number().int(),
        offset: z.number().int().nullable().describe("null when no record has a timestamp >= at"),
        timestamp: z.number().int().nullable(),
      }),
    ),
  })
  .meta({ id: "ListOffsetsResponse" });
export type TListOffsetsResponse = z.infer<typeof ZListOffsetsResponse>;

export const ZProduceQuery = z
  .object({
    partition: zQueryInt("partition", 0, 999).optional(),
    transactionalId: ZTransactionalId.optional().describe("required for transactional batches: the id whose transaction they belong to"),
    clientId: ZClientId.optional().describe("the producing client's name (Kafka's client.id), shown in the live topology"),
  })
  .strict();

/** DeleteRecords (Kafka's admin deleteRecords): every record of a partition before an offset goes. */
export const ZDeleteRecordsRequest = z
  .object({
    partitions: z
      .array(
        z
          .object({
            partition: z
              .number()
              .int()
              .min(0)
              .max(MAX_PARTITIONS - 1),
            offset: z
              .number()
              .int()
              .min(-1)
              .max(Number.MAX_SAFE_INTEGER)
              .describe("records before this offset are deleted; at most the high watermark; -1: the high watermark (everything)"),
          })
          .strict(),
      )
      .min(1, "partitions must name at least one partition")
      .max(MAX_PARTITIONS)
      .refine((ps) => new Set(ps.map((p) => p.partition)).size === ps.length, "a partition is named twice"),
  })
  .strict()
  .meta({ id: "DeleteRecordsRequest" });
export type TDeleteRecordsRequest = z.infer<typeof ZDeleteRecordsRequest>;

export const ZDeleteRecordsResponse = z
  .object({
    topic: z.string(),
    partitions: z.array(
      z.object({
        partition: z.number().int(),
        lowWatermark: z.number().int().describe("the partition's log start offset afterwards"),
      }),
    ),
  })
  .meta({ id: "DeleteRecordsResponse" });
export type TDeleteRecordsResponse = z.infer<typeof ZDeleteRecordsResponse>;
