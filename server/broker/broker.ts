/**
 * The broker façade: one method per operation. Route handlers, WebSocket sessions, pipelines
 * and tests all go through it; it owns the in-memory partition logs and the cleaner.
 */
import { randomUUID } from "node:crypto";
import { BrokerError, isBrokerError, transactionsNotEnabled, unknownPartition, unknownTopic } from "./errors.ts";
import { hasCode } from "../errors/tributary-error.ts";
import { BrokerEvents } from "./events.ts";
import { buildBatches, validateClientBatches, type BatchProducer } from "./protocol/batch-builder.ts";
import { applyRetention, compact } from "./log/cleaner.ts";
import { PartitionLog } from "./log/partition-log.ts";
import { partitionFor, StickyPartitioner } from "./protocol/partitioner.ts";
import { decodeRecords, readBatchHeader, type FetchedRecord, type RecordHeader, type RecordInput } from "./protocol/record-batch.ts";
import { CacheBudget, DEFAULT_CACHE_BYTES, DEFAULT_CACHE_PARTITION_BYTES } from "./log/tail-cache.ts";
import type { LogStore, StoredBatch, TopicRecord } from "./store/log-store.ts";
import type { TransactionStore } from "./store/transaction-store.ts";
import { TransactionService } from "./txn/transaction-service.ts";
import type { TransactionCoordinatorConfig, TransactionDescription, TxnChangeEvent, TxnOffset } from "./txn/transaction-coordinator.ts";
import type { TxnState } from "./txn/txn-states.ts";
import type { PartitionTxnState } from "./log/partition-txn-state.ts";
import type { ProducerDescription } from "./log/producer-state.ts";
import type { GroupOffsetStore } from "./store/group-offset-store.ts";
import {
  GroupRuntime,
  type GroupLogAccess,
  type GroupPollOptions,
  type GroupSummary,
  type GroupView,
  type IsolationLevel,
  type JoinOptions,
  type PolledBatches,
  type PolledPosition,
  type PolledRecord,
} from "./group/group-runtime.ts";
import type { ResetPlanEntry, ResetTarget } from "../schemas/group.ts";
import { MAX_FETCH_BYTES, MAX_FETCH_RECORDS, MAX_PARTITIONS, MAX_WAIT_MS, TOPIC_NAME_MAX } from "../schemas/limits.ts";
import type { ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse, GroupConfig, GroupEvent } from "./group/consumer-group.ts";
import type { TopicPartitions } from "./group/topic-partitions.ts";
import { effectiveConfigs, parseConfigOverrides, type TopicConfigs } from "./topic-config.ts";

const TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

export interface BrokerOptions {
  /** Where consumer groups keep committed offsets; without it group operations are unavailable. */
  groupOffsetStore?: GroupOffsetStore;
  groupConfig?: Partial<GroupConfig>;
  /** How often group lag is sampled for its history (0: never). */
  lagSampleMs?: number;
  /** How often the cleaner runs retention and compaction; 0 disables the timer. */
  cleanerIntervalMs?: number;
  cacheBytes?: number;
  cachePartitionBytes?: number;
  /** Where the transaction coordinator keeps its state; without it only idempotent producers work. */
  transactionStore?: TransactionStore;
  txnConfig?: Partial<TransactionCoordinatorConfig>;
  /** How often transaction timeouts are checked (0: never). */
  txnCheckIntervalMs?: number;
}

/** The producer of a JSON produce request (KIP-98): one batch to one partition. */
export interface ProduceAs {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  /** Produce inside this id's transaction. */
  transactionalId?: string;
}

export interface ProduceRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeader[];
  /** CreateTime in epoch ms; defaults to now. */
  timestamp?: number;
  partition?: number;
}

export interface ProducedRecord {
  partition: number;
  offset: number;
  timestamp: number;
}

export type { FetchedRecord, TxnState };
/** A fetched batch's bytes as pieces to write in order, without a copy (the binary fetch and poll). */
export { payloadPartsOf } from "./store/log-store.ts";

// ---- group-member types: what an in-process member (the WebSocket session) exchanges with the
// group through this façade (joinGroup, heartbeatGroup, pollGroup, commitGroupOffsets, leaveGroup)
export type { ConsumerGroupHeartbeatResponse, PolledPosition, PolledRecord };

/** A new member's subscription and options (the REST join request and the WebSocket join-group frame). */
export interface GroupJoinRequest extends JoinOptions {
  /** Exactly one of topics and topicPattern. */
  topics?: readonly string[];
  /** RE2 pattern matched against whole topic names. */
  topicPattern?: string;
  clientId?: string;
  /** Server-side assignor (range, roundrobin, sticky). */
  assignor?: string;
  rebalanceTimeoutMs?: number;
}

export interface FetchOptions {
  offset: number;
  maxRecords?: number;
  maxBytes?: number;
  /** Long-poll: wait up to this long for data when there is none at `offset`. */
  waitMs?: number;
  signal?: AbortSignal;
  /** read_committed: up to the last stable offset, without aborted records (default read_uncommitted). */
  isolation?: IsolationLevel;
  /** Decoded fetches: flag records of aborted transactions (`aborted: true`), e.g. for the console. */
  markAborted?: boolean;
}

export interface PartitionWatermarks {
  topic: string;
  partition: number;
  logStartOffset: number;
  highWatermark: number;
  lastStableOffset: number;
}

export interface FetchResult extends PartitionWatermarks {
  records: FetchedRecord[];
  /** The offset to fetch next. */
  nextOffset: number;
}

export interface BatchFetchResult extends PartitionWatermarks {
  batches: StoredBatch[];
  nextOffset: number;
}

export interface PartitionDescription {
  partition: number;
  logStartOffset: number;
  highWatermark: number;
  lastStableOffset: number;
  /** Transactions open in this partition: they hold the last stable offset back. */
  openTransactions: { producerId: number; firstOffset: number; lastOffset: number }[];
  recordCount: number;
  sizeBytes: number;
}

export interface TopicDescription {
  id: string;
  name: string;
  partitions: PartitionDescription[];
  configs: TopicConfigs;
  /** Names of the configs set on the topic (the rest are defaults). */
  overrides: string[];
  createdAt: string;
  recordCount: number;
  sizeBytes: number;
}

export interface ListedOffset {
  partition: number;
  offset: number | null;
  timestamp: number | null;
}

export type OffsetSpec = "earliest" | "latest" | { timestamp: number };

interface TopicState {
  record: TopicRecord;
  configs: TopicConfigs;
  logs: PartitionLog[];
  sticky: StickyPartitioner;
  /** When this process last read the topic's row (other processes may change it). */
  checkedAt: number;
}

/**
 * How long this process trusts its copy of a topic's metadata (partition count, configs,
 * existence) before reading it again, like Kafka clients' metadata.max.age.ms: another process
 * on the same database may have grown, reconfigured or deleted the topic.
 */
const METADATA_MAX_AGE_MS = 1000;

export const DEFAULT_FETCH_MAX_BYTES = 1024 * 1024;

export function validateTopicName(name: unknown): string {
  if (typeof name !== "string" || name.length === 0) {
    throw new BrokerError("INVALID_TOPIC_EXCEPTION", "topic name must be a non-empty string");
  }
  if (name.length > TOPIC_NAME_MAX) {
    throw new BrokerError("INVALID_TOPIC_EXCEPTION", `topic name is ${name.length} characters; the limit is ${TOPIC_NAME_MAX}`);
  }
  if (name === "." || name === "..") throw new BrokerError("INVALID_TOPIC_EXCEPTION", `topic name cannot be '${name}'`);
  if (!TOPIC_NAME.test(name)) {
    throw new BrokerError(
      "INVALID_TOPIC_EXCEPTION",
      `topic name '${name}' is illegal: it may contain only ASCII letters, digits, '.', '_' and '-'`,
    );
  }
  return name;
}

function validatePartitionCount(n: unknown): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > MAX_PARTITIONS) {
    throw new BrokerError("INVALID_PARTITIONS", `partitions must be an integer from 1 to ${MAX_PARTITIONS}, got ${JSON.stringify(n)}`);
  }
  return n;
}

export class Broker {
  readonly events = new BrokerEvents();
  private topics = new Map<string, TopicState>();
  private readonly budget: CacheBudget;
  private cleanerTimer: NodeJS.Timeout | null = null;
  private cleaning: Promise<unknown> | null = null;
  private stopped = false;
  private readonly groupRuntime: GroupRuntime | null;
  private readonly txn: TransactionService | null;

  constructor(
    private readonly store: LogStore,
    private readonly options: BrokerOptions = {},
  ) {
    this.budget = new CacheBudget(options.cacheBytes ?? DEFAULT_CACHE_BYTES, options.cachePartitionBytes ?? DEFAULT_CACHE_PARTITION_BYTES);
    this.groupRuntime = options.groupOffsetStore
      ? new GroupRuntime(this.groupLogAccess(), options.groupOffsetStore, {
          config: options.groupConfig,
          lagSampleMs: options.lagSampleMs,
          onEvent: (e) => this.emitGroupEvent(e),
        })
      : null;
    const groups = this.groupRuntime;
    this.txn = options.transactionStore
      ? new TransactionService(
          options.transactionStore,
          {
            appendMarker: async (topic, partition, batch) => {
              let log: PartitionLog;
              try {
                log = await this.partitionLog(topic, partition);
              } catch (e) {
                if (hasCode(e, "UNKNOWN_TOPIC_OR_PARTITION")) return false;
                throw e;
              }
              await log.append([batch]);
              return true;
            },
          },
          groups
            ? {
                validateOffsets: (groupId, memberId, memberEpoch, offsets) =>
                  groups.validateTransactionalOffsets(groupId, memberId, memberEpoch, offsets),
                commitOffsets: (groupId, offsets) => groups.commitTransactionalOffsets(groupId, offsets),
              }
            : null,
          { config: options.txnConfig, checkIntervalMs: options.txnCheckIntervalMs, onChange: (e) => this.emitTxnEvent(e) },
        )
      : null;
    if (groups && this.txn) {
      const txn = this.txn;
      groups.pendingTxnOffsets = (groupId, topic, partition) => txn.hasPendingOffsets(groupId, topic, partition);
    }
  }

  /** Group changes as broker events (state changes stay inside the group layer). */
  private emitGroupEvent(e: GroupEvent): void {
    switch (e.type) {
      case "member-joined":
        this.events.emit("group-member-joined", { groupId: e.groupId, memberId: e.memberId });
        break;
      case "member-removed":
        if (e.reason === "left" || e.reason === "rejoined")
          this.events.emit("group-member-left", { groupId: e.groupId, memberId: e.memberId, reason: e.reason });
        else this.events.emit("group-member-fenced", { groupId: e.groupId, memberId: e.memberId, reason: e.reason });
        break;
      case "epoch-bumped":
        this.events.emit("group-epoch-bumped", { groupId: e.groupId, groupEpoch: e.groupEpoch });
        break;
      case "assignment-changed":
        this.events.emit("group-assignment-changed", {
          groupId: e.groupId,
          memberId: e.memberId,
          memberEpoch: e.memberEpoch,
          assignment: e.assignment,
          pendingRevocation: e.pendingRevocation,
        });
        break;
    }
  }

  private emitTxnEvent(e: TxnChangeEvent): void {
    const { transactionalId, producerId, producerEpoch } = e;
    if (e.type === "begun") this.events.emit("transaction-begun", { transactionalId, producerId, producerEpoch });
    else
      this.events.emit(`transaction-${e.type}`, { transactionalId, producerId, producerEpoch, reason: e.reason, partitions: e.partitions });
  }

  /** The log as consumer groups see it (the group folder does not import the façade). */
  private groupLogAccess(): GroupLogAccess {
    return {
      topicPartitionCounts: async () => new Map((await this.listTopics()).map((t) => [t.name, t.partitions.length])),
      watermarks: (topic, partition) => this.watermarksOf(topic, partition),
      fetch: (topic, partition, opts) => this.fetch(topic, partition, opts),
      fetchBatches: (topic, partition, opts) => this.fetchBatches(topic, partition, opts),
      waitForData: (topic, partition, offset, ms, signal, isolation) => this.waitForData(topic, partition, offset, ms, signal, isolation),
      offsetForTimestamp: async (topic, partition, ts) => (await this.listOffsets(topic, { timestamp: ts }, [partition]))[0].offset,
      onTopicEvent: (listener) => {
        this.events.on("topic-created", (e) => listener({ type: "created", topic: e.topic }));
        this.events.on("topic-deleted", (e) => listener({ type: "deleted", topic: e.topic }));
        this.events.on("topic-changed", (e) => listener({ type: "changed", topic: e.topic }));
      },
    };
  }

  private get groups(): GroupRuntime {
    if (!this.groupRuntime) throw new BrokerError("BROKER_NOT_AVAILABLE", "consumer groups are not enabled on this broker");
    return this.groupRuntime;
  }

  /** Loads every topic's partition state and starts the cleaner. */
  async start(): Promise<void> {
    for (const t of await this.store.findTopics()) await this.load(t);
    await this.groupRuntime?.start();
    // after the topics: recovery writes abort markers into partitions
    await this.txn?.start();
    const every = this.options.cleanerIntervalMs ?? 30_000;
    if (every > 0) {
      this.cleanerTimer = setInterval(() => {
        if (!this.cleaning) void this.runCleaner().catch(() => undefined);
      }, every);
      this.cleanerTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.cleanerTimer) clearInterval(this.cleanerTimer);
    this.groupRuntime?.stop();
    await this.txn?.stop();
    await this.cleaning?.catch(() => undefined);
    const reason = new BrokerError("BROKER_NOT_AVAILABLE", "the broker is shutting down");
    for (const t of this.topics.values()) for (const l of t.logs) l.close(reason);
  }

  private async load(record: TopicRecord): Promise<TopicState> {
    const partitions = await this.store.findPartitions(record.id);
    const state: TopicState = {
      record,
      configs: effectiveConfigs(record.configs as Partial<TopicConfigs>),
      logs: partitions.map((p) => this.newLog(record, p.partition, p)),
      sticky: new StickyPartitioner(),
      checkedAt: Date.now(),
    };
    this.topics.set(record.name, state);
    return state;
  }

  private newLog(record: TopicRecord, partition: number, p: Parameters<typeof PartitionLog.prototype.refresh>[0]): PartitionLog {
    return new PartitionLog(
      record.id,
      record.name,
      partition,
      p,
      this.store,
      this.budget,
      (range) => this.events.emit("append", { ...range }),
      () => {
        // deleted by another process: drop it so the next call loads whatever has the name now
        const t = this.topics.get(record.name);
        if (t && t.record.id === record.id) this.forget(t, record.name);
      },
    );
  }

  /** The topic, loading it from the database when another process created it. */
  private async topic(name: string): Promise<TopicState> {
    const t = this.topics.get(name);
    if (t) return Date.now() - t.checkedAt < METADATA_MAX_AGE_MS ? t : this.reloadTopic(t);
    validateTopicName(name);
    const record = await this.store.findTopic(name);
    if (!record) throw unknownTopic(name);
    return this.topics.get(name) ?? this.load(record);
  }

  private async partitionLog(topic: string, partition: number): Promise<PartitionLog> {
    let t = await this.topic(topic);
    if (!Number.isInteger(partition) || partition < 0 || partition >= t.logs.length) {
      // another process may have added partitions
      if (Number.isInteger(partition) && partition >= t.logs.length) t = await this.reloadTopic(t);
      const log = t.logs[partition];
      if (log) return log;
      throw unknownPartition(topic, partition, t.logs.length);
    }
    return t.logs[partition];
  }

  /** Re-reads a topic's row: follows partitions added, configs changed, deletion elsewhere. */
  private async reloadTopic(t: TopicState): Promise<TopicState> {
    const name = t.record.name;
    t.checkedAt = Date.now(); // first, so concurrent callers keep using `t` meanwhile
    const record = await this.store.findTopic(name);
    if (!record || record.id !== t.record.id) {
      this.forget(t, name);
      if (!record) throw unknownTopic(name);
      return this.topics.get(name) ?? this.load(record);
    }
    t.record = record;
    t.configs = effectiveConfigs(record.configs as Partial<TopicConfigs>);
    if (record.partitions > t.logs.length) {
      for (const p of await this.store.findPartitions(record.id)) {
        if (p.partition >= t.logs.length) t.logs.push(this.newLog(record, p.partition, p));
      }
    }
    return t;
  }

  // ---- topics ---------------------------------------------------------------------------

  /** Creates a topic with `partitions` empty partitions and the given config overrides. */
  async createTopic(input: { name: string; partitions?: number; configs?: Record<string, unknown> }): Promise<TopicDescription> {
    const name = validateTopicName(input.name);
    const partitions = validatePartitionCount(input.partitions ?? 1);
    const overrides = parseConfigOverrides(input.configs ?? {});
    if (this.topics.has(name)) throw new BrokerError("TOPIC_ALREADY_EXISTS", `topic '${name}' already exists`, { topic: name });
    const record: TopicRecord = { id: randomUUID(), name, partitions, configs: overrides, createdAt: new Date() };
    await this.store.createTopic(record); // TOPIC_ALREADY_EXISTS when another request created it first
    await this.load(record);
    this.events.emit("topic-created", { topic: name });
    return this.describeTopic(name);
  }

  /** Every topic (re-read from the database so topics of other processes show up). */
  async listTopics(): Promise<TopicDescription[]> {
    const records = await this.store.findTopics();
    const names = new Set(records.map((r) => r.name));
    for (const [name, t] of this.topics) {
      if (!names.has(name)) this.forget(t, name);
    }
    const out: TopicDescription[] = [];
    for (const r of records) {
      const known = this.topics.get(r.name);
      if (known && known.record.id !== r.id) this.forget(known, r.name);
      if (!this.topics.has(r.name)) await this.load(r);
      out.push(this.describe(this.topics.get(r.name) as TopicState));
    }
    return out;
  }

  async describeTopic(name: string): Promise<TopicDescription> {
    const t = await this.topic(name);
    // watermarks and counts as the database has them (other processes append and clean too)
    for (const p of await this.store.findPartitions(t.record.id)) t.logs[p.partition]?.refresh(p);
    return this.describe(t);
  }

  private describe(t: TopicState): TopicDescription {
    const partitions = t.logs.map((l) => ({
      partition: l.partition,
      logStartOffset: l.logStartOffset,
      highWatermark: l.highWatermark,
      lastStableOffset: l.lastStableOffset,
      openTransactions: l.openTransactions(),
      recordCount: l.recordCount,
      sizeBytes: l.sizeBytes,
    }));
    return {
      id: t.record.id,
      name: t.record.name,
      partitions,
      configs: t.configs,
      overrides: Object.keys(t.record.configs),
      createdAt: t.record.createdAt.toISOString(),
      recordCount: partitions.reduce((s, p) => s + p.recordCount, 0),
      sizeBytes: partitions.reduce((s, p) => s + p.sizeBytes, 0),
    };
  }

  async deleteTopic(name: string): Promise<void> {
    const t = await this.topic(name);
    await this.store.deleteTopic(t.record.id);
    this.forget(t, name);
  }

  private forget(t: TopicState, name: string): void {
    const reason = unknownTopic(name);
    for (const l of t.logs) l.close(reason);
    if (this.topics.get(name) === t) this.topics.delete(name);
    this.events.emit("topic-deleted", { topic: name });
  }

  /** Grows a topic to `partitions` partitions (Kafka never shrinks a topic). */
  async addPartitions(name: string, partitions: number): Promise<TopicDescription> {
    const t = await this.reloadTopic(await this.topic(name));
    validatePartitionCount(partitions);
    if (partitions <= t.logs.length) {
      throw new BrokerError(
        "INVALID_PARTITIONS",
        `topic '${name}' already has ${t.logs.length} partitions; the new count must be larger (partitions cannot be removed)`,
        { current: t.logs.length, requested: partitions },
      );
    }
    await this.store.addPartitions(t.record.id, t.logs.length, partitions);
    await this.reloadTopic(t);
    this.events.emit("topic-changed", { topic: name });
    return this.describe(t);
  }

  /** Sets (or with null, resets to default) topic configs; unknown names and bad values fail. */
  async updateTopicConfigs(name: string, changes: Record<string, unknown>): Promise<TopicDescription> {
    const t = await this.topic(name);
    const parsed = parseConfigOverrides(changes);
    const next: Record<string, unknown> = { ...t.record.configs, ...parsed };
    for (const [k, v] of Object.entries(changes)) if (v === null) delete next[k];
    await this.store.updateConfigs(t.record.id, next);
    t.record = { ...t.record, configs: next };
    t.configs = effectiveConfigs(next as Partial<TopicConfigs>);
    this.events.emit("topic-changed", { topic: name });
    return this.describe(t);
  }

  // ---- produce --------------------------------------------------------------------------

  /**
   * Appends records, routing each by its explicit partition, its key (murmur2) or the sticky
   * partitioner. Everything is validated before anything is written; resolves after commit.
   */
  async produce(topic: string, records: ProduceRecord[], as?: ProduceAs): Promise<ProducedRecord[]> {
    let t = await this.topic(topic);
    if (records.length === 0) throw new BrokerError("INVALID_REQUEST", "no records to produce");
    if (as?.transactionalId !== undefined && !this.txn) throw transactionsNotEnabled();
    // another process may have added partitions since this one loaded the topic
    if (records.some((r) => Number.isInteger(r.partition) && (r.partition as number) >= t.logs.length)) t = await this.reloadTopic(t);
    const now = Date.now();
    const n = t.logs.length;
    const compacted = t.configs["cleanup.policy"] !== "delete";
    const logAppend = t.configs["message.timestamp.type"] === "LogAppendTime";
    const byPartition = new Map<number, { inputs: RecordInput[]; indexes: number[] }>();
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      if (compacted && r.key === null) {
        throw new BrokerError("INVALID_RECORD", `record ${i} has no key; compacted topic '${topic}' requires a key on every record`, {
          index: i,
        });
      }
      const ts = r.timestamp ?? now;
      if (!Number.isSafeInteger(ts) || ts < 0) {
        throw new BrokerError("INVALID_TIMESTAMP", `record ${i} has invalid timestamp ${ts}: expected epoch milliseconds >= 0`, {
          index: i,
        });
      }
      const input: RecordInput = { key: r.key, value: r.value, headers: r.headers ?? [], timestamp: ts };
      let p: number;
      if (r.partition !== undefined) {
        if (!Number.isInteger(r.partition) || r.partition < 0 || r.partition >= n) throw unknownPartition(topic, r.partition, n);
        p = r.partition;
      } else {
        p = partitionFor(r.key, n, t.sticky, (r.value?.length ?? 0) + (r.key?.length ?? 0));
      }
      let group = byPartition.get(p);
      if (!group) byPartition.set(p, (group = { inputs: [], indexes: [] }));
      group.inputs.push(input);
      group.indexes.push(i);
    }
    let producer: BatchProducer | undefined;
    if (as) {
      if (byPartition.size !== 1) {
        throw new BrokerError(
          "INVALID_REQUEST",
          `a request with producerId writes one batch to one partition; these records go to partitions ${[...byPartition.keys()].sort((a, b) => a - b).join(", ")}: give each record the same 'partition' or send one request per partition`,
        );
      }
      producer = {
        producerId: as.producerId,
        producerEpoch: as.producerEpoch,
        baseSequence: as.baseSequence,
        isTransactional: as.transactionalId !== undefined,
      };
    }
    // Encode (and size-check) every partition's batches before the first append.
    const plans = [...byPartition].map(([p, g]) => ({ p, g, batches: buildBatches(g.inputs, t.configs, now, producer) }));
    const release =
      as?.transactionalId !== undefined
        ? await (this.txn as TransactionService).beginProduce(
            as.transactionalId,
            as.producerId,
            as.producerEpoch,
            plans.map(({ p }) => ({ topic, partition: p })),
          )
        : null;
    const out = new Array<ProducedRecord>(records.length);
    await Promise.all(
      plans.map(async ({ p, g, batches }) => {
        const base = await t.logs[p].append(batches).finally(() => release?.());
        for (let j = 0; j < g.indexes.length; j++) {
          out[g.indexes[j]] = { partition: p, offset: base + j, timestamp: logAppend ? now : g.inputs[j].timestamp };
        }
      }),
    );
    return out;
  }

  /**
   * Appends client-encoded RecordBatch v2 bytes (one or more batches) to one partition as they
   * are, after validation. Returns the assigned offset range.
   */
  async produceBatches(
    topic: string,
    partition: number,
    payload: Buffer,
    opts: { transactionalId?: string } = {},
  ): Promise<{ partition: number; baseOffset: number; lastOffset: number; recordCount: number }> {
    const t = await this.topic(topic);
    const log = await this.partitionLog(topic, partition);
    const { batches, recordCount } = validateClientBatches(payload, t.configs, Date.now());
    let release: (() => void) | null = null;
    const txnal = batches.filter((b) => b.isTransactional);
    if (opts.transactionalId !== undefined || txnal.length > 0) {
      if (!this.txn) throw transactionsNotEnabled();
      const first = batches[0];
      if (
        txnal.length !== batches.length ||
        batches.some((b) => b.producerId !== first.producerId || b.producerEpoch !== first.producerEpoch)
      ) {
        throw new BrokerError("INVALID_RECORD", "a transactional request holds transactional batches of one producer id and epoch only");
      }
      if (opts.transactionalId === undefined) {
        throw new BrokerError(
          "INVALID_REQUEST",
          "transactional batches need ?transactionalId=: the transactional id whose transaction they belong to",
        );
      }
      release = await this.txn.beginProduce(opts.transactionalId, first.producerId, first.producerEpoch, [{ topic, partition }]);
    }
    const base = await log.append(batches).finally(() => release?.());
    const span = batches.reduce((s, b) => s + b.lastOffsetDelta + 1, 0);
    return { partition, baseOffset: base, lastOffset: base + span - 1, recordCount };
  }

  /**
   * A new idempotent producer (KIP-98): a producer id unique across processes, epoch 0. The
   * producer numbers its batches per partition from sequence 0; retries of a batch get the
   * original offsets back, gaps and old epochs are refused.
   */
  async initProducer(
    opts: { transactionalId?: string; transactionTimeoutMs?: number } = {},
  ): Promise<{ producerId: number; producerEpoch: number }> {
    if (this.txn) return this.txn.initProducer(opts);
    if (opts.transactionalId !== undefined) throw transactionsNotEnabled();
    return { producerId: await this.store.nextProducerId(), producerEpoch: 0 };
  }

  private get transactions(): TransactionService {
    if (!this.txn) throw transactionsNotEnabled();
    return this.txn;
  }

  // ---- transactions ---------------------------------------------------------------------

  /** sendOffsetsToTransaction (KIP-447): group offsets committed with the transaction, fenced by the member. */
  addOffsetsToTransaction(
    transactionalId: string,
    req: { producerId: number; producerEpoch: number; groupId: string; memberId: string; memberEpoch: number; offsets: TxnOffset[] },
  ): Promise<{ transactionalId: string; state: TxnState }> {
    return this.transactions.addOffsets(transactionalId, req);
  }

  /** EndTxn: writes a commit or abort marker into every partition of the transaction. */
  endTransaction(transactionalId: string, producerId: number, producerEpoch: number, commit: boolean): Promise<TransactionDescription> {
    return this.transactions.endTransaction(transactionalId, producerId, producerEpoch, commit);
  }

  /** An operator's abort of an ongoing transaction (kafka-transactions.sh forceTerminate): fences its producer, writes abort markers. */
  forceAbortTransaction(transactionalId: string): Promise<TransactionDescription> {
    return this.transactions.forceAbort(transactionalId);
  }

  listTransactions(states?: readonly TxnState[]): TransactionDescription[] {
    return this.transactions.list(states);
  }

  describeTransaction(transactionalId: string): TransactionDescription {
    return this.transactions.describe(transactionalId);
  }

  /** Producers with state in loaded partitions (those that wrote since start-up or were read under read_committed). */
  listProducers(): ({ topic: string; partition: number } & ProducerDescription)[] {
    const out = [];
    for (const t of this.topics.values()) {
      for (const log of t.logs) {
        for (const p of log.producers()) out.push({ topic: log.topic, partition: log.partition, ...p });
      }
    }
    return out.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition || a.producerId - b.producerId));
  }

  // ---- fetch ----------------------------------------------------------------------------

  private async positioned(
    topic: string,
    partition: number,
    offset: number,
    waitMs: number,
    signal?: AbortSignal,
    isolation?: IsolationLevel,
  ): Promise<PartitionLog> {
    const log = await this.partitionLog(topic, partition);
    const committed = isolation === "read_committed";
    if (isolation !== undefined && isolation !== "read_committed" && isolation !== "read_uncommitted") {
      throw new BrokerError("INVALID_REQUEST", `isolation must be read_committed or read_uncommitted, got ${JSON.stringify(isolation)}`);
    }
    if (!Number.isSafeInteger(offset)) {
      throw new BrokerError("OFFSET_OUT_OF_RANGE", `offset must be an integer, got ${offset}`);
    }
    if (offset < log.logStartOffset || offset > log.highWatermark) {
      // another process may have appended or cleaned: check the database before refusing
      await log.reload();
      if (offset < log.logStartOffset || offset > log.highWatermark) {
        throw new BrokerError(
          "OFFSET_OUT_OF_RANGE",
          `offset ${offset} is out of range for ${topic}-${partition}: valid offsets are ${log.logStartOffset} (log start) to ${log.highWatermark} (high watermark)`,
          { topic, partition, offset, logStartOffset: log.logStartOffset, highWatermark: log.highWatermark },
        );
      }
    }
    if (committed) await log.txnState();
    if (offset >= log.visibleEnd(committed)) {
      if (waitMs > 0) {
        await log.waitFor(offset, Math.min(waitMs, MAX_WAIT_MS), signal, committed);
        if (log.closed) throw unknownTopic(topic);
      }
      // appends of other processes wake no local waiter: check the database before answering empty
      if (offset === log.highWatermark && !signal?.aborted) await log.reload();
      if (committed) await log.txnState();
    }
    return log;
  }

  /**
   * Stored batches from `offset` a read_committed reader may see: below the last stable offset,
   * without control batches and aborted transactions' batches. `next`: where the reader goes on
   * (past what was skipped). Reads on while everything read was skipped (bounded).
   */
  private async readCommitted(
    log: PartitionLog,
    state: PartitionTxnState,
    offset: number,
    maxBytes: number,
  ): Promise<{ batches: StoredBatch[]; next: number }> {
    const lso = log.lastStableOffset;
    let next = offset;
    for (let round = 0; round < 16 && next < lso; round++) {
      const read = await log.read(next, maxBytes);
      if (read.length === 0) break;
      const kept: StoredBatch[] = [];
      for (const b of read) {
        if (b.baseOffset >= lso) break;
        next = Math.max(next, b.lastOffset + 1);
        if (b.isControl || (b.isTransactional && state.isAborted(b.producerId, b.baseOffset))) continue;
        kept.push(b);
      }
      if (kept.length > 0) return { batches: kept, next };
    }
    return { batches: [], next };
  }

  /** Raw stored batches from `offset` (the first may start before it), for zero-copy readers. */
  async fetchBatches(topic: string, partition: number, opts: FetchOptions): Promise<BatchFetchResult> {
    const maxBytes = clampBytes(opts.maxBytes);
    const log = await this.positioned(topic, partition, opts.offset, opts.waitMs ?? 0, opts.signal, opts.isolation);
    let batches: StoredBatch[];
    let nextOffset: number;
    if (opts.isolation === "read_committed") {
      const r = await this.readCommitted(log, await log.txnState(), opts.offset, maxBytes);
      batches = r.batches;
      nextOffset = r.next;
    } else {
      batches = await log.read(opts.offset, maxBytes);
      nextOffset = batches.length ? batches[batches.length - 1].lastOffset + 1 : opts.offset;
    }
    // the store held batches another process appended: report a high watermark that covers them
    if (nextOffset > log.highWatermark) await log.reload();
    if (batches.length > 0 && this.events.listenerCount("fetch") > 0) {
      let recordCount = 0;
      let sizeBytes = 0;
      for (const b of batches) {
        recordCount += b.recordCount;
        sizeBytes += b.sizeBytes;
      }
      this.events.emit("fetch", { topic, partition, recordCount, sizeBytes });
    }
    return { ...this.watermarks(log), batches, nextOffset };
  }

  /** Decoded records from `offset`, at most maxRecords / about maxBytes (at least one record). */
  async fetch(topic: string, partition: number, opts: FetchOptions): Promise<FetchResult> {
    const maxRecords = Math.min(Math.max(1, Math.floor(opts.maxRecords ?? 500)), MAX_FETCH_RECORDS);
    const maxBytes = clampBytes(opts.maxBytes);
    const log = await this.positioned(topic, partition, opts.offset, opts.waitMs ?? 0, opts.signal, opts.isolation);
    const committed = opts.isolation === "read_committed" ? await log.txnState() : null;
    const marking = !committed && opts.markAborted ? await log.txnState() : null;
    const records: FetchedRecord[] = [];
    let offset = opts.offset;
    let bytes = 0;
    outer: while (records.length < maxRecords && offset < (committed ? log.lastStableOffset : log.highWatermark)) {
      let batches: StoredBatch[];
      if (committed) {
        const r = await this.readCommitted(log, committed, offset, maxBytes - bytes);
        batches = r.batches;
        if (batches.length === 0) offset = Math.max(offset, r.next); // all skipped: move past them
      } else {
        batches = await log.read(offset, maxBytes - bytes);
      }
      if (batches.length === 0) break;
      for (const b of batches) {
        if (b.isControl) {
          offset = b.lastOffset + 1;
          continue;
        }
        const h = readBatchHeader(b.payload);
        const aborted = marking !== null && b.isTransactional && marking.isAborted(b.producerId, b.baseOffset);
        for (const r of decodeRecords(b.payload, h)) {
          if (r.offset < offset) continue;
          const size = (r.key?.length ?? 0) + (r.value?.length ?? 0);
          if (records.length > 0 && (records.length >= maxRecords || bytes + size > maxBytes)) break outer;
          records.push(aborted ? { ...r, timestampType: h.timestampType, aborted: true } : { ...r, timestampType: h.timestampType });
          bytes += size;
          offset = r.offset + 1;
        }
        // compaction leaves gaps: continue after the batch even if its last records were removed
        if (records.length < maxRecords) offset = Math.max(offset, b.lastOffset + 1);
      }
      if (bytes >= maxBytes) break;
    }
    // the store held batches another process appended: report a high watermark that covers them
    if (offset > log.highWatermark) await log.reload();
    if (records.length > 0) this.events.emit("fetch", { topic, partition, recordCount: records.length, sizeBytes: bytes });
    return { ...this.watermarks(log), records, nextOffset: offset };
  }

  private watermarks(log: PartitionLog): PartitionWatermarks {
    return {
      topic: log.topic,
      partition: log.partition,
      logStartOffset: log.logStartOffset,
      highWatermark: log.highWatermark,
      lastStableOffset: log.lastStableOffset,
    };
  }

  async watermarksOf(topic: string, partition: number): Promise<PartitionWatermarks> {
    return this.watermarks(await this.partitionLog(topic, partition));
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
    const log = await this.partitionLog(topic, partition);
    if (isolation === "read_committed") await log.txnState();
    await log.waitFor(offset, ms, signal, isolation === "read_committed");
  }

  // ---- offsets --------------------------------------------------------------------------

  /**
   * Per partition: the log start offset (earliest), the high watermark (latest), or the first
   * offset whose timestamp is >= t (null when there is none).
   */
  async listOffsets(topic: string, spec: OffsetSpec, partitions?: number[], isolation?: IsolationLevel): Promise<ListedOffset[]> {
    const t = await this.topic(topic);
    const logs = partitions ? await Promise.all(partitions.map((p) => this.partitionLog(topic, p))) : t.logs;
    // other processes may have appended or cleaned: answer from the database's partition rows
    const rows = new Map((await this.store.findPartitions(t.record.id)).map((r) => [r.partition, r]));
    for (const log of logs) {
      const row = rows.get(log.partition);
      if (row) log.refresh(row);
    }
    return Promise.all(
      logs.map(async (log): Promise<ListedOffset> => {
        if (spec === "earliest") return { partition: log.partition, offset: log.logStartOffset, timestamp: null };
        if (spec === "latest") {
          if (isolation !== "read_committed") return { partition: log.partition, offset: log.highWatermark, timestamp: null };
          await log.txnState();
          return { partition: log.partition, offset: log.lastStableOffset, timestamp: null };
        }
        if (!Number.isSafeInteger(spec.timestamp)) {
          throw new BrokerError("INVALID_TIMESTAMP", `timestamp must be epoch milliseconds, got ${spec.timestamp}`);
        }
        return { partition: log.partition, ...(await this.offsetForTimestamp(log, spec.timestamp)) };
      }),
    );
  }

  private async offsetForTimestamp(log: PartitionLog, ts: number): Promise<{ offset: number | null; timestamp: number | null }> {
    let after = log.logStartOffset;
    for (;;) {
      const b = await this.store.findBatchForTimestamp(log.topicId, log.partition, ts, after);
      if (!b) return { offset: null, timestamp: null };
      for (const r of decodeRecords(b.payload)) {
        if (r.offset >= after && r.timestamp >= ts) return { offset: r.offset, timestamp: r.timestamp };
      }
      after = b.lastOffset + 1; // compaction removed the record that set max_timestamp
    }
  }

  // ---- cleaner --------------------------------------------------------------------------

  /** Runs retention and compaction over every partition once; returns what it removed. */
  async runCleaner(now = Date.now()): Promise<{ deletedBatches: number; compactedRecords: number }> {
    while (this.cleaning) await this.cleaning.catch(() => undefined);
    const run = (async () => {
      let deletedBatches = 0;
      let compactedRecords = 0;
      for (const t of [...this.topics.values()]) {
        for (const log of t.logs) {
          if (this.stopped || log.closed) continue;
          try {
            compactedRecords += await compact(log, this.store, t.configs, now);
            deletedBatches += await applyRetention(log, this.store, t.configs, now);
          } catch (e) {
            if (!isBrokerError(e)) console.error(`cleaner: ${log.topic}-${log.partition}:`, e);
          }
        }
      }
      return { deletedBatches, compactedRecords };
    })();
    this.cleaning = run;
    try {
      return await run;
    } finally {
      this.cleaning = null;
    }
  }

  // ---- consumer groups ------------------------------------------------------------------

  /**
   * KIP-848 ConsumerGroupHeartbeat: memberEpoch 0 joins (creating the group), -1 leaves,
   * otherwise a heartbeat listing the partitions the member still owns. The reply carries the
   * member's id, epoch, assignment and heartbeat interval.
   */
  heartbeatGroup(groupId: string, request: ConsumerGroupHeartbeatRequest, join?: JoinOptions): Promise<ConsumerGroupHeartbeatResponse> {
    return this.groups.heartbeat(groupId, request, join);
  }

  /**
   * Joins a consumer group as a new member (KIP-848: a heartbeat with memberEpoch 0), for the
   * REST API and WebSocket members alike. The reply carries the member id and first assignment.
   */
  joinGroup(groupId: string, join: GroupJoinRequest, host: string): Promise<ConsumerGroupHeartbeatResponse> {
    return this.groups.heartbeat(
      groupId,
      {
        memberEpoch: 0,
        clientId: join.clientId ?? "",
        host,
        rebalanceTimeoutMs: join.rebalanceTimeoutMs,
        subscribedTopicNames: join.topics,
        subscribedTopicRegex: join.topicPattern,
        serverAssignor: join.assignor,
      },
      { autoOffsetReset: join.autoOffsetReset, isolationLevel: join.isolationLevel },
    );
  }

  leaveGroup(groupId: string, memberId: string): void {
    this.groups.leave(groupId, memberId);
  }

  /** Records for a group member from its assigned partitions and its positions after them (long-polls up to waitMs). */
  pollGroup(
    groupId: string,
    memberId: string,
    opts: GroupPollOptions,
  ): Promise<{ records: PolledRecord[]; positions: PolledPosition[]; assignment: TopicPartitions[] }> {
    return this.groups.poll(groupId, memberId, opts);
  }

  /** As pollGroup, with each partition's stored batches as they are (the binary group poll). */
  pollGroupBatches(
    groupId: string,
    memberId: string,
    opts: GroupPollOptions,
  ): Promise<{ parts: PolledBatches[]; assignment: TopicPartitions[] }> {
    return this.groups.pollBatches(groupId, memberId, opts);
  }

  /** Commits a member's offsets (its positions when none are given), fenced by its epoch. */
  commitGroupOffsets(
    groupId: string,
    memberId: string,
    memberEpoch: number,
    offsets?: { topic: string; partition: number; offset: number; metadata?: string | null }[],
  ): Promise<{ topic: string; partition: number; offset: number }[]> {
    return this.groups.commit(groupId, memberId, memberEpoch, offsets);
  }

  listGroups(): Promise<GroupSummary[]> {
    return this.groups.listGroups();
  }

  describeGroup(groupId: string): Promise<GroupView> {
    return this.groups.describeGroup(groupId);
  }

  deleteGroup(groupId: string): Promise<void> {
    return this.groups.deleteGroup(groupId);
  }

  resetGroupOffsets(
    groupId: string,
    target: ResetTarget,
    opts: { topics?: { topic: string; partitions?: number[] }[]; dryRun: boolean },
  ): Promise<{ dryRun: boolean; plan: ResetPlanEntry[] }> {
    return this.groups.resetOffsets(groupId, target, opts);
  }

  deleteGroupOffsets(groupId: string, topic: string): Promise<number> {
    return this.groups.deleteOffsets(groupId, topic);
  }
}

function clampBytes(maxBytes: number | undefined): number {
  const n = maxBytes ?? DEFAULT_FETCH_MAX_BYTES;
  if (!Number.isFinite(n) || n < 1) throw new BrokerError("INVALID_REQUEST", `maxBytes must be a positive integer, got ${maxBytes}`);
  return Math.min(Math.floor(n), MAX_FETCH_BYTES);
}
