import type { Broker } from "../broker/broker.ts";
import type { TSearchEvent, TSearchRecord, TSearchRequestParsed } from "../schemas/console.ts";
import { ApiError } from "./api-error.ts";
import { hasCode } from "../errors/tributary-error.ts";
import { compileRecordFilter } from "./compile-record-filter.ts";
import { toRecordJson } from "../present/record-json.ts";
import { getBroker } from "./registry.ts";

const FETCH_RECORDS = 2000;
const FETCH_BYTES = 4 * 1024 * 1024;
/** Matches go out in frames of at most this many, or every FLUSH_MS. */
const FRAME_RECORDS = 1000;
const FLUSH_MS = 150;
/**
 * A scan gives the event loop back after this much filtering: CEL over a fetched chunk of up to
 * 2,000 records may take far longer than other clients may wait (each record is bounded by the
 * CEL budget, a chunk is not).
 */
const SLICE_MS = 10;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Range {
  partition: number;
  next: number;
  end: number;
}

async function startRanges(broker: Broker, topic: string, req: TSearchRequestParsed): Promise<Range[]> {
  const t = await broker.describeTopic(topic);
  const all = t.partitions.map((p) => p.partition);
  if (req.partition !== undefined && !all.includes(req.partition)) {
    throw new ApiError("VALIDATION_FAILED", `topic '${topic}' has no partition ${req.partition} (it has 0..${all.length - 1})`, {
      field: "partition",
    });
  }
  const parts = t.partitions.filter((p) => req.partition === undefined || p.partition === req.partition);
  let fromTimestamp: Map<number, number | null> | null = null;
  if (req.from === "timestamp") {
    const ts = typeof req.timestamp === "string" ? Date.parse(req.timestamp) : (req.timestamp as number);
    const listed = await broker.listOffsets(
      topic,
      { timestamp: ts },
      parts.map((p) => p.partition),
    );
    fromTimestamp = new Map(listed.map((l) => [l.partition, l.offset]));
  }
  return parts.map((p) => {
    const lo = p.logStartOffset;
    const hi = p.highWatermark;
    let start: number;
    if (req.from === "earliest") start = lo;
    else if (req.from === "latest") start = Math.max(lo, hi - req.maxMatches);
    else if (req.from === "offset") start = Math.min(Math.max(req.offset as number, lo), hi);
    else start = fromTimestamp?.get(p.partition) ?? hi;
    return { partition: p.partition, next: start, end: hi };
  });
}

/**
 * Message search: validates the request, the CEL expression and the start offsets up front
 * (so bad input fails with a 4xx before anything streams), then scans forward round-robin over
 * the partitions up to each one's high watermark at the start, within maxScanned, yielding
 * matches in frames and progress about every 150 ms. Stops when `signal` aborts (the client
 * went away or cancelled).
 */
export async function searchRecords(topic: string, req: TSearchRequestParsed, signal: AbortSignal): Promise<AsyncGenerator<TSearchEvent>> {
  const broker = getBroker();
  const filter = compileRecordFilter(req);
  const ranges = await startRanges(broker, topic, req);
  return scan(broker, topic, req, ranges, filter, signal);
}

async function* scan(
  broker: Broker,
  topic: string,
  req: TSearchRequestParsed,
  ranges: Range[],
  filter: ReturnType<typeof compileRecordFilter>,
  signal: AbortSignal,
): AsyncGenerator<TSearchEvent> {
  const began = Date.now();
  yield {
    type: "started",
    topic,
    partitions: ranges.map((r) => ({ partition: r.partition, startOffset: r.next, endOffset: r.end })),
    toScan: Math.min(
      req.maxScanned,
      ranges.reduce((s, r) => s + (r.end - r.next), 0),
    ),
  };
  let scanned = 0;
  let matched = 0;
  let celErrors = 0;
  let firstCelError: string | null = null;
  let pending: TSearchRecord[] = [];
  let lastFlush = Date.now();
  let reason: "end" | "maxScanned" | "maxMatches" = "end";
  let sliceStart = performance.now();
  const progress = (): TSearchEvent => ({ type: "progress", scanned, matched, celErrors, firstCelError });

  outer: for (;;) {
    const active = ranges.filter((r) => r.next < r.end);
    if (active.length === 0) break;
    for (const range of active) {
      if (signal.aborted) return;
      if (scanned >= req.maxScanned) {
        reason = "maxScanned";
        break outer;
      }
      let res;
      try {
        res = await broker.fetch(topic, range.partition, {
          offset: range.next,
          maxRecords: Math.min(FETCH_RECORDS, req.maxScanned - scanned),
          maxBytes: FETCH_BYTES,
          signal,
          isolation: req.isolation,
          markAborted: true,
        });
      } catch (e) {
        // retention removed what we were about to read: go on from the new log start
        const logStart = hasCode(e, "OFFSET_OUT_OF_RANGE") ? e.details?.logStartOffset : undefined;
        if (typeof logStart === "number" && logStart > range.next) {
          range.next = logStart;
          continue;
        }
        throw e;
      }
      for (const rec of res.records) {
        if (rec.offset >= range.end) break;
        if (performance.now() - sliceStart >= SLICE_MS) {
          await yieldToEventLoop();
          if (signal.aborted) return;
          sliceStart = performance.now();
        }
        const t = filter.test(range.partition, rec);
        if (t.exhausted) {
          // the request's CEL budget is spent: what is left goes unscanned, as past maxScanned
          celErrors++;
          firstCelError = t.error ?? null;
          reason = "maxScanned";
          break outer;
        }
        scanned++;
        if (t.error) {
          celErrors++;
          firstCelError ??= t.error;
        }
        if (t.match) {
          matched++;
          pending.push({
            ...toRecordJson(topic, range.partition, rec),
            transaction: rec.aborted ? "aborted" : rec.offset < res.lastStableOffset ? "committed" : "uncommitted",
          });
          if (pending.length >= FRAME_RECORDS) {
            yield { type: "records", records: pending };
            pending = [];
          }
          if (matched >= req.maxMatches) {
            reason = "maxMatches";
            break outer;
          }
        }
        if (scanned >= req.maxScanned) break;
      }
      range.next = res.nextOffset > range.next ? Math.min(res.nextOffset, range.end) : range.end;
      if (Date.now() - lastFlush >= FLUSH_MS) {
        if (pending.length) yield { type: "records", records: pending };
        pending = [];
        yield progress();
        lastFlush = Date.now();
      }
    }
  }
  if (signal.aborted) return;
  if (pending.length) yield { type: "records", records: pending };
  yield progress();
  yield { type: "done", scanned, matched, celErrors, firstCelError, reason, elapsedMs: Date.now() - began };
}
