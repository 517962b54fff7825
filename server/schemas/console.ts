/**
 * Schemas of the web console's own endpoints: message search (a bounded, cancellable scan
 * streamed as NDJSON) and throughput metrics for the overview.
 */
import { z } from "zod";
import { ZIsolation, ZRecord } from "./record.ts";

export const MAX_SEARCH_SCANNED = 1_000_000;
export const MAX_SEARCH_MATCHES = 100_000;
export const DEFAULT_SEARCH_SCANNED = 100_000;
export const DEFAULT_SEARCH_MATCHES = 1_000;
export const MAX_CEL_LENGTH = 4096;
export const SEARCH_CONTENT_TYPE = "application/x-ndjson";

export const ZSearchFrom = z.enum(["earliest", "latest", "offset", "timestamp"]);
export type TSearchFrom = z.infer<typeof ZSearchFrom>;

/**
 * A search over one partition (or all): starts at `from` and scans forward up to the high
 * watermark seen when the scan began, at most `maxScanned` records, stopping at `maxMatches`.
 * `latest` starts `maxMatches` records before each partition's high watermark (the newest
 * records). Text filters match case-insensitively; all given filters must match.
 */
export const ZSearchRequest = z
  .object({
    partition: z.number().int().min(0).optional().describe("omitted: every partition"),
    from: ZSearchFrom.default("earliest"),
    offset: z.number().int().min(0).optional().describe("with from=offset: the first offset (per partition)"),
    timestamp: z
      .union([z.number().int().min(0).max(8.64e15), z.iso.datetime({ offset: true })])
      .optional()
      .describe("with from=timestamp: epoch milliseconds or an ISO 8601 date-time"),
    maxScanned: z
      .number()
      .int()
      .min(1)
      .max(MAX_SEARCH_SCANNED, `maxScanned must be <= ${MAX_SEARCH_SCANNED}`)
      .default(DEFAULT_SEARCH_SCANNED),
    maxMatches: z
      .number()
      .int()
      .min(1)
      .max(MAX_SEARCH_MATCHES, `maxMatches must be <= ${MAX_SEARCH_MATCHES}`)
      .default(DEFAULT_SEARCH_MATCHES),
    keyContains: z.string().max(1000).optional(),
    valueContains: z.string().max(1000).optional(),
    headerContains: z.string().max(1000).optional().describe("matches a header's key or value"),
    isolation: ZIsolation.default("read_uncommitted").describe(
      "read_committed: as a read_committed consumer sees the topic (no aborted records, nothing past the last stable offset)",
    ),
    cel: z
      .string()
      .max(MAX_CEL_LENGTH, `cel must be at most ${MAX_CEL_LENGTH} characters`)
      .optional()
      .describe(
        "CEL expression returning bool over key (string|null), value (parsed JSON, else string, or null), " +
          "headers (map<string,string>), partition (int), offset (int), timestamp (google.protobuf.Timestamp)",
      ),
  })
  .strict()
  .refine((r) => r.from !== "offset" || r.offset !== undefined, { message: "from=offset needs offset", path: ["offset"] })
  .refine((r) => r.from !== "timestamp" || r.timestamp !== undefined, { message: "from=timestamp needs timestamp", path: ["timestamp"] })
  .meta({ id: "SearchRequest" });
export type TSearchRequest = z.input<typeof ZSearchRequest>;
export type TSearchRequestParsed = z.output<typeof ZSearchRequest>;

/** A found record, with where it stands against the partition's last stable offset. */
export const ZSearchRecord = ZRecord.extend({
  transaction: z
    .enum(["committed", "uncommitted", "aborted"])
    .describe(
      "committed: below the last stable offset when read and not aborted (non-transactional or committed); uncommitted: at or past it (an open transaction may still abort it); aborted: written by a transaction that aborted (read_uncommitted only)",
    ),
});
export type TSearchRecord = z.infer<typeof ZSearchRecord>;

export const ZSearchPartitionRange = z.object({
  partition: z.number().int(),
  startOffset: z.number().int(),
  endOffset: z.number().int().describe("the high watermark when the scan began (exclusive)"),
});

/** One NDJSON line of a search response. */
export const ZSearchEvent = z
  .discriminatedUnion("type", [
    z.object({ type: z.literal("started"), topic: z.string(), partitions: z.array(ZSearchPartitionRange), toScan: z.number().int() }),
    z.object({ type: z.literal("records"), records: z.array(ZSearchRecord) }),
    z.object({
      type: z.literal("progress"),
      scanned: z.number().int(),
      matched: z.number().int(),
      celErrors: z.number().int().describe("records the CEL expression failed on (counted as no match)"),
      firstCelError: z.string().nullable(),
    }),
    z.object({
      type: z.literal("done"),
      scanned: z.number().int(),
      matched: z.number().int(),
      celErrors: z.number().int(),
      firstCelError: z.string().nullable(),
      reason: z.enum(["end", "maxScanned", "maxMatches"]),
      elapsedMs: z.number().int(),
    }),
    z.object({ type: z.literal("error"), error: z.object({ code: z.string(), message: z.string() }) }),
  ])
  .meta({ id: "SearchEvent" });
export type TSearchEvent = z.infer<typeof ZSearchEvent>;

export const ZRate = z.object({
  recordsPerSec: z.number(),
  bytesPerSec: z.number(),
});
export type TRate = z.infer<typeof ZRate>;

export const ZThroughputPoint = z.object({
  t: z.number().int().describe("second (epoch ms, start of the second)"),
  inRecords: z.number(),
  inBytes: z.number(),
  outRecords: z.number(),
  outBytes: z.number(),
});
export type TThroughputPoint = z.infer<typeof ZThroughputPoint>;

export const ZMetrics = z
  .object({
    at: z.number().int(),
    storage: z.object({ sizeBytes: z.number().int(), recordCount: z.number().int() }),
    topics: z.number().int(),
    partitions: z.number().int(),
    groups: z.number().int(),
    windowSeconds: z.number().int().describe("rates are averaged over the last few complete seconds"),
    total: z.object({ in: ZRate, out: ZRate }),
    history: z.array(ZThroughputPoint).describe("per second, oldest first, all topics"),
    byTopic: z.array(z.object({ topic: z.string(), in: ZRate, out: ZRate, history: z.array(ZThroughputPoint) })),
  })
  .meta({ id: "Metrics" });
export type TMetrics = z.infer<typeof ZMetrics>;
