/**
 * One task of a running pipeline: the topology for one partition number of its (co-partitioned)
 * inputs, with its own transactional producer (`pipeline-<name>-<partition>`) and its state.
 *
 * Every unit of work — one batch of input records, or one tick of the clock that closes windows
 * on idle inputs — is one transaction holding everything it caused: the sink records, the dead
 * letters, each changed state key (the latest value or a tombstone) and the watermark in the
 * changelog, and the task's input positions as the group's offsets (KIP-447). So after any
 * crash every input record has affected outputs and state exactly once: a read_committed reader
 * sees the outputs of committed units only, and the next owner of the partition resumes from the
 * committed offsets with the state restored from the committed changelog. A unit that fails is
 * aborted and the task discarded; the caller opens it again (state read back) and the input is
 * delivered again.
 */
import type { RecordHeader } from "../../broker/protocol/record-batch.ts";
import type { GroupMetadata, Message, Producer, ProducerRecord } from "../../client/index.ts";
import { PartitionReader } from "../../client/index.ts";
import { decode, encode, type RecordFormat, type StreamRecord } from "../record.ts";
import { decodeState, encodeState } from "../state/state-codec.ts";
import type { StateStore } from "../state/state-store.ts";
import type { Topology } from "../topology.ts";

/** The changelog key holding the task's committed watermark. */
const WATERMARK_KEY = "__watermark";

/** Which input node(s) read a topic, and in which formats. */
export interface InputBinding {
  node: string;
  keyFormat: RecordFormat;
  valueFormat: RecordFormat;
}

export interface TaskContext {
  baseUrl: string;
  /** internal topic of the pipeline's state: one partition per task */
  changelogTopic: string;
  deadLetterTopic: string | null;
  /** topic → the nodes reading it */
  inputs: ReadonlyMap<string, readonly InputBinding[]>;
  /** the group member's identity, for offsets sent to the transaction */
  groupMetadata(): GroupMetadata;
}

export interface TaskCounters {
  recordsIn: number;
  recordsOut: number;
  deadLetters: number;
  commits: number;
  lastCommitMs: number;
}

const text = (s: string) => Buffer.from(s, "utf8");

function headersOf(h: Record<string, string>): RecordHeader[] {
  return Object.entries(h).map(([key, value]) => ({ key, value: text(value) }));
}

export class StreamTask {
  /** next offset to read per input topic (this task's partition of each) */
  private readonly positions = new Map<string, number>();
  readonly counters: TaskCounters = { recordsIn: 0, recordsOut: 0, deadLetters: 0, commits: 0, lastCommitMs: 0 };
  /** the topology's stores by `node/store` (fixed for its life) */
  private readonly stores: ReadonlyMap<string, StateStore<unknown>>;

  private constructor(
    readonly partition: number,
    private readonly topology: Topology,
    private readonly producer: Producer,
    private readonly ctx: TaskContext,
  ) {
    this.stores = topology.stores();
  }

  /**
   * Opens the task: fences any older instance of it (initTransactions aborts what that one left
   * open), then reads its changelog partition back to the end (read_committed) into the stores.
   */
  static async open(partition: number, topology: Topology, producer: Producer, ctx: TaskContext): Promise<StreamTask> {
    await producer.initTransactions();
    const stores = topology.stores();
    let watermark = Number.NEGATIVE_INFINITY;
    const reader = new PartitionReader(ctx.baseUrl, ctx.changelogTopic, partition, 0, "read_committed");
    for (;;) {
      const batch = await reader.fetch();
      for (const r of batch.records) {
        const key = r.key?.toString("utf8") ?? "";
        if (key === WATERMARK_KEY) {
          if (r.value) watermark = Number(decodeState(r.value));
          continue;
        }
        const first = key.indexOf("/");
        const second = key.indexOf("/", first + 1);
        const store = stores.get(key.slice(0, second));
        if (!store) continue; // a node the pipeline no longer has
        store.restore(key.slice(second + 1), r.value ? decodeState(r.value) : undefined);
      }
      if (batch.records.length === 0 && reader.offset >= batch.lastStableOffset) break;
    }
    topology.restored(watermark);
    return new StreamTask(partition, topology, producer, ctx);
  }

  /** One polled batch of `topic` (this task's partition): processed and committed as one transaction. */
  async processBatch(topic: string, messages: readonly Message[], nextOffset: number, now = Date.now()): Promise<void> {
    const bindings = this.ctx.inputs.get(topic) ?? [];
    for (const m of messages) {
      for (const b of bindings) {
        const origin = { topic, partition: m.partition, offset: m.offset };
        let r: StreamRecord;
        try {
          r = {
            key: decode(m.key, b.keyFormat, "key"),
            value: decode(m.value, b.valueFormat, "value"),
            headers: Object.fromEntries(m.headers.map((h) => [h.key, h.value?.toString("utf8") ?? ""])),
            timestamp: m.timestamp,
            origin,
          };
        } catch (e) {
          this.topology.rejectInput(b.node, { key: m.key, value: m.value, headers: {}, timestamp: m.timestamp, origin }, e as Error);
          continue;
        }
        this.topology.process(b.node, r, now);
      }
    }
    this.counters.recordsIn += messages.length;
    this.positions.set(topic, nextOffset);
    await this.commit();
  }

  /**
   * The clock moved: windows whose end the idle inputs' watermark passed close and emit;
   * committed only if something came of it (outputs, dead letters, state dropped). A watermark
   * that merely moved is written with the next commit: idle inputs cost no transaction a tick.
   */
  async tick(now = Date.now()): Promise<void> {
    this.topology.advance(now);
    const stateChanged = [...this.stores.values()].some((s) => s.changed);
    if (!this.topology.pending && !stateChanged) return;
    await this.commit();
  }

  private async commit(): Promise<void> {
    const started = performance.now();
    const { outputs, deadLetters } = this.topology.drain();
    const changes: ProducerRecord[] = [];
    for (const [name, store] of this.stores) {
      for (const [key, value] of store.takeChanges()) {
        changes.push({ key: `${name}/${key}`, value: value === undefined ? null : encodeState(value), partition: this.partition });
      }
    }
    if (this.topology.watermark > Number.NEGATIVE_INFINITY)
      changes.push({ key: WATERMARK_KEY, value: encodeState(this.topology.watermark), partition: this.partition });

    await this.producer.beginTransaction();
    try {
      const byTopic = new Map<string, ProducerRecord[]>();
      const add = (topic: string, r: ProducerRecord) => {
        const list = byTopic.get(topic);
        if (list) list.push(r);
        else byTopic.set(topic, [r]);
      };
      for (const o of outputs) {
        const key = encode(o.record.key);
        add(o.topic, {
          key: key === null ? null : Buffer.from(key),
          value: ((v) => (v === null ? null : Buffer.from(v)))(encode(o.record.value)),
          headers: headersOf(o.record.headers),
          timestamp: o.record.timestamp,
          // partitioned by key (Kafka's partitioner) unless the sink says otherwise
          ...(o.partitionByKey || key === null ? {} : { partition: this.partition }),
        });
      }
      if (this.ctx.deadLetterTopic) {
        for (const d of deadLetters) {
          const key = d.record.key instanceof Uint8Array ? d.record.key : encode(d.record.key);
          const value = d.record.value instanceof Uint8Array ? d.record.value : encode(d.record.value);
          add(this.ctx.deadLetterTopic, {
            key: key === null ? null : Buffer.from(key),
            value: value === null ? null : Buffer.from(value),
            headers: headersOf({
              "tributary.error": d.error,
              "tributary.node": d.node,
              "tributary.topic": d.record.origin.topic,
              "tributary.partition": String(d.record.origin.partition),
              "tributary.offset": String(d.record.origin.offset),
            }),
            timestamp: d.record.timestamp,
          });
        }
      }
      for (const c of changes) add(this.ctx.changelogTopic, c);
      await Promise.all([...byTopic].map(([topic, records]) => this.producer.sendMany(topic, records)));
      if (this.positions.size > 0) {
        await this.producer.sendOffsetsToTransaction({
          ...this.ctx.groupMetadata(),
          offsets: [...this.positions].map(([topic, offset]) => ({ topic, partition: this.partition, offset })),
        });
      }
      await this.producer.commitTransaction();
    } catch (e) {
      await this.producer.abortTransaction().catch(() => undefined);
      throw e;
    }
    this.counters.recordsOut += outputs.length;
    this.counters.deadLetters += deadLetters.length;
    this.counters.commits++;
    this.counters.lastCommitMs = performance.now() - started;
  }
}
