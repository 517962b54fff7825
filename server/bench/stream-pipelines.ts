/**
 * The stream workloads' pipelines and inputs (issue #15's Speed section), shared by Tributary's
 * server-run pipelines (server/bench/stream-tributary.ts) and the peers that run the same logic
 * in their clients (server/bench/stream-peers.ts): what each input record is, what each pipeline
 * does, and what its output must hold.
 */
import type { TPipelineDefinitionInput } from "../schemas/pipeline.ts";

/** Records and keys of each workload; `quick` keeps the whole set to about a minute of work. */
export interface StreamSizes {
  /** filter→map input records (100 B each, half kept) */
  stateless: number;
  /** windowed count: input records, keys, and the minutes of event time they spread over */
  window: { records: number; keys: number; minutes: number };
  /** stream–table join: stream records and table keys */
  join: { records: number; tableKeys: number };
  /** latency through the stateless pipeline: records/s, seconds measured, and seconds at that rate before (the warm-up) */
  latency: { rate: number; seconds: number; warmSeconds: number };
  /** keys of the table aggregate whose store is restored after SIGKILL */
  restore: { keys: number };
}

/**
 * A throughput run is timed from the pipeline's first committed unit of work, which holds up to
 * ~100,000 records (50,000 buffered by the consumer, and a task processing the next batch while
 * its transaction commits): the inputs are large enough for the timed part to be most of them
 * (with 100,000 join records, 9,600 were timed).
 */
export const FULL_SIZES: StreamSizes = {
  stateless: 1_000_000,
  window: { records: 600_000, keys: 10_000, minutes: 4 },
  join: { records: 400_000, tableKeys: 100_000 },
  latency: { rate: 10_000, seconds: 10, warmSeconds: 5 },
  // the 1,000,000 keys (the default per-task state limit, PIPELINE_STATE_LIMITS: restored values stay packed)
  restore: { keys: 1_000_000 },
};

export const QUICK_SIZES: StreamSizes = {
  stateless: 100_000,
  window: { records: 100_000, keys: 10_000, minutes: 2 },
  join: { records: 50_000, tableKeys: 100_000 },
  latency: { rate: 10_000, seconds: 3, warmSeconds: 1 },
  restore: { keys: 100_000 },
};

/** Payload bytes of the throughput workloads' records. */
export const RECORD_BYTES = 100;
/** Kafka Streams' commit.interval.ms under exactly-once; the latency target is this + 50 ms. */
export const COMMIT_INTERVAL_MS = 100;
/** Event time of the first windowed record (a whole minute). */
export const WINDOW_BASE_MS = Date.UTC(2026, 0, 1, 9);

const MINUTE = 60_000;
const edge = (from: string, to: string, toPort = "in") => ({ from: { node: from, port: "out" }, to: { node: to, port: toPort } });

/** A JSON value padded with spaces to `RECORD_BYTES` (still one JSON document). */
function padded(json: string): string {
  return json.length >= RECORD_BYTES ? json : json + " ".repeat(RECORD_BYTES - json.length);
}

/**
 * Filter→map over text values: keep the values that start with 'k', write each with its first
 * letter upper-cased — the logic of the client-driven `pipeline` row (peers/common.ts's
 * pipelineKeeps/pipelineMap over pipelineInput), here as CEL run by the server, exactly-once.
 */
export function statelessPipeline(name: string, input: string, output: string): TPipelineDefinitionInput {
  return {
    name,
    nodes: [
      { id: "records", config: { kind: "source", topics: [input], start: "earliest", keyFormat: "text", valueFormat: "text" } },
      { id: "keep", config: { kind: "filter", condition: 'value.startsWith("k")' } },
      { id: "upper", config: { kind: "map", value: '"K" + value.substring(1)' } },
      { id: "out", config: { kind: "sink", topic: output, createTopic: { partitions: 1 } } },
    ],
    edges: [edge("records", "keep"), edge("keep", "upper"), edge("upper", "out")],
    settings: { commitIntervalMs: COMMIT_INTERVAL_MS },
  };
}

/** Input record `i` of the windowed count: key `k<i mod keys>`, its event time spread evenly over the minutes. */
export function windowInput(i: number, s: StreamSizes["window"]): { key: string; value: string; timestamp: number } {
  const key = `k${i % s.keys}`;
  return {
    key,
    value: padded(`{"user":"${key}","amount":${i % 1000}}`),
    timestamp: WINDOW_BASE_MS + Math.floor((i * s.minutes * MINUTE) / s.records),
  };
}

/** The record after the input whose event time closes every window the input opened (its own stays open). */
export function windowCloser(s: StreamSizes["window"]): { key: string; value: string; timestamp: number } {
  return { key: "k0", value: padded('{"user":"k0","amount":0}'), timestamp: WINDOW_BASE_MS + (s.minutes + 1) * MINUTE };
}

/** Final counts the windowed pipeline emits for the input: every key in every minute (records ≥ keys × minutes). */
export const windowOutputs = (s: StreamSizes["window"]): number => s.keys * s.minutes;

/**
 * Count per key in 1-minute tumbling windows of event time, only the final count once a window
 * closed. The input is history (event times long past), so the windows close by event time (the
 * closer record), never by the wall clock: an idle timeout of a minute, because the runtime
 * counts a partition idle after `idleTimeoutMs` without a record processed even while records
 * wait in it, and a unit of work of about a second with 1,000 ms moved the watermark to the wall
 * clock mid-input, closing the open windows early and making the rest of the input late.
 */
export function windowPipeline(name: string, input: string, output: string): TPipelineDefinitionInput {
  return {
    name,
    nodes: [
      { id: "purchases", config: { kind: "source", topics: [input], start: "earliest", idleTimeoutMs: 60_000 } },
      {
        id: "perMinute",
        config: {
          kind: "aggregate",
          window: { type: "tumbling", sizeMs: MINUTE },
          aggregations: [{ fn: "count", as: "n" }],
          emit: "final",
        },
      },
      { id: "out", config: { kind: "sink", topic: output, createTopic: { partitions: 1 } } },
    ],
    edges: [edge("purchases", "perMinute"), edge("perMinute", "out")],
    settings: { commitIntervalMs: COMMIT_INTERVAL_MS },
  };
}

/** Table row `j` of the join: customer `c<j>`. */
export function joinTableRow(j: number): { key: string; value: string } {
  return { key: `c${j}`, value: JSON.stringify({ name: `customer ${j}`, tier: j % 3 === 0 ? "gold" : "silver" }) };
}

/** Stream record `i` of the join: an order of customer `c<i × 7919 mod keys>` (every key in the table). */
export function joinInput(i: number, tableKeys: number): { key: string; value: string } {
  const key = `c${(i * 7919) % tableKeys}`;
  return { key, value: padded(`{"order":${i},"customer":"${key}","amount":${i % 500}}`) };
}

/** Orders joined with their customer's current row (inner: every order's customer is in the table). */
export function joinPipeline(name: string, orders: string, customers: string, output: string): TPipelineDefinitionInput {
  return {
    name,
    nodes: [
      { id: "orders", config: { kind: "source", topics: [orders], start: "earliest" } },
      { id: "customers", config: { kind: "table", topic: customers } },
      {
        id: "enrich",
        config: { kind: "join", type: "inner", value: '{"order": left.order, "amount": left.amount, "tier": right.tier}' },
      },
      { id: "out", config: { kind: "sink", topic: output, createTopic: { partitions: 1 } } },
    ],
    edges: [edge("orders", "enrich", "left"), edge("customers", "enrich", "right"), edge("enrich", "out")],
    settings: { commitIntervalMs: COMMIT_INTERVAL_MS },
  };
}

/**
 * A table aggregate (count per key, un-windowed) over distinct keys: its store holds one entry
 * per key. Only counts above 1 reach the sink, so building the store writes no output and a
 * key sent again (a probe) shows when the pipeline processes again.
 */
export function restorePipeline(name: string, input: string, output: string): TPipelineDefinitionInput {
  return {
    name,
    nodes: [
      { id: "events", config: { kind: "source", topics: [input], start: "earliest", valueFormat: "text" } },
      { id: "perKey", config: { kind: "aggregate", aggregations: [{ fn: "count", as: "n" }] } },
      { id: "again", config: { kind: "filter", condition: "value.n > 1" } },
      { id: "out", config: { kind: "sink", topic: output, createTopic: { partitions: 1 } } },
    ],
    edges: [edge("events", "perKey"), edge("perKey", "again"), edge("again", "out")],
    settings: { commitIntervalMs: COMMIT_INTERVAL_MS },
  };
}

/** A latency record's text value: 'k', performance.now() at the produce call, '|', padding to `RECORD_BYTES`. */
export function stampedText(): string {
  const head = `k${performance.now().toFixed(3)}|`;
  return head + "x".repeat(Math.max(0, RECORD_BYTES - head.length));
}

/** performance.now() stamped into a latency record's (mapped) value. */
export function stampOf(value: Buffer): number {
  const text = value.toString("latin1");
  return Number(text.slice(1, text.indexOf("|")));
}
