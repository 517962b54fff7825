/**
 * The partition layer: everything the broker does with topics and their partition logs, in one
 * object (as Kafka's ReplicaManager is for a broker's partitions) — topic metadata and its cache,
 * produce, fetch under both isolation levels, watermarks and long-poll waits, list-offsets, and
 * the cleaner. Consumer groups and transactions sit above it and reach it through their own
 * narrow interfaces (`GroupLogAccess`, `TxnPartitionAccess`), which this object satisfies as it
 * is; it knows neither of them (a transactional produce is handed the transaction service).
 */
import { BrokerError } from "../errors.ts";
import { hasCode } from "../../errors/tributary-error.ts";
import type { BrokerEvents } from "../events.ts";
import type { ProducerDescription } from "../log/producer-state.ts";
import { CacheBudget, DEFAULT_CACHE_BYTES, DEFAULT_CACHE_PARTITION_BYTES } from "../log/tail-cache.ts";
import type { BatchToAppend, LogStore } from "../store/log-store.ts";
import { CleanerDriver, type CleanerResult } from "./cleaner-driver.ts";
import {
  fetchBatches,
  fetchRecords,
  watermarksOf,
  type BatchFetchResult,
  type FetchOptions,
  type FetchResult,
  type IsolationLevel,
  type PartitionWatermarks,
} from "./fetch.ts";
import { deleteRecords, type DeletedRecords, type DeleteRecordsTarget } from "./delete-records.ts";
import { listOffsets, type ListedOffset, type OffsetSpec } from "./list-offsets.ts";
import {
  produceBatches,
  produceRecords,
  type ProduceAs,
  type ProducedRecord,
  type ProduceRecord,
  type TransactionalAppends,
} from "./produce.ts";
import { TopicAdmin } from "./topic-admin.ts";
import { TopicMetadataCache } from "./topic-metadata-cache.ts";

export interface PartitionManagerOptions {
  /** How often the cleaner runs retention and compaction; 0 disables the timer. */
  cleanerIntervalMs?: number;
  cacheBytes?: number;
  cachePartitionBytes?: number;
}

export class PartitionManager {
  private readonly cache: TopicMetadataCache;
  /** Create, list, describe, delete, grow and reconfigure topics. */
  readonly topics: TopicAdmin;
  private readonly cleaner: CleanerDriver;

  constructor(
    private readonly store: LogStore,
    private readonly events: BrokerEvents,
    private readonly options: PartitionManagerOptions = {},
  ) {
    const budget = new CacheBudget(options.cacheBytes ?? DEFAULT_CACHE_BYTES, options.cachePartitionBytes ?? DEFAULT_CACHE_PARTITION_BYTES);
    this.cache = new TopicMetadataCache(store, budget, events);
    this.topics = new TopicAdmin(this.cache, events);
    this.cleaner = new CleanerDriver(this.cache);
  }

  // ---- lifecycle ------------------------------------------------------------------------

  /** Loads every topic's partition state. */
  async load(): Promise<void> {
    for (const t of await this.store.findTopics()) await this.cache.load(t);
  }

  startCleaner(): void {
    this.cleaner.start(this.options.cleanerIntervalMs ?? 30_000);
  }

  /** Stops the cleaner's timer (runs from now on do nothing); `cleanerIdle` waits for a run in progress. */
  stopCleaner(): void {
    this.cleaner.stop();
  }

  cleanerIdle(): Promise<void> {
    return this.cleaner.idle();
  }

  /** Closes every partition log: waiting fetches end with BROKER_NOT_AVAILABLE. */
  close(): void {
    this.cache.closeAll(new BrokerError("BROKER_NOT_AVAILABLE", "the broker is shutting down"));
  }

  // ---- topics ---------------------------------------------------------------------------

  /** Every topic's partition count, as the database has it now. */
  async topicPartitionCounts(): Promise<Map<string, number>> {
    return new Map((await this.topics.listTopics()).map((t) => [t.name, t.partitions.length]));
  }

  /** Topics created, deleted or changed (partitions, configs), by this process or found changed in the database. */
  onTopicEvent(listener: (e: { type: "created" | "deleted" | "changed"; topic: string }) => void): void {
    this.events.on("topic-created", (e) => listener({ type: "created", topic: e.topic }));
    this.events.on("topic-deleted", (e) => listener({ type: "deleted", topic: e.topic }));
    this.events.on("topic-changed", (e) => listener({ type: "changed", topic: e.topic }));
  }

  // ---- produce --------------------------------------------------------------------------

  /** `txn`: the transaction service for transactional requests, null when the broker has none. */
  async produce(
    topic: string,
    records: ProduceRecord[],
    as: ProduceAs | undefined,
    txn: TransactionalAppends | null,
    clientId?: string,
  ): Promise<ProducedRecord[]> {
    const out = await produceRecords(this.cache, topic, records, as, txn);
    const counts = new Map<number, number>();
    for (const r of out) counts.set(r.partition, (counts.get(r.partition) ?? 0) + 1);
    for (const [partition, recordCount] of counts) {
      this.events.emit("produce", {
        topic,
        partition,
        recordCount,
        producerId: as?.producerId ?? -1,
        producerEpoch: as?.producerEpoch ?? -1,
        transactional: as?.transactionalId !== undefined,
        clientId: clientId ?? null,
      });
    }
    return out;
  }

  async produceBatches(
    topic: string,
    partition: number,
    payload: Buffer,
    opts: { transactionalId?: string; clientId?: string },
    txn: TransactionalAppends | null,
  ): Promise<{ partition: number; baseOffset: number; lastOffset: number; recordCount: number }> {
    const { producer, ...range } = await produceBatches(this.cache, topic, partition, payload, opts, txn);
    this.events.emit("produce", { topic, partition, recordCount: range.recordCount, ...producer, clientId: opts.clientId ?? null });
    return range;
  }

  /** Appends a transaction marker; false when the partition no longer exists (topic deleted). */
  async appendMarker(topic: string, partition: number, batch: BatchToAppend): Promise<boolean> {
    let log;
    try {
      log = await this.cache.partitionLog(topic, partition);
    } catch (e) {
      if (hasCode(e, "UNKNOWN_TOPIC_OR_PARTITION")) return false;
      throw e;
    }
    await log.append([batch]);
    return true;
  }

  /** A producer id unique across processes (idempotent producers when the broker has no transactions). */
  nextProducerId(): Promise<number> {
    return this.store.nextProducerId();
  }

  /** Producers with state in loaded partitions (those that wrote since start-up or were read under read_committed). */
  producers(): ({ topic: string; partition: number } & ProducerDescription)[] {
    const out = [];
    for (const t of this.cache.loaded()) {
      for (const log of t.logs) {
        for (const p of log.producers()) out.push({ topic: log.topic, partition: log.partition, ...p });
      }
    }
    return out.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition || a.producerId - b.producerId));
  }

  // ---- fetch ----------------------------------------------------------------------------

  fetch(topic: string, partition: number, opts: FetchOptions): Promise<FetchResult> {
    return fetchRecords(this.cache, this.events, topic, partition, opts);
  }

  fetchBatches(topic: string, partition: number, opts: FetchOptions): Promise<BatchFetchResult> {
    return fetchBatches(this.cache, this.events, topic, partition, opts);
  }

  async watermarks(topic: string, partition: number): Promise<PartitionWatermarks> {
    return watermarksOf(await this.cache.partitionLog(topic, partition));
  }

  /** Resolves when `topic-partition` has data past `offset`, after `ms`, or on abort. */
  async waitForData(
    topic: string,
    partition: number,
    offset: number,
    ms: number,
    signal?: AbortSignal,
    isolation?: IsolationLevel,
  ): Promise<void> {
    const log = await this.cache.partitionLog(topic, partition);
    if (isolation === "read_committed") await log.txnState();
    await log.waitFor(offset, ms, signal, isolation === "read_committed");
  }

  // ---- offsets --------------------------------------------------------------------------

  listOffsets(topic: string, spec: OffsetSpec, partitions?: number[], isolation?: IsolationLevel): Promise<ListedOffset[]> {
    return listOffsets(this.cache, topic, spec, partitions, isolation);
  }

  /** First offset whose timestamp is >= ts, or null when there is none. */
  async offsetForTimestamp(topic: string, partition: number, ts: number): Promise<number | null> {
    return (await this.listOffsets(topic, { timestamp: ts }, [partition]))[0].offset;
  }

  /** Moves each partition's log start offset to `offset` (DeleteRecords); returns the new log starts. */
  deleteRecords(topic: string, targets: DeleteRecordsTarget[]): Promise<DeletedRecords[]> {
    return deleteRecords(this.cache, topic, targets);
  }

  // ---- cleaner --------------------------------------------------------------------------

  /** Runs retention and compaction over every partition once; returns what it removed. */
  runCleaner(now = Date.now()): Promise<CleanerResult> {
    return this.cleaner.run(now);
  }
}
