/**
 * Shared shapes for the peer benchmarks (server/bench/peers/): every peer system that a user
 * might pick instead of Tributary implements `Peer`, and `runPeers` turns what they measure
 * into `PeerFigure`s, the same shape server/bench/main.ts uses for Tributary's own figures.
 */

/** One measured number. `value` is NaN when `note` says why there is none (skipped, n/a). */
export interface PeerFigure {
  workload: string;
  system: string;
  metric: string;
  value: number;
  unit: string;
  note?: string;
}

export interface ProduceOptions {
  /** Records in total, over all producers and partitions. */
  records: number;
  /** Payload bytes per record. */
  size: number;
  /** Partitions (streams / subjects / queues / tables) to spread the records over, round-robin. */
  partitions: number;
  /** Concurrent producers, each with its own connection, each sending records / producers. */
  producers: number;
}

export interface ConsumeOptions {
  records: number;
  size: number;
  partitions: number;
}

/** A consumer group of `members` at the head of a fresh stream while `records` are produced into it. */
export interface GroupConsumeOptions {
  records: number;
  size: number;
  partitions: number;
  members: number;
}

/** Produce in transactions of `recordsPerTransaction` records, each committed before the next begins. */
export interface TransactionalProduceOptions extends ProduceOptions {
  recordsPerTransaction: number;
}

/**
 * A filter→map pipeline over a fresh input stream of `records` records (`pipelineInput`, not
 * timed): read from the start, keep the records `pipelineKeeps` (half), write `pipelineMap` of
 * each to a fresh output stream (server/bench/peers/common.ts).
 */
export interface PipelineOptions {
  records: number;
  size: number;
  partitions: number;
}

export interface LatencyOptions {
  /** Records per second, paced over `seconds`. */
  rate: number;
  seconds: number;
  size: number;
}

export interface LatencyResult {
  /** Per record: milliseconds from the produce call to receipt by the consumer. */
  latencies: number[];
  /** From the first produce call to the last receipt; records / ms tells whether the rate was kept. */
  ms: number;
}

export interface Peer {
  /** Short system name used in the table, e.g. "redis-streams". */
  name: string;
  /** Which client and which documented fast path the peer uses (printed with the table). */
  fastPath: string;
  /** True when the server answers; false makes the runner report the peer as skipped. */
  available(): Promise<boolean>;
  /** How this server makes acknowledged records durable, read from the live server where possible. */
  durability(): Promise<string>;
  /** Writes the records into fresh streams; resolves when every record is acknowledged. Setup is not timed. */
  produce(opts: ProduceOptions): Promise<{ ms: number }>;
  /** Reads from the start what the last produce wrote; null when the system has no such path. */
  consume(opts: ConsumeOptions): Promise<{ ms: number } | null>;
  /**
   * Paced produce (`rate` records/s for `seconds`, a burst about every millisecond) into a fresh
   * stream with a consumer reading it concurrently from the start. Null when the system has no
   * subscribe path.
   */
  latency(opts: LatencyOptions): Promise<LatencyResult | null>;
  /**
   * A group of consumers joined at the head of a fresh stream; then the records are produced and
   * the time runs from the first produce call until the group has received every record. Absent
   * or null: the system has no consumer-group path here (reported as n/a).
   */
  consumeGroupAtHead?(opts: GroupConsumeOptions): Promise<{ ms: number } | null>;
  /** Transactional produce (all-or-nothing per transaction); absent or null: no transactions (n/a). */
  produceTransactional?(opts: TransactionalProduceOptions): Promise<{ ms: number } | null>;
  /**
   * The filter→map pipeline: timed from the first read of the input until every output record
   * is acknowledged as the system acknowledges writes; checks that the output holds exactly the
   * kept records. Absent or null: no pipeline here (n/a).
   */
  pipeline?(opts: PipelineOptions): Promise<{ ms: number } | null>;
  /**
   * Before each latency workload: lets the server finish the background work earlier workloads
   * left (PostgreSQL: a CHECKPOINT writes out what the gigabytes of throughput runs dirtied), so
   * latency at a rate is not measured during another workload's flush. Absent: nothing to do.
   */
  settle?(): Promise<void>;
  /** Deletes every stream, queue, key or table that produce/latency created. */
  cleanup(): Promise<void>;
  /** Cleans up and closes every connection (and drops any scratch database). */
  close(): Promise<void>;
}
