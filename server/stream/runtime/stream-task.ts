/**
 * One task of a running pipeline: the topology for one partition number of its (co-partitioned)
 * inputs, with its own transactional producer (`pipeline-<name>-<partition>`) and its state.
 *
 * Records are processed as their batches arrive; everything processed since the last commit
 * goes out as one transaction, one at a time: a transaction begins as soon as the one before
 * ended, so what arrives meanwhile (other inputs' batches, clock ticks) joins the next one. (A
 * minimum spacing of `commit.interval.ms`, as Kafka Streams has, only slows a task here, since
 * its batches wait for their transaction; the interval is the clock's tick.) The transaction
 * holds the sink records and repartitioned records, the dead letters, each
 * changed state key — only its latest value (or a tombstone): the store's pending changes are
 * the record cache that collapses updates of one key between commits — the watermark, and the
 * task's input positions as the group's offsets (KIP-447). A batch's `processBatch` resolves
 * when the transaction holding it committed, so the consumer moves past a batch only once it is
 * committed. After any crash every input record has affected outputs and state exactly once: a
 * read_committed reader sees the outputs of committed transactions only, and the next owner of
 * the partition resumes from the committed offsets with the state restored from the committed
 * changelog. A transaction that fails is aborted and the task refuses all further work: every
 * batch it held is rejected, the caller opens the task again (state read back) and the consumer
 * delivers those batches again.
 */
import type { RecordHeader } from "../../broker/protocol/record-batch.ts";
import type { ClientTransport, GroupMetadata, Message, Producer, ProducerRecord } from "../../client/index.ts";
import { bytesOfMessage, PartitionReader, StoredMessage } from "../../client/index.ts";
import { decode, decodeRange, encode, encodeForProducer, type RecordFormat, type StreamRecord } from "../record.ts";
import { isJsonText } from "../json-text.ts";
import { ChangelogRestore, UPSTREAM_KEY, WATERMARK_KEY } from "../state/changelog-restore.ts";
import { decodeState, encodeState } from "../state/state-codec.ts";
import type { SinkOutput } from "../topology.ts";
import type { StateStore } from "../state/state-store.ts";
import type { Topology } from "../topology.ts";
import type { LagReading, PipelineMetrics } from "./pipeline-metrics.ts";

/**
 * Bytes of one changelog read while restoring: as fast as 8 MiB over a pipeline thread's port
 * (which copies each read across), with less in flight (1,000,000 keys, two runs each).
 */
const CHANGELOG_FETCH_BYTES = 2 * 1024 * 1024;
/** Headers of a watermark announcement on a repartition topic (no key, no value). */
const WATERMARK_HEADER = "tributary.watermark";
const TASK_HEADER = "tributary.task";
const IDLE_HEADER = "tributary.idle";
/** A busy task whose records all stay (filtered out) announces its watermark at most this often. */
const ANNOUNCE_EVERY_MS = 1000;
/** An input without records this long (pipeline clock) is looked at: lagging, or caught up? (idle timeouts are ≥ 100 ms) */
const QUIET_MS = 50;
/** A caught-up input's end is looked at again this often (wall clock): records may have come since. */
const LOOK_AGAIN_MS = 1000;

/** Which input node(s) read a topic, and in which formats. */
export interface InputBinding {
  /** the source or table node, or a repartition input's entry */
  node: string;
  keyFormat: RecordFormat;
  valueFormat: RecordFormat;
  /** a repartition topic: values hold `{k, v}` in the state codec, which keeps CEL's types */
  repartition?: true;
  /** no node reads the values (`valueUnread` in sources.ts): JSON values are checked, not decoded, and null */
  valueUnread?: true;
}

export interface TaskContext {
  /** how the client reaches the broker (its changelog is read back through it) */
  transport: ClientTransport;
  /** internal topic of the pipeline's state: one partition per task */
  changelogTopic: string;
  deadLetterTopic: string | null;
  /** topic → the nodes reading it */
  inputs: ReadonlyMap<string, readonly InputBinding[]>;
  /** the group member's identity, for offsets sent to the transaction */
  groupMetadata(): GroupMetadata;
  /** the repartition topics this pipeline writes, and their partition count */
  repartitionTopics: readonly string[];
  partitions: number;
  /** where each committed transaction's counts go */
  metrics?: PipelineMetrics;
  /**
   * The inputs' ends from a look requested at or after `since` (`Date.now()` ms), or null while
   * there is none (one is started). Without it an input idles on silence alone.
   */
  inputEnds?(since: number): LagReading | null;
  /** the pipeline's wall clock (default `Date.now`) */
  clock?: () => number;
}

export interface TaskCounters {
  recordsIn: number;
  recordsOut: number;
  deadLetters: number;
  commits: number;
  lastCommitMs: number;
}

/** Writing a transaction's records to `topic` failed (the runtime names the node that writes it). */
export class TopicWriteError extends Error {
  constructor(
    readonly topic: string,
    readonly cause: Error,
  ) {
    super(`writing to '${topic}': ${cause.message}`);
    this.name = "TopicWriteError";
  }
}

const writeFailed = (topic: string) => (e: Error) => {
  throw new TopicWriteError(topic, e);
};

const text = (s: string) => Buffer.from(s, "utf8");

/** A record without headers: one shared object (nothing writes into a record's headers). */
const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;

const NO_RECORD_HEADERS: readonly RecordHeader[] = Object.freeze([]);

function headersOf(h: Record<string, string>): RecordHeader[] {
  // the producer only reads a record's headers
  if (h === NO_HEADERS) return NO_RECORD_HEADERS as RecordHeader[];
  return Object.entries(h).map(([key, value]) => ({ key, value: text(value) }));
}

/** Bytes as a Buffer for the producer: a view of the same memory, never a copy (the producer copies them into its batch). */
const bytesOrNull = (v: Uint8Array | null) =>
  v === null ? null : Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);

function headersOfMessage(m: Message): Record<string, string> {
  if (m.headers.length === 0) return NO_HEADERS;
  const out: Record<string, string> = {};
  for (const h of m.headers) out[h.key] = h.value?.toString("utf8") ?? "";
  return out;
}

/** A fetched record's key as the pipeline sees it: read from its stored batch by range when it is a `StoredMessage` (no view made). */
const decodeKey = (m: Message, format: RecordFormat): unknown =>
  m instanceof StoredMessage ? decodeRange(m.batch, m.keyStart, m.keyLength, format, "key") : decode(m.key, format, "key");

/** A fetched record's value as the pipeline sees it (as `decodeKey`). */
const decodeValue = (m: Message, format: RecordFormat): unknown =>
  m instanceof StoredMessage ? decodeRange(m.batch, m.valueStart, m.valueLength, format, "value") : decode(m.value, format, "value");

/**
 * A JSON value no node reads (`InputBinding.valueUnread`): null once its bytes are seen to be
 * JSON; if they are not, `decode`'s DecodeError (the same dead letter a decoded value makes).
 */
function unreadValue(m: Message): null {
  if (m instanceof StoredMessage) {
    if (m.valueLength >= 0 && !isJsonText(m.batch, m.valueStart, m.valueStart + m.valueLength)) decodeValue(m, "json");
  } else if (m.value !== null && !isJsonText(m.value, 0, m.value.length)) decodeValue(m, "json");
  return null;
}

/** A sink's record, or a record crossing a repartition topic (its key and value kept exactly). */
function outputRecord(o: SinkOutput, partition: number): ProducerRecord {
  const key = bytesOrNull(encode(o.record.key));
  // one shape for every output (no spread of a partition object per record); by key (Kafka's
  // partitioner) unless the sink says otherwise; a repartitioned record without a key goes to
  // partition 0, so all of them meet in one task as records of one key do
  return {
    key,
    value: o.repartition ? encodeState({ k: o.record.key, v: o.record.value }) : encodeForProducer(o.record.value),
    headers: headersOf(o.record.headers),
    timestamp: o.record.timestamp,
    partition: o.repartition ? (key === null ? 0 : undefined) : o.partitionByKey ? undefined : partition,
  };
}

/** The node of the store holding the most keys (`node/store` names): the one a state limit blames. */
function largestStoreNode(stores: ReadonlyMap<string, StateStore<unknown>>): string {
  let largest: [string, number] = ["", -1];
  for (const [name, store] of stores) if (store.size > largest[1]) largest = [name, store.size];
  return largest[0].slice(0, largest[0].indexOf("/"));
}

/**
 * Outputs (sink and repartitioned records, dead letters) and changed state keys a transaction
 * holds at most: a task past it commits what it processed so far before going on with the batch,
 * so a pipeline that multiplies its records (a flatMap of 1,000 per record over a batch of 2,000,
 * a hopping window updating 60 windows per record) holds a bounded number in memory instead of
 * running the heap out. Batches stay far below it otherwise (the stateless benchmark's hold ~25,000).
 */
export const MAX_PENDING_OUTPUTS = 50_000;
/**
 * Input bytes (keys and values) a transaction holds the effects of at most, bounded the same
 * way: records passed through whole (large JSON documents decoded on the heap) stay bounded in
 * bytes, not only in number.
 */
export const MAX_PENDING_INPUT_BYTES = 16 * 1024 * 1024;
/**
 * Bytes of outputs (keys, values, headers, encoded as they are written) a transaction holds at
 * most: an expression can make each output far larger than its input (a map copying a 1 KiB
 * field 64 times), so the input's bytes bound nothing there. Outputs are encoded as each record
 * is processed, not at the commit, so their bytes are known when the bound is checked.
 */
export const MAX_PENDING_OUTPUT_BYTES = 16 * 1024 * 1024;

/** Bytes of a key or value given as a Buffer or as text (UTF-8). */
const lengthOf = (v: Buffer | string | null | undefined) =>
  v == null ? 0 : typeof v === "string" ? Buffer.byteLength(v, "utf8") : v.length;

/** What one output record weighs in a transaction: its key, value and headers. */
function recordBytes(r: ProducerRecord): number {
  let n = lengthOf(r.key) + lengthOf(r.value);
  const hs = r.headers;
  if (hs) for (let i = 0; i < hs.length; i++) n += hs[i].key.length + (hs[i].value?.length ?? 0);
  return n;
}

/** Resolves once the work queued now (promise callbacks, I/O callbacks) ran. */
const afterPendingWork = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Callers of one transaction-to-be, settled when it committed or failed. */
interface Waiter {
  resolve(): void;
  reject(e: Error): void;
}

export class StreamTask {
  /** next offset to read per input topic (this task's partition of each) */
  private readonly positions = new Map<string, number>();
  readonly counters: TaskCounters = { recordsIn: 0, recordsOut: 0, deadLetters: 0, commits: 0, lastCommitMs: 0 };
  /** the topology's stores by `node/store` (fixed for its life) */
  private readonly stores: ReadonlyMap<string, StateStore<unknown>>;
  private readonly storeList: readonly StateStore<unknown>[];
  /** callers whose work the next transaction holds */
  private waiters: Waiter[] = [];
  /**
   * Set while a batch waits midway for a commit (it passed MAX_PENDING_OUTPUTS): the batches
   * handed over meanwhile, run in order once it went on to its end.
   */
  private held: (() => void)[] | null = null;
  /** the batch being processed stopped midway (set by `process`, looked at by `continueAfterCommit`) */
  private midway = false;
  /** input bytes processed since the last transaction began */
  private pendingBytes = 0;
  /**
   * The outputs processed since the last transaction began, taken from the topology and encoded,
   * by topic (in the order they were emitted); how many, their bytes, and whether any goes to a
   * repartition topic.
   */
  private encoded = new Map<string, ProducerRecord[]>();
  private encodedCount = 0;
  private encodedBytes = 0;
  private encodedRekeyed = false;
  /** the next transaction, scheduled but not begun */
  private scheduled: NodeJS.Timeout | null = null;
  /** transactions run one after another */
  private chain: Promise<void> = Promise.resolve();
  private lastCommitAt = Number.NEGATIVE_INFINITY;
  /** a transaction failed: the task's state may hold what was never committed; it takes no more work */
  private broken: Error | null = null;
  /** the sources' watermark last announced on the repartition topics */
  private announced = Number.NEGATIVE_INFINITY;
  private announcedAt = Number.NEGATIVE_INFINITY;
  /** the last announcement said the task's sources are idle */
  private announcedIdle = false;
  /** positions moved past announcements only: committed with the next transaction, not one of their own */
  private lazyPositions = false;
  /** per input topic: when its last records were processed, by the pipeline's clock and by `Date.now()` */
  private readonly lastRead = new Map<string, { now: number; wall: number }>();
  private readonly openedAt: { now: number; wall: number };

  /** The changed keys of all the stores: what the next commit writes to the changelog. */
  private changedKeys(): number {
    let n = 0;
    for (const s of this.storeList) n += s.changedCount;
    return n;
  }

  private constructor(
    readonly partition: number,
    private readonly topology: Topology,
    private readonly producer: Producer,
    private readonly ctx: TaskContext,
  ) {
    this.stores = topology.stores();
    this.storeList = [...this.stores.values()];
    this.openedAt = { now: this.now(), wall: Date.now() };
    ctx.metrics?.opened(partition, topology);
  }

  private now(): number {
    return this.ctx.clock?.() ?? Date.now();
  }

  /**
   * Opens the task: fences any older instance of it (initTransactions aborts what that one left
   * open), then reads its changelog partition back to the end (read_committed) into the stores.
   */
  static async open(partition: number, topology: Topology, producer: Producer, ctx: TaskContext): Promise<StreamTask> {
    await producer.initTransactions();
    const reader = new PartitionReader(ctx.transport, ctx.changelogTopic, partition, 0, "read_committed");
    const stores = topology.stores();
    // bounded as it is read: a state past the task's limits fails the pipeline (naming the node)
    // before it fills the heap, so a server restarting with it does not die again and again;
    // values stay packed as the changelog bytes they are until first used
    const restore = new ChangelogRestore(stores, topology.stateBudget);
    for (;;) {
      const { count, lastStableOffset } = await reader.poll(restore.visit, CHANGELOG_FETCH_BYTES);
      if (restore.takeRestored()) topology.stateBudget.checkBytes(largestStoreNode(stores));
      if (count === 0 && reader.offset >= lastStableOffset) break;
    }
    topology.restored(restore.watermark, restore.upstream, ctx.clock?.() ?? Date.now());
    if (ctx.inputEnds) topology.confirmIdle();
    topology.expect(partition, ctx.partitions, ctx.clock?.() ?? Date.now());
    return new StreamTask(partition, topology, producer, ctx);
  }

  /**
   * One polled batch of `topic` (this task's partition): processed now, and resolved once the
   * transaction holding its effects and its position committed (rejected if that failed).
   */
  processBatch(topic: string, messages: readonly Message[], nextOffset: number, now = this.now()): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    const held = this.held;
    if (held)
      return new Promise<void>((resolve, reject) => held.push(() => this.processBatch(topic, messages, nextOffset).then(resolve, reject)));
    if (messages.length > 0) this.lastRead.set(topic, { now, wall: Date.now() });
    return this.processFrom(topic, messages, 0, nextOffset, now);
  }

  private processFrom(topic: string, messages: readonly Message[], from: number, nextOffset: number, now: number): Promise<void> {
    try {
      return this.process(topic, messages, from, nextOffset, now);
    } catch (e) {
      // not a record's failure (those are dead letters) but the task's (its state limit): what
      // this batch did so far must never commit, so the task takes no more work
      this.broken ??= e as Error;
      for (const w of this.waiters.splice(0)) w.reject(this.broken);
      this.releaseHeld();
      return Promise.reject(this.broken);
    }
  }

  /**
   * The batch passed MAX_PENDING_OUTPUTS before its record `at`: what it did so far commits
   * (with the position of that record), then it goes on from there; batches handed over
   * meanwhile wait their turn.
   */
  private continueAfterCommit(topic: string, messages: readonly Message[], at: number, nextOffset: number): Promise<void> {
    this.held ??= [];
    this.midway = true;
    return this.commitSoon().then(
      () => {
        this.midway = false;
        const rest = this.broken ? Promise.reject(this.broken) : this.processFrom(topic, messages, at, nextOffset, this.now());
        if (!this.midway) this.releaseHeld();
        return rest;
      },
      (e: Error) => {
        this.midway = false;
        this.releaseHeld();
        throw e;
      },
    );
  }

  /** The batches held while one went midway run now, in order (the task may be broken: they are refused). */
  private releaseHeld(): void {
    const held = this.held;
    this.held = null;
    for (const run of held ?? []) run();
  }

  private process(topic: string, messages: readonly Message[], from: number, nextOffset: number, now: number): Promise<void> {
    const bindings = this.ctx.inputs.get(topic) ?? [];
    let records = 0;
    for (let i = from; i < messages.length; i++) {
      if (
        i > from &&
        (this.topology.pendingCount + this.encodedCount + this.changedKeys() >= MAX_PENDING_OUTPUTS ||
          this.pendingBytes >= MAX_PENDING_INPUT_BYTES ||
          this.takeOutputs() >= MAX_PENDING_OUTPUT_BYTES)
      ) {
        this.counters.recordsIn += records;
        this.positions.set(topic, messages[i].offset);
        return this.continueAfterCommit(topic, messages, i, nextOffset);
      }
      const m = messages[i];
      this.pendingBytes += bytesOfMessage(m);
      for (const b of bindings) {
        const origin = { topic, partition: m.partition, offset: m.offset };
        let r: StreamRecord;
        try {
          const headers = headersOfMessage(m);
          if (b.repartition && headers[WATERMARK_HEADER] !== undefined) {
            const idle = headers[IDLE_HEADER] === "true";
            this.topology.observeUpstream(b.node, Number(headers[TASK_HEADER]), Number(headers[WATERMARK_HEADER]), idle, now);
            continue;
          }
          records++;
          if (b.repartition) {
            const kv = m.value ? (decodeState(m.value) as { k: unknown; v: unknown }) : { k: null, v: null };
            r = { key: kv.k, value: kv.v, headers, timestamp: m.timestamp, origin };
          } else
            r = {
              key: decodeKey(m, b.keyFormat),
              value: b.valueUnread ? unreadValue(m) : decodeValue(m, b.valueFormat),
              headers,
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
    this.counters.recordsIn += records;
    this.positions.set(topic, nextOffset);
    if (records === 0 && !this.pending && ![...this.stores.values()].some((s) => s.changed)) {
      // only upstream watermarks, which closed nothing: replaying them is harmless, so they wait for the next transaction
      this.lazyPositions = true;
      return Promise.resolve();
    }
    return this.commitSoon();
  }

  /**
   * The clock moved: windows whose end the idle inputs' watermark passed close and emit;
   * committed only if something came of it (outputs, dead letters, state dropped). A watermark
   * that merely moved is written with the next commit: idle inputs cost no transaction a tick.
   */
  tick(now = this.now()): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    this.lookAtEnds(now);
    this.topology.advance(now);
    const stateChanged = [...this.stores.values()].some((s) => s.changed);
    const announce = this.announceDue(false, now);
    const flush = this.lazyPositions && performance.now() - this.lastCommitAt >= ANNOUNCE_EVERY_MS;
    if (!this.pending && !stateChanged && !announce && !flush) return Promise.resolve();
    return this.commitSoon();
  }

  /**
   * Tells the topology, for each input gone quiet, whether records wait past this task's
   * position (lagging: it keeps holding the watermark) or none do (caught up: it may idle), from
   * a look at the ends requested after its last records — a look from before them would see an
   * end they may have passed while more came. Idle means caught up and nothing new.
   */
  private lookAtEnds(now: number): void {
    const look = this.ctx.inputEnds;
    if (!look) return;
    const wall = Date.now();
    for (const [topic, bindings] of this.ctx.inputs) {
      const last = this.lastRead.get(topic) ?? this.openedAt;
      if (now - last.now < QUIET_MS) continue;
      const seen = look(Math.max(last.wall, wall - LOOK_AGAIN_MS));
      if (!seen) continue;
      const end = seen.ends.get(topic)?.get(this.partition);
      const position = this.positions.get(topic) ?? this.ctx.metrics?.position(this.partition, topic);
      const behind = end !== undefined && position !== undefined ? end - position : seen.committedLag.get(`${topic}:${this.partition}`);
      if (behind === undefined) continue;
      for (const b of bindings) this.topology.sawEnd(b.node, this.partition, behind > 0, now);
    }
  }

  /** Joins the next transaction: begun once the one in flight (if any) ended. */
  private commitSoon(): Promise<void> {
    const joined = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.scheduled) {
      this.scheduled = setTimeout(() => {
        this.scheduled = null;
        // after the transaction in flight, one turn of the event loop before this one begins: the
        // batch the consumer hands over as the previous one resolves joins it instead of waiting
        // for the transaction after
        this.chain = this.chain.then(afterPendingWork).then(() => this.commitWaiting());
      }, 0);
    }
    return joined;
  }

  /** Commits what the waiting callers processed (all that was processed until now) and settles them. */
  private async commitWaiting(): Promise<void> {
    const waiting = this.waiters;
    this.waiters = [];
    if (waiting.length === 0) return;
    try {
      if (this.broken) throw this.broken;
      await this.commit();
      for (const w of waiting) w.resolve();
    } catch (e) {
      this.broken ??= e as Error;
      for (const w of [...waiting, ...this.waiters.splice(0)]) w.reject(this.broken);
    }
  }

  /**
   * Whether to tell the downstream tasks where this task's sources are: after records sent to
   * them; once when its sources went idle (from then on the readers' time follows the wall
   * clock, and an idle pipeline stays silent); else, if the watermark moved, at most once a second.
   */
  private announceDue(rekeyed: boolean, now = this.now()): boolean {
    if (this.ctx.repartitionTopics.length === 0) return false;
    const idle = this.topology.sourcesIdleAt(now);
    if (idle) return !this.announcedIdle || rekeyed;
    if (this.topology.sourceWatermark <= this.announced) return false;
    return rekeyed || this.announcedIdle || performance.now() - this.announcedAt >= ANNOUNCE_EVERY_MS;
  }

  /**
   * Takes the topology's pending outputs, encoded (only the encoded form stays until the
   * commit); returns the bytes encoded since the transaction began.
   */
  private takeOutputs(): number {
    const list = this.topology.pendingOutputs;
    // most records of a windowed or filtering pipeline output nothing: no work for them
    if (list.length > 0) {
      this.encodeOutputs(list);
      this.topology.clearOutputs();
    }
    return this.encodedBytes;
  }

  /** Encodes `outputs` into the next transaction's records. */
  private encodeOutputs(outputs: readonly SinkOutput[]): void {
    // outputs mostly come in runs of one topic: its list is looked up as the topic changes
    let topic = "";
    let list: ProducerRecord[] | undefined;
    for (let i = 0; i < outputs.length; i++) {
      const o = outputs[i];
      const r = outputRecord(o, this.partition);
      this.encodedBytes += recordBytes(r);
      if (o.repartition) this.encodedRekeyed = true;
      if (list === undefined || o.topic !== topic) {
        topic = o.topic;
        list = this.encoded.get(topic);
        if (!list) this.encoded.set(topic, (list = []));
      }
      list.push(r);
    }
    this.encodedCount += outputs.length;
  }

  /** Outputs or dead letters wait for the next transaction. */
  private get pending(): boolean {
    return this.encodedCount > 0 || this.topology.pending;
  }

  /** Resolves when the transactions of all work handed in so far ended. */
  async idle(): Promise<void> {
    while (this.scheduled || this.waiters.length > 0) {
      if (this.scheduled) {
        clearTimeout(this.scheduled);
        this.scheduled = null;
        this.chain = this.chain.then(() => this.commitWaiting());
      }
      await this.chain;
    }
    await this.chain;
  }

  private async commit(): Promise<void> {
    const started = performance.now();
    this.lastCommitAt = started;
    // one synchronous snapshot: what was processed until now, and the positions after it
    const { outputs, deadLetters } = this.topology.drain();
    this.encodeOutputs(outputs);
    const byTopic = this.encoded;
    const outputCount = this.encodedCount;
    const rekeyed = this.encodedRekeyed;
    this.encoded = new Map();
    this.encodedCount = 0;
    this.encodedBytes = 0;
    this.encodedRekeyed = false;
    this.pendingBytes = 0;
    const offsets = [...this.positions].map(([topic, offset]) => ({ topic, partition: this.partition, offset }));
    const counted = { recordsIn: this.counters.recordsIn, nodes: this.topology.counters.split() };
    this.lazyPositions = false;
    const changes: ProducerRecord[] = [];
    const budget = this.topology.stateBudget;
    for (const [name, store] of this.stores) {
      for (const [key, encoded] of store.takeEncodedChanges()) {
        if (encoded) budget.encoded(encoded.length);
        changes.push({ key: `${name}/${key}`, value: encoded, partition: this.partition });
      }
    }
    budget.checkBytes(largestStoreNode(this.stores));
    if (this.topology.watermark > Number.NEGATIVE_INFINITY)
      changes.push({ key: WATERMARK_KEY, value: encodeState(this.topology.watermark), partition: this.partition });
    const upstream = this.topology.takeUpstreamReports();
    if (upstream) changes.push({ key: UPSTREAM_KEY, value: encodeState(upstream), partition: this.partition });
    // after this task's repartitioned records: every task reading them learns how far its sources got
    const sourceWatermark = this.topology.sourceWatermark;
    const idle = this.topology.sourcesIdleAt(this.now());
    const announcements: [string, ProducerRecord][] = [];
    if (this.announceDue(rekeyed)) {
      const headers = headersOf({
        [WATERMARK_HEADER]: String(sourceWatermark),
        [TASK_HEADER]: String(this.partition),
        ...(idle ? { [IDLE_HEADER]: "true" } : {}),
      });
      for (const topic of this.ctx.repartitionTopics)
        for (let p = 0; p < this.ctx.partitions; p++) announcements.push([topic, { key: null, value: null, partition: p, headers }]);
    }

    await this.producer.beginTransaction();
    try {
      const add = (topic: string, r: ProducerRecord) => {
        const list = byTopic.get(topic);
        if (list) list.push(r);
        else byTopic.set(topic, [r]);
      };
      if (this.ctx.deadLetterTopic) {
        for (const d of deadLetters) {
          const key = d.record.key instanceof Uint8Array ? d.record.key : encode(d.record.key);
          const value = d.record.value instanceof Uint8Array ? d.record.value : encode(d.record.value);
          add(this.ctx.deadLetterTopic, {
            key: bytesOrNull(key),
            value: bytesOrNull(value),
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
      for (const [topic, r] of announcements) add(topic, r);
      await Promise.all([...byTopic].map(([topic, records]) => this.producer.write(topic, records).catch(writeFailed(topic))));
      if (offsets.length > 0) await this.producer.sendOffsetsToTransaction({ ...this.ctx.groupMetadata(), offsets });
      await this.producer.commitTransaction();
    } catch (e) {
      await this.producer.abortTransaction().catch(() => undefined);
      throw e;
    }
    if (announcements.length > 0) {
      this.announced = sourceWatermark;
      this.announcedAt = started;
      this.announcedIdle = idle;
    }
    this.counters.recordsOut += outputCount;
    this.counters.deadLetters += deadLetters.length;
    this.counters.commits++;
    this.counters.lastCommitMs = performance.now() - started;
    this.ctx.metrics?.committed(this.partition, { ...counted, offsets, commitMs: this.counters.lastCommitMs });
  }
}
