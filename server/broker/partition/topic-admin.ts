/**
 * Topic administration over the metadata cache: create, list, describe, delete, add partitions,
 * change configs. Every change is written to the store first, then to the cache, then announced.
 */
import { randomUUID } from "node:crypto";
import { BrokerError } from "../errors.ts";
import type { BrokerEvents } from "../events.ts";
import type { TopicRecord } from "../store/log-store.ts";
import { effectiveConfigs, parseConfigOverrides, type TopicConfigs } from "../topic-config.ts";
import { MAX_PARTITIONS } from "../../schemas/limits.ts";
import { validateTopicName, type TopicMetadataCache, type TopicState } from "./topic-metadata-cache.ts";

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

function validatePartitionCount(n: unknown): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > MAX_PARTITIONS) {
    throw new BrokerError("INVALID_PARTITIONS", `partitions must be an integer from 1 to ${MAX_PARTITIONS}, got ${JSON.stringify(n)}`);
  }
  return n;
}

export class TopicAdmin {
  constructor(
    private readonly cache: TopicMetadataCache,
    private readonly events: BrokerEvents,
  ) {}

  /** Creates a topic with `partitions` empty partitions and the given config overrides. */
  async createTopic(input: { name: string; partitions?: number; configs?: Record<string, unknown> }): Promise<TopicDescription> {
    const name = validateTopicName(input.name);
    const partitions = validatePartitionCount(input.partitions ?? 1);
    const overrides = parseConfigOverrides(input.configs ?? {});
    if (this.cache.has(name)) throw new BrokerError("TOPIC_ALREADY_EXISTS", `topic '${name}' already exists`, { topic: name });
    const record: TopicRecord = { id: randomUUID(), name, partitions, configs: overrides, createdAt: new Date() };
    await this.cache.store.createTopic(record); // TOPIC_ALREADY_EXISTS when another request created it first
    await this.cache.load(record);
    this.events.emit("topic-created", { topic: name });
    return this.describeTopic(name);
  }

  /** Every topic (re-read from the database so topics of other processes show up). */
  async listTopics(): Promise<TopicDescription[]> {
    return (await this.cache.reloadAll()).map(describe);
  }

  async describeTopic(name: string): Promise<TopicDescription> {
    const t = await this.cache.topic(name);
    // watermarks and counts as the database has them (other processes append and clean too)
    for (const p of await this.cache.store.findPartitions(t.record.id)) t.logs[p.partition]?.refresh(p);
    return describe(t);
  }

  async deleteTopic(name: string): Promise<void> {
    const t = await this.cache.topic(name);
    await this.cache.store.deleteTopic(t.record.id);
    this.cache.forget(t, name);
  }

  /** Grows a topic to `partitions` partitions (Kafka never shrinks a topic). */
  async addPartitions(name: string, partitions: number): Promise<TopicDescription> {
    const t = await this.cache.reload(await this.cache.topic(name));
    validatePartitionCount(partitions);
    if (partitions <= t.logs.length) {
      throw new BrokerError(
        "INVALID_PARTITIONS",
        `topic '${name}' already has ${t.logs.length} partitions; the new count must be larger (partitions cannot be removed)`,
        { current: t.logs.length, requested: partitions },
      );
    }
    await this.cache.store.addPartitions(t.record.id, t.logs.length, partitions);
    await this.cache.reload(t);
    this.events.emit("topic-changed", { topic: name });
    return describe(t);
  }

  /** Sets (or with null, resets to default) topic configs; unknown names and bad values fail. */
  async updateTopicConfigs(name: string, changes: Record<string, unknown>): Promise<TopicDescription> {
    const t = await this.cache.topic(name);
    const parsed = parseConfigOverrides(changes);
    const next: Record<string, unknown> = { ...t.record.configs, ...parsed };
    for (const [k, v] of Object.entries(changes)) if (v === null) delete next[k];
    await this.cache.store.updateConfigs(t.record.id, next);
    t.record = { ...t.record, configs: next };
    t.configs = effectiveConfigs(next as Partial<TopicConfigs>);
    this.events.emit("topic-changed", { topic: name });
    return describe(t);
  }
}

function describe(t: TopicState): TopicDescription {
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
