/**
 * One WebSocket client's live-tail subscriptions. Records are pulled from the broker only
 * while the socket drains (its outbound queue under a high-water mark, see socket-channel.ts),
 * so a slow client costs the server at most that much memory. A client that falls far behind while congested is told
 * (`lagging`) and skipped ahead to the head; one that stays congested too long is disconnected.
 *
 * The socket's messages reach it through message-router.ts, which checks ids and the
 * per-socket cap first.
 *
 * A subscription may carry a filter (message search's text and CEL filters): it is compiled
 * once at subscribe (a bad expression is an error frame naming the field) and evaluated here, so
 * only matches cross the socket. A filtered tail is not held back by the socket draining (few
 * matches may go out), so its filtering is bounded instead: every CEL evaluation by the
 * expression's per-record cost budget, and the socket's filtering as a whole by a share of each
 * second (`filterMsPerSecond`), giving the event loop back every few milliseconds.
 */
import type { Broker, FetchedRecord } from "../broker/broker.ts";
import type { AppendEvent } from "../broker/events.ts";
import { toRecordJson } from "../present/record-json.ts";
import { toErrorResponse } from "../errors/error-response.ts";
import { hasCode } from "../errors/tributary-error.ts";
import type { LiveTailHandler } from "./message-router.ts";
import type { SocketChannel } from "./socket-channel.ts";
import type { TLiveClientMessage, TLiveFilter, TLiveServerMessage } from "../schemas/live.ts";

/** A compiled record filter: one per subscription, keeping its own CEL cost meter. */
export interface LiveRecordFilter {
  /** `error`: the CEL expression failed on this record (no match); `exhausted`: its whole budget is spent. */
  test(partition: number, r: FetchedRecord): { match: boolean; error?: string; exhausted?: boolean };
}

/**
 * Compiles a subscription's filter, throwing a TributaryError naming the field (`cel`, …) when
 * it is bad. The search's compiler (server/api/compile-record-filter.ts), handed in by the
 * wiring (server/main.ts): the WebSocket layer does not import the services.
 */
export type CompileLiveFilter = (filter: TLiveFilter) => LiveRecordFilter;

export interface LiveTailLimits {
  /** Stop reading from the log while this many bytes wait in the socket. */
  highWaterBytes: number;
  /** While congested, a cursor further behind than this many records is skipped to the head. */
  maxLagRecords: number;
  /** A socket congested for this long is closed. */
  maxCongestedMs: number;
  maxRecordsPerFrame: number;
  maxBytesPerFrame: number;
  /** Filtering (CEL and text filters) one socket may do per second, in ms; past it its filtered subscriptions wait. */
  filterMsPerSecond: number;
}

export const DEFAULT_LIVE_LIMITS: LiveTailLimits = {
  highWaterBytes: 1024 * 1024,
  maxLagRecords: 10_000,
  maxCongestedMs: 60_000,
  maxRecordsPerFrame: 500,
  maxBytesPerFrame: 256 * 1024,
  filterMsPerSecond: 250,
};

/** Filtering gives the event loop back after this long (one record is bounded by its CEL budget, a frame is not). */
const FILTER_SLICE_MS = 10;
/** A filtered subscription's counts go out at most this often. */
const STATS_EVERY_MS = 1000;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Cursor {
  partition: number;
  offset: number;
}

interface FilterStats {
  scanned: number;
  matched: number;
  celErrors: number;
  firstCelError: string | null;
  throttled: boolean;
}

interface Subscription {
  id: string;
  topic: string;
  cursors: Cursor[];
  filter: LiveRecordFilter | null;
  stats: FilterStats;
  statsSentAt: number;
  statsDirty: boolean;
}

export class LiveTailSession implements LiveTailHandler {
  private subs = new Map<string, Subscription>();
  private pumping = false;
  private again = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private congestedSince: number | null = null;
  private closed = false;
  /** This second's filtering: when it began and the ms spent in it (performance.now()). */
  private filterWindow = { start: 0, usedMs: 0 };
  private statsTimer: NodeJS.Timeout | null = null;
  private readonly onAppend = (e: AppendEvent) => {
    for (const s of this.subs.values()) {
      if (s.topic === e.topic && s.cursors.some((c) => c.partition === e.partition)) {
        this.schedule();
        return;
      }
    }
  };

  constructor(
    private readonly channel: SocketChannel,
    private readonly broker: Broker,
    private readonly limits: LiveTailLimits = DEFAULT_LIVE_LIMITS,
    private readonly compileFilter?: CompileLiveFilter,
  ) {
    broker.events.on("append", this.onAppend);
  }

  hasId(id: string): boolean {
    return this.subs.has(id);
  }

  get size(): number {
    return this.subs.size;
  }

  unsubscribe(id: string): void {
    this.subs.delete(id);
  }

  close(): void {
    this.closed = true;
    this.subs.clear();
    this.broker.events.off("append", this.onAppend);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.statsTimer) clearTimeout(this.statsTimer);
  }

  private send(msg: TLiveServerMessage): void {
    this.channel.send(msg);
  }

  /** Starts a subscription (its id is free and within the socket's cap: the router checked). */
  async subscribe(msg: Extract<TLiveClientMessage, { type: "subscribe" }>): Promise<void> {
    const filter = this.compile(msg.id, msg.filter);
    if (filter === undefined) return;
    const topic = await this.broker.describeTopic(msg.topic);
    const all = topic.partitions.map((p) => p.partition);
    const wanted = msg.partitions ?? all;
    for (const p of wanted) {
      if (!all.includes(p)) {
        this.send({
          type: "error",
          id: msg.id,
          error: {
            code: "UNKNOWN_TOPIC_OR_PARTITION",
            message: `topic '${msg.topic}' has no partition ${p} (it has 0..${all.length - 1})`,
          },
        });
        return;
      }
    }
    const from = msg.from;
    const spec = from === "earliest" || from === "latest" ? from : "offset" in from ? "latest" : { timestamp: from.timestamp };
    const listed = await this.broker.listOffsets(msg.topic, spec, [...new Set(wanted)]);
    const cursors = listed.map((l) => {
      const part = topic.partitions[l.partition];
      let offset = l.offset ?? part.highWatermark;
      if (typeof from === "object" && "offset" in from) offset = Math.min(Math.max(from.offset, part.logStartOffset), part.highWatermark);
      return { partition: l.partition, offset };
    });
    if (this.closed) return;
    this.subs.set(msg.id, {
      id: msg.id,
      topic: msg.topic,
      cursors,
      filter,
      stats: { scanned: 0, matched: 0, celErrors: 0, firstCelError: null, throttled: false },
      statsSentAt: 0,
      statsDirty: filter !== null,
    });
    this.send({ type: "subscribed", id: msg.id, topic: msg.topic, partitions: cursors.map((c) => ({ ...c })) });
    if (filter) this.flushStats();
    this.schedule();
  }

  /**
   * The subscription's compiled filter, null without one; undefined after sending the error
   * frame of a bad one (its field named as in the message: `filter.cel`).
   */
  private compile(id: string, f: TLiveFilter | undefined): LiveRecordFilter | null | undefined {
    const given = f && (f.keyContains || f.valueContains || f.headerContains || f.cel?.trim());
    if (!given) return null;
    try {
      if (!this.compileFilter) throw new Error("no filter compiler");
      return this.compileFilter(f);
    } catch (e) {
      const error = toErrorResponse(e).body.error;
      const field = error.details?.field;
      if (typeof field === "string") error.details = { ...error.details, field: `filter.${field}` };
      this.send({ type: "error", id, error });
      return undefined;
    }
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    setImmediate(() => void this.pump());
  }

  private congested(): boolean {
    return this.channel.congested();
  }

  private async pump(): Promise<void> {
    try {
      do {
        this.again = false;
        let progressed = true;
        while (progressed && !this.closed) {
          progressed = false;
          for (const sub of [...this.subs.values()]) {
            for (const c of sub.cursors) {
              if (this.closed || this.subs.get(sub.id) !== sub) break;
              if (this.congested()) {
                this.onCongested();
                return;
              }
              this.congestedSince = null;
              if (sub.filter && this.filterWaitMs() > 0) break;
              if (await this.step(sub, c)) progressed = true;
            }
          }
        }
      } while (this.again && !this.closed);
      // filtered subscriptions that waited for the next second's filtering time go on then
      const wait = this.filterWaitMs();
      if (wait > 0 && !this.closed && [...this.subs.values()].some((s) => s.filter)) this.retryIn(wait);
    } finally {
      this.pumping = false;
    }
  }

  /** How long until this socket may filter again (0: now). */
  private filterWaitMs(): number {
    const now = performance.now();
    if (now - this.filterWindow.start >= 1000) this.filterWindow = { start: now, usedMs: 0 };
    return this.filterWindow.usedMs < this.limits.filterMsPerSecond ? 0 : Math.ceil(this.filterWindow.start + 1000 - now);
  }

  private retryIn(ms: number): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.schedule();
    }, ms);
  }

  /**
   * The records of a fetch that pass the subscription's filter, and the offset after the last
   * record looked at: filtering stops early (that offset is where the cursor goes on) when the
   * socket's filtering time for this second is spent or the subscription ended meanwhile.
   */
  private async applyFilter(
    sub: Subscription,
    partition: number,
    records: FetchedRecord[],
    nextOffset: number,
  ): Promise<{ matches: FetchedRecord[]; next: number } | null> {
    const filter = sub.filter as LiveRecordFilter;
    const s = sub.stats;
    const matches: FetchedRecord[] = [];
    let sliceStart = performance.now();
    let t = sliceStart;
    for (const rec of records) {
      if (this.filterWaitMs() > 0) {
        s.throttled = sub.statsDirty = true;
        return { matches, next: rec.offset };
      }
      if (t - sliceStart >= FILTER_SLICE_MS) {
        await yieldToEventLoop();
        if (this.closed || this.subs.get(sub.id) !== sub) return null;
        sliceStart = t = performance.now();
      }
      const r = filter.test(partition, rec);
      const now = performance.now();
      this.filterWindow.usedMs += now - t;
      t = now;
      s.scanned++;
      // `exhausted` (a total budget spent) does not happen here: a tail's filter has a per-record budget only
      if (r.error || r.exhausted) {
        s.celErrors++;
        s.firstCelError ??= r.error ?? "CEL cost budget spent";
      }
      if (r.match) {
        s.matched++;
        matches.push(rec);
      }
    }
    s.throttled = false;
    sub.statsDirty = true;
    return { matches, next: nextOffset };
  }

  /** Sends the counts of filtered subscriptions that changed, at most once a second each. */
  private flushStats(): void {
    const now = Date.now();
    let soonest = Infinity;
    for (const sub of this.subs.values()) {
      if (!sub.statsDirty) continue;
      const due = sub.statsSentAt + STATS_EVERY_MS;
      if (due > now) {
        soonest = Math.min(soonest, due - now);
        continue;
      }
      sub.statsDirty = false;
      sub.statsSentAt = now;
      this.send({ type: "filter-stats", id: sub.id, ...sub.stats });
    }
    if (soonest < Infinity && !this.statsTimer && !this.closed) {
      this.statsTimer = setTimeout(() => {
        this.statsTimer = null;
        this.flushStats();
      }, soonest);
    }
  }

  /** Sends one frame for one cursor (with a filter: its matches, maybe none); false when it is at the head. */
  private async step(sub: Subscription, c: Cursor): Promise<boolean> {
    let w;
    try {
      w = await this.broker.watermarksOf(sub.topic, c.partition);
    } catch (e) {
      this.drop(sub, e);
      return false;
    }
    if (c.offset < w.logStartOffset) c.offset = w.logStartOffset;
    if (c.offset >= w.highWatermark) return false;
    const before = c.offset;
    try {
      const r = await this.broker.fetch(sub.topic, c.partition, {
        offset: c.offset,
        maxRecords: this.limits.maxRecordsPerFrame,
        maxBytes: this.limits.maxBytesPerFrame,
      });
      // unsubscribed (or closed) while the fetch was in flight: its `unsubscribed` has been sent
      if (this.closed || this.subs.get(sub.id) !== sub) return false;
      let records = r.records;
      let next = r.nextOffset;
      if (sub.filter) {
        const kept = await this.applyFilter(sub, c.partition, records, next);
        if (kept === null) return false;
        ({ matches: records, next } = kept);
      }
      c.offset = next;
      if (records.length > 0) {
        this.send({
          type: "records",
          id: sub.id,
          topic: sub.topic,
          partition: c.partition,
          highWatermark: r.highWatermark,
          records: records.map((rec) => toRecordJson(sub.topic, c.partition, rec)),
        });
      }
      if (sub.filter) this.flushStats();
      return c.offset > before;
    } catch (e) {
      if (hasCode(e, "OFFSET_OUT_OF_RANGE")) {
        c.offset = w.logStartOffset;
        return true;
      }
      this.drop(sub, e);
      return false;
    }
  }

  /** Ends a subscription whose topic failed (e.g. was deleted), unless it was already replaced. */
  private drop(sub: Subscription, e: unknown): void {
    if (this.subs.get(sub.id) !== sub) return;
    this.subs.delete(sub.id);
    this.send({ type: "error", id: sub.id, error: toErrorResponse(e).body.error });
  }

  private onCongested(): void {
    const now = Date.now();
    this.congestedSince ??= now;
    if (now - this.congestedSince > this.limits.maxCongestedMs) {
      this.channel.close(1008, "client too slow: congested past the limit");
      return;
    }
    for (const sub of this.subs.values()) {
      for (const c of sub.cursors) {
        void this.broker
          .watermarksOf(sub.topic, c.partition)
          .then((w) => {
            const lag = w.highWatermark - c.offset;
            if (lag > this.limits.maxLagRecords && this.subs.get(sub.id) === sub) {
              const skippedFrom = c.offset;
              c.offset = w.highWatermark;
              // one small frame may go past the high-water mark: the client must learn why data is missing
              this.send({
                type: "lagging",
                id: sub.id,
                topic: sub.topic,
                partition: c.partition,
                skippedFrom,
                skippedTo: w.highWatermark,
                message: `client is reading too slowly: skipped ${lag} records to the head of the partition`,
              });
            }
          })
          .catch(() => undefined);
      }
    }
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.schedule();
    }, 50);
  }
}
