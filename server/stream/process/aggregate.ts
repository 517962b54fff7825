/**
 * The aggregate node: per key (and per window when it has one) an accumulator per function.
 *
 * - Windows: tumbling and hopping (`time/window.ts`), sessions (`time/session-window.ts`),
 *   sliding (`time/sliding-window.ts`). A window is closed once the watermark passed its end
 *   plus grace: with `emit: "final"` its result is emitted then, once (Kafka Streams'
 *   `suppress(untilWindowCloses)`), and either way its state is dropped since nothing can change
 *   it any more — except a sliding window's, kept (marked `final`) as the source new windows of
 *   its key copy their aggregates from, until `slidingRetainedUntil`.
 * - Late records (every window they fall in is closed) are never dropped silently: counted, and
 *   sent to the `late` port (counted and dropped there if nothing is connected).
 * - Without a window it is a table: the running result per key, emitted on every update.
 *
 * Output records keep the group's key; the value holds the window (`{start, end}`, when
 * windowed) and one field per function.
 */
import type { TNodeConfig } from "../../schemas/pipeline.ts";
import { jsonText, type StreamRecord } from "../record.ts";
import {
  isLateForSessions,
  isSessionClosed,
  mergeSession,
  sessionClosesAt,
  type Session,
  type SessionWindows,
} from "../time/session-window.ts";
import {
  isLateForSliding,
  isSlidingClosed,
  planSliding,
  slidingClosesAt,
  slidingRetainedUntil,
  slidingWindowAt,
  type SlidingWindow,
  type SlidingWindows,
} from "../time/sliding-window.ts";
import {
  assignWindows,
  closesAt,
  isClosed,
  MAX_WINDOWS_PER_RECORD,
  tumblingStart,
  type TimeWindow,
  type TimeWindows,
  type TumblingWindows,
} from "../time/window.ts";
import { ExpressionError } from "../expression.ts";
import { decodeState, encodeState } from "../state/state-codec.ts";
import { StateStore, type Stateful } from "../state/state-store.ts";
import { aggregatorFor, type Aggregator } from "./aggregations.ts";
import type { Emit, Processor } from "./processor.ts";

/** The most keys an aggregate's record cache holds before it emits them all. */
export const MAX_CACHED_UPDATES = 10_000;

type AggregateConfig = Extract<TNodeConfig, { kind: "aggregate" }>;

/** The task's event time, shared by its stateful nodes and advanced by the topology. */
export interface TaskTime {
  watermark: number;
}

/** One key's accumulators in one window (or its table row). */
interface Entry {
  key: unknown;
  window: TimeWindow | Session | SlidingWindow | null;
  accs: unknown[];
  /** event time of the newest record in it */
  timestamp: number;
  origin: StreamRecord["origin"];
  /** a sliding window closed (its result is out), kept only to copy new windows from */
  final?: true;
}

/**
 * An entry as its changelog record holds it: positions instead of field names, `[key, window,
 * accs, timestamp, origin topic, origin partition, origin offset]` and a trailing 1 when
 * `final`. A table count's entry took 154 B as an object, 80 B so (its changelog record, and
 * its packed bytes in a store off the heap). Changelogs written before hold objects; both read back.
 */
type CompactEntry = [unknown, Entry["window"], unknown[], number, string | null, number | null, number | null, 1?];

/**
 * `withOrigin`: the entry's origin is kept (emit mode `final`: a window's result goes out when it
 * closes, from the stored entry, and carries the input position of its last record). In mode
 * `update` every result goes out from an entry put since the last commit (directly, or from the
 * record cache, which empties before the commit takes the changes), never from one read back:
 * the origin is left out (null): over a quarter of a table count's bytes (80 → 57 B, a topic name of 25
 * characters).
 */
function compactEntry(e: Entry, withOrigin: boolean): CompactEntry {
  const o = withOrigin ? (e.origin as Entry["origin"] | undefined) : undefined;
  const c: CompactEntry = [e.key, e.window, e.accs, e.timestamp, o?.topic ?? null, o?.partition ?? null, o?.offset ?? null];
  if (e.final) c.push(1);
  return c;
}

function entryOf(c: CompactEntry): Entry {
  const [key, window, accs, timestamp, topic, partition, offset, final] = c;
  const origin = (topic === null ? undefined : { topic, partition: partition!, offset: offset! }) as Entry["origin"];
  const e: Entry = { key, window, accs, timestamp, origin };
  if (final === 1) e.final = true;
  return e;
}

/** Thrown at build time for a combination the node cannot run, with the field to blame. */
export class AggregateConfigError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

export class AggregateProcessor implements Processor, Stateful {
  private readonly aggregators: Aggregator[];
  private readonly windows: TimeWindows | SessionWindows | SlidingWindows | null;
  /** storeKey → entry; windowed stores key by group key and window start */
  private readonly store = new StateStore<Entry>(
    (v) => this.revive(v as Entry | CompactEntry),
    undefined,
    (e) => compactEntry(e, this.config.emit === "final"),
  );
  /** the topic names of restored entries' origins, one string each */
  private readonly topicNames = new Map<string, string>();
  readonly stores: ReadonlyMap<string, StateStore<unknown>> = new Map([["windows", this.store as StateStore<unknown>]]);
  /** close time → store keys of the windows that close then */
  private readonly closing = new Map<number, Set<string>>();
  /** the earliest close time in `closing` (or later: a close time whose keys all went is looked at once) */
  private nextClose = Number.POSITIVE_INFINITY;
  /** group → store keys of its sessions or sliding windows */
  private readonly perGroup = new Map<string, Set<string>>();
  private lateRecords = 0;
  /**
   * The record cache (Kafka Streams' `statestore.cache`), emit mode `update` only: store key →
   * event time of its latest update, not emitted yet. Between two commits a key's updates collapse
   * into its latest result, emitted when the task commits (`flush`), before its window closes, or
   * when the cache holds MAX_CACHED_UPDATES keys. Null when updates go out as they happen
   * (previews and test runs show every update).
   */
  private readonly cached: Map<string, number> | null;

  constructor(
    private readonly config: AggregateConfig,
    private readonly time: TaskTime,
    recordCache = false,
  ) {
    this.cached = recordCache && config.emit === "update" ? new Map() : null;
    this.aggregators = config.aggregations.map((a, i) => aggregatorFor(a, i));
    const w = config.window;
    if (w?.type === "session") {
      const i = this.aggregators.findIndex((a) => !a.merge);
      if (i >= 0)
        throw new AggregateConfigError(
          "a custom reducer cannot merge sessions; use count, sum, min, max, avg or distinctCount",
          `aggregations.${i}.fn`,
        );
    }
    this.windows = w ?? null;
  }

  /** Records that arrived after every window they belong to had closed. */
  get late(): number {
    return this.lateRecords;
  }

  /** Keys (× windows) held. */
  get stateSize(): number {
    return this.store.size;
  }

  process(_input: string, r: StreamRecord, emit: Emit): void {
    const group = jsonText(r.key);
    const w = this.windows;
    if (w === null) return this.update(`t${group}`, null, r, emit);
    if (w.type === "session") return this.session(group, w, r, emit);
    if (w.type === "sliding") return this.slide(group, w, r, emit);
    if (w.type === "tumbling") return this.tumble(group, w, r, emit);
    const { open, closed } = assignWindows(w, r.timestamp, this.time.watermark);
    if (open.length === 0 && closed > 0) return this.lateRecord(r, emit);
    // compute every window's new accumulators before storing any: a failure changes nothing
    const updates = open.map((win) => {
      const storeKey = `${win.start}|${group}`;
      const before = this.store.get(storeKey);
      return { storeKey, win, before, accs: this.fold(before?.accs, r) };
    });
    for (const u of updates) this.put(u.storeKey, u.win, u.accs, r, closesAt(w, u.win), emit, u.before);
  }

  /** A record in its one tumbling window: what the general path does, without its arrays per record (most windowed aggregates tumble). */
  private tumble(group: string, w: TumblingWindows, r: StreamRecord, emit: Emit): void {
    const start = tumblingStart(w, r.timestamp);
    const window = { start, end: start + w.sizeMs };
    if (isClosed(w, window, this.time.watermark)) return this.lateRecord(r, emit);
    const storeKey = `${start}|${group}`;
    const before = this.store.get(storeKey);
    this.put(storeKey, window, this.fold(before?.accs, r), r, closesAt(w, window), emit, before);
  }

  private session(group: string, w: SessionWindows, r: StreamRecord, emit: Emit): void {
    if (isLateForSessions(w, r.timestamp, this.time.watermark)) return this.lateRecord(r, emit);
    const mine = [...(this.perGroup.get(group) ?? [])].map((k) => [k, this.store.get(k)!] as const);
    const open = mine.filter(([, e]) => !isSessionClosed(w, e.window as Session, this.time.watermark));
    const { absorbed, session } = mergeSession(
      w,
      open.map(([, e]) => e.window as Session),
      r.timestamp,
    );
    let accs: unknown[] | undefined;
    const gone: string[] = [];
    for (const [k, e] of open) {
      if (!absorbed.includes(e.window as Session)) continue;
      accs = accs === undefined ? e.accs : accs.map((a, i) => this.aggregators[i].merge!(a, e.accs[i]));
      gone.push(k);
    }
    const next = this.fold(accs, r);
    for (const k of gone) this.remove(k);
    const storeKey = `s${session.start}|${group}`;
    this.indexGroup(storeKey);
    this.put(storeKey, session, next, r, sessionClosesAt(w, session), emit);
  }

  /**
   * A record in sliding windows: folded into the key's windows that hold it, and the windows it
   * opens created from copies of the windows holding the same records (`planSliding`). Windows
   * already closed are updated too (never emitted again): later windows may be copied from them.
   */
  private slide(group: string, w: SlidingWindows, r: StreamRecord, emit: Emit): void {
    if (isLateForSliding(w, r.timestamp, this.time.watermark)) return this.lateRecord(r, emit);
    const keyOf = (start: number) => `w${start}|${group}`;
    const mine = [...(this.perGroup.get(group) ?? [])].map((k) => this.store.get(k)!);
    const plan = planSliding(
      w,
      mine.map((e) => ({ start: e.window!.start, maxTimestamp: e.timestamp })),
      r.timestamp,
    );
    if (plan.update.length + plan.create.length > MAX_WINDOWS_PER_RECORD)
      throw new ExpressionError(
        `window.timeDifferenceMs: the record falls in more than ${MAX_WINDOWS_PER_RECORD} sliding windows of its key`,
        "window.timeDifferenceMs",
      );
    // every window's new accumulators before storing any: a failure changes nothing
    const next = [
      ...plan.create.map((c) => {
        const from = c.from === null ? undefined : this.store.get(keyOf(c.from))!;
        // a copy: distinct counts grow their set in place
        const copied = from && (decodeState(encodeState(from.accs)) as unknown[]);
        const timestamp = Math.max(from?.timestamp ?? Number.NEGATIVE_INFINITY, c.add ? r.timestamp : Number.NEGATIVE_INFINITY);
        return { start: c.start, accs: c.add ? this.fold(copied, r) : copied!, timestamp };
      }),
      ...plan.update.map((start) => {
        const e = this.store.get(keyOf(start))!;
        return { start, accs: this.fold(e.accs, r), timestamp: Math.max(e.timestamp, r.timestamp) };
      }),
    ].sort((a, b) => a.start - b.start);
    for (const n of next) {
      const storeKey = keyOf(n.start);
      const window = slidingWindowAt(w, n.start);
      const before = this.store.get(storeKey);
      const final = before ? before.final === true : isSlidingClosed(w, window, this.time.watermark);
      const entry: Entry = { key: r.key, window, accs: n.accs, timestamp: n.timestamp, origin: r.origin, ...(final ? { final } : {}) };
      this.store.set(storeKey, entry);
      if (!before) {
        this.indexGroup(storeKey);
        this.schedule(this.closeTimeOf(entry), storeKey);
      }
      if (!final && this.config.emit === "update") this.emitUpdate(storeKey, entry, entry.timestamp, emit);
    }
  }

  private fold(accs: unknown[] | undefined, r: StreamRecord): unknown[] {
    return this.aggregators.map((a, i) => a.add(accs === undefined ? a.init(r) : accs[i], r));
  }

  private put(
    storeKey: string,
    window: TimeWindow | Session | null,
    accs: unknown[],
    r: StreamRecord,
    closeAt: number | null,
    emit: Emit,
    before = this.store.get(storeKey),
  ): void {
    const entry: Entry = { key: r.key, window, accs, timestamp: Math.max(r.timestamp, before?.timestamp ?? r.timestamp), origin: r.origin };
    this.store.set(storeKey, entry);
    if (closeAt !== null && !before) this.schedule(closeAt, storeKey);
    if (this.config.emit === "update") this.emitUpdate(storeKey, entry, r.timestamp, emit);
  }

  /** An update's result goes out now, or (with the record cache) with the next flush. */
  private emitUpdate(storeKey: string, entry: Entry, timestamp: number, emit: Emit): void {
    if (!this.cached) return emit("out", this.resultRecord(entry, timestamp));
    // deleted first: a flush emits in the order of each key's latest update
    this.cached.delete(storeKey);
    this.cached.set(storeKey, timestamp);
  }

  /** The topology flushes a full cache after the record in hand (not inside its walk: that has a step limit). */
  get cacheFull(): boolean {
    return this.cached !== null && this.cached.size >= MAX_CACHED_UPDATES;
  }

  /** The cached updates go out: each key's latest result once, at its latest update's time. */
  flush(emit: Emit): void {
    if (!this.cached || this.cached.size === 0) return;
    const due = [...this.cached];
    this.cached.clear();
    for (const [k, timestamp] of due) {
      const e = this.store.get(k);
      if (e && !e.final) emit("out", this.resultRecord(e, timestamp));
    }
  }

  private update(storeKey: string, window: null, r: StreamRecord, emit: Emit): void {
    const before = this.store.get(storeKey);
    this.put(storeKey, window, this.fold(before?.accs, r), r, null, emit, before);
  }

  /**
   * An entry read back from the changelog, in the shape `put` makes (decoded objects took more
   * heap) with its origin's topic name shared: measured 357 → 277 B of heap per key of a table
   * count restored into this store (200,000 keys, heap used after a full GC).
   */
  private revive(stored: Entry | CompactEntry): Entry {
    const e = Array.isArray(stored) ? entryOf(stored) : stored;
    const o = e.origin;
    let topic = o ? this.topicNames.get(o.topic) : undefined;
    if (o && topic === undefined) {
      topic = o.topic;
      if (this.topicNames.size < 1024) this.topicNames.set(topic, topic);
    }
    const entry: Entry = {
      key: e.key,
      window: e.window,
      accs: e.accs,
      timestamp: e.timestamp,
      origin: o ? { topic: topic!, partition: o.partition, offset: o.offset } : o,
    };
    if (e.final) entry.final = true;
    return entry;
  }

  /** The changelog was read back: rebuild the close-time and per-group indexes from the entries. */
  restored(): void {
    this.closing.clear();
    this.nextClose = Number.POSITIVE_INFINITY;
    this.perGroup.clear();
    if (!this.windows) return;
    for (const [k, e] of this.store.entries()) {
      this.schedule(this.closeTimeOf(e), k);
      this.indexGroup(k);
    }
  }

  /** When the watermark next acts on a windowed entry: it closes, or (a closed sliding window) it is dropped. */
  private closeTimeOf(e: Entry): number {
    const w = this.windows!;
    if (w.type === "session") return sessionClosesAt(w, e.window as Session);
    if (w.type === "sliding") return (e.final ? slidingRetainedUntil : slidingClosesAt)(w, e.window as SlidingWindow);
    return closesAt(w, e.window as TimeWindow);
  }

  private schedule(at: number, storeKey: string): void {
    let keys = this.closing.get(at);
    if (!keys) this.closing.set(at, (keys = new Set()));
    keys.add(storeKey);
    if (at < this.nextClose) this.nextClose = at;
  }

  private remove(storeKey: string): void {
    const e = this.store.get(storeKey);
    if (!e) return;
    // a session merged into a new one: its cached update is superseded by the new session's
    this.cached?.delete(storeKey);
    this.store.delete(storeKey);
    this.forgetGroupKey(storeKey);
    if (this.windows && e.window) this.closing.get(this.closeTimeOf(e))?.delete(storeKey);
  }

  /** Sessions (`s…`) and sliding windows (`w…`) are indexed by group: the store key's part after `|`. */
  private indexGroup(storeKey: string): void {
    if (!storeKey.startsWith("s") && !storeKey.startsWith("w")) return;
    const group = storeKey.slice(storeKey.indexOf("|") + 1);
    if (!this.perGroup.has(group)) this.perGroup.set(group, new Set());
    this.perGroup.get(group)!.add(storeKey);
  }

  private forgetGroupKey(storeKey: string): void {
    if (!storeKey.startsWith("s") && !storeKey.startsWith("w")) return;
    const group = storeKey.slice(storeKey.indexOf("|") + 1);
    const keys = this.perGroup.get(group);
    keys?.delete(storeKey);
    if (keys?.size === 0) this.perGroup.delete(group);
  }

  private lateRecord(r: StreamRecord, emit: Emit): void {
    this.lateRecords++;
    emit("late", r);
  }

  private resultRecord(e: Entry, timestamp: number): StreamRecord {
    const value: Record<string, unknown> = {};
    if (e.window) value.window = { start: e.window.start, end: e.window.end };
    this.aggregators.forEach((a, i) => (value[a.as] = a.result(e.accs[i])));
    return { key: e.key, value, headers: {}, timestamp, origin: e.origin };
  }

  /** The watermark moved: windows closing at or before it are final (emitted in `final` mode) and dropped. */
  onWatermark(watermark: number, emit: Emit): void {
    // the watermark moves with nearly every record: nothing to look at until the first close time
    if (watermark < this.nextClose) return;
    const due = [...this.closing.keys()].filter((at) => at <= watermark).sort((a, b) => a - b);
    // the cached updates of windows about to close go out first: closing drops them
    if (due.length > 0) this.flush(emit);
    for (const at of due) {
      const keys = this.closing.get(at)!;
      this.closing.delete(at);
      const entries = [...keys].map((k) => [k, this.store.get(k)!] as const).filter(([, e]) => e !== undefined);
      // in window order, then key order: the same input gives the same output sequence
      entries.sort(([a, x], [b, y]) => x.window!.start - y.window!.start || (a < b ? -1 : a > b ? 1 : 0));
      for (const [k, e] of entries) {
        const w = this.windows;
        if (w?.type === "sliding" && !e.final) {
          // closed: its result is final; it stays, updated but never emitted, while records may still copy it
          const closed: Entry = { ...e, final: true };
          this.store.set(k, closed);
          this.schedule(this.closeTimeOf(closed), k);
          if (this.config.emit === "final") emit("out", this.resultRecord(e, e.window!.end)); // its end is inclusive
          continue;
        }
        this.store.delete(k);
        this.forgetGroupKey(k);
        if (this.config.emit === "final" && !e.final) emit("out", this.resultRecord(e, e.window!.end - 1));
      }
    }
    this.nextClose = Number.POSITIVE_INFINITY;
    for (const at of this.closing.keys()) if (at < this.nextClose) this.nextClose = at;
  }
}
