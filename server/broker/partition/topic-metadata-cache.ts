/**
 * This process's copy of every topic's metadata (row, effective configs, sticky partitioner) and
 * its partition logs, loaded on first use and re-read when older than `METADATA_MAX_AGE_MS`, so
 * topics created, grown, reconfigured or deleted by another process on the same database show up.
 */
import { BrokerError, unknownPartition, unknownTopic } from "../errors.ts";
import type { BrokerEvents } from "../events.ts";
import { PartitionLog } from "../log/partition-log.ts";
import type { CacheBudget } from "../log/tail-cache.ts";
import { StickyPartitioner } from "../protocol/partitioner.ts";
import type { LogStore, PartitionRecord, TopicRecord } from "../store/log-store.ts";
import { effectiveConfigs, type TopicConfigs } from "../topic-config.ts";
import { TOPIC_NAME_MAX } from "../../schemas/limits.ts";

export interface TopicState {
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

const TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

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

export class TopicMetadataCache {
  private readonly topics = new Map<string, TopicState>();
  /** loads under way, by topic id */
  private readonly loading = new Map<string, Promise<TopicState>>();

  constructor(
    readonly store: LogStore,
    private readonly budget: CacheBudget,
    private readonly events: BrokerEvents,
  ) {}

  /** Every loaded topic (a snapshot: callers may await between topics). */
  loaded(): TopicState[] {
    return [...this.topics.values()];
  }

  has(name: string): boolean {
    return this.topics.has(name);
  }

  /**
   * The topic's state, loaded once however many requests ask at the same time: each load made
   * logs of its own, and the last one replaced the others in the cache, so a produce or a
   * long-poll that had the replaced logs in hand wrote or waited where no one looked (a
   * long-poll then waited out its time although a produce came; a page listing topics while a
   * consumer started was enough).
   */
  load(record: TopicRecord): Promise<TopicState> {
    const known = this.topics.get(record.name);
    if (known && known.record.id === record.id) return Promise.resolve(known);
    const inFlight = this.loading.get(record.id);
    if (inFlight) return inFlight;
    const loading = (async () => {
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
    })().finally(() => this.loading.delete(record.id));
    this.loading.set(record.id, loading);
    return loading;
  }

  private newLog(record: TopicRecord, partition: number, p: PartitionRecord): PartitionLog {
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
  async topic(name: string): Promise<TopicState> {
    const t = this.topics.get(name);
    if (t) return Date.now() - t.checkedAt < METADATA_MAX_AGE_MS ? t : this.reload(t);
    validateTopicName(name);
    const record = await this.store.findTopic(name);
    if (!record) throw unknownTopic(name);
    return this.topics.get(name) ?? this.load(record);
  }

  async partitionLog(topic: string, partition: number): Promise<PartitionLog> {
    let t = await this.topic(topic);
    if (!Number.isInteger(partition) || partition < 0 || partition >= t.logs.length) {
      // another process may have added partitions
      if (Number.isInteger(partition) && partition >= t.logs.length) t = await this.reload(t);
      const log = t.logs[partition];
      if (log) return log;
      throw unknownPartition(topic, partition, t.logs.length);
    }
    return t.logs[partition];
  }

  /** Re-reads a topic's row: follows partitions added, configs changed, deletion elsewhere. */
  async reload(t: TopicState): Promise<TopicState> {
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

  /** Every topic's state as the database has it now: topics of other processes appear, deleted ones go. */
  async reloadAll(): Promise<TopicState[]> {
    const records = await this.store.findTopics();
    const names = new Set(records.map((r) => r.name));
    for (const [name, t] of this.topics) {
      if (!names.has(name)) this.forget(t, name);
    }
    const out: TopicState[] = [];
    for (const r of records) {
      const known = this.topics.get(r.name);
      if (known && known.record.id !== r.id) this.forget(known, r.name);
      if (!this.topics.has(r.name)) await this.load(r);
      out.push(this.topics.get(r.name) as TopicState);
    }
    return out;
  }

  /** Closes the topic's logs (their waiters fail with UNKNOWN_TOPIC_OR_PARTITION) and drops it. */
  forget(t: TopicState, name: string): void {
    const reason = unknownTopic(name);
    for (const l of t.logs) l.close(reason);
    if (this.topics.get(name) === t) this.topics.delete(name);
    this.events.emit("topic-deleted", { topic: name });
  }

  /** Closes every log (the broker is stopping). */
  closeAll(reason: BrokerError): void {
    for (const t of this.topics.values()) for (const l of t.logs) l.close(reason);
  }
}
