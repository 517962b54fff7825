/**
 * One WebSocket client's live-tail subscriptions. Records are pulled from the broker only
 * while the socket drains (its outbound queue under a high-water mark, see socket-channel.ts),
 * so a slow client costs the server at most that much memory. A client that falls far behind while congested is told
 * (`lagging`) and skipped ahead to the head; one that stays congested too long is disconnected.
 *
 * The session also routes the socket's other messages (metrics, consumer groups) and holds the
 * one cap on subscriptions of every kind on the socket.
 */
import type { Broker } from "../broker/broker.ts";
import type { AppendEvent } from "../broker/events.ts";
import { toRecordJson } from "../api/record-json.ts";
import { toErrorResponse } from "../api/error-status.ts";
import { MetricsFeed, type MetricsHub } from "./metrics-feed.ts";
import type { SocketChannel } from "./socket-channel.ts";
import {
  MAX_SUBSCRIPTIONS_PER_SOCKET,
  ZLiveClientMessage,
  type TGroupClientMessage,
  type TLiveClientMessage,
  type TLiveServerMessage,
} from "../schemas/live.ts";

/** Takes the socket's consumer-group messages (see group-consumer-session.ts); ids are shared. */
export interface GroupMessageHandler {
  hasId(id: string): boolean;
  /** Memberships held (or being joined) on the socket. */
  readonly size: number;
  handle(msg: TGroupClientMessage): Promise<void>;
}

export interface LiveTailLimits {
  /** Stop reading from the log while this many bytes wait in the socket. */
  highWaterBytes: number;
  /** While congested, a cursor further behind than this many records is skipped to the head. */
  maxLagRecords: number;
  /** A socket congested for this long is closed. */
  maxCongestedMs: number;
  maxRecordsPerFrame: number;
  maxBytesPerFrame: number;
}

export const DEFAULT_LIVE_LIMITS: LiveTailLimits = {
  highWaterBytes: 1024 * 1024,
  maxLagRecords: 10_000,
  maxCongestedMs: 60_000,
  maxRecordsPerFrame: 500,
  maxBytesPerFrame: 256 * 1024,
};

interface Cursor {
  partition: number;
  offset: number;
}

interface Subscription {
  id: string;
  topic: string;
  cursors: Cursor[];
}

export class LiveTailSession {
  private subs = new Map<string, Subscription>();
  private pumping = false;
  private again = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private congestedSince: number | null = null;
  private closed = false;
  private inbox: Promise<void> = Promise.resolve();
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
    metricsHub: MetricsHub,
    private readonly limits: LiveTailLimits = DEFAULT_LIVE_LIMITS,
    private readonly group?: GroupMessageHandler,
  ) {
    broker.events.on("append", this.onAppend);
    this.metrics = new MetricsFeed(channel, metricsHub);
  }

  private readonly metrics: MetricsFeed;

  close(): void {
    this.closed = true;
    this.subs.clear();
    this.metrics.close();
    this.broker.events.off("append", this.onAppend);
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  private send(msg: TLiveServerMessage): void {
    this.channel.send(msg);
  }

  /** Live-tail, metrics and group subscriptions together: the one count the cap applies to. */
  private subscriptionCount(): number {
    return this.subs.size + this.metrics.size + (this.group?.size ?? 0);
  }

  /** Sends the cap's error and returns true when the socket holds all the subscriptions it may. */
  private refuseOverCap(id: string): boolean {
    const open = this.subscriptionCount();
    if (open < MAX_SUBSCRIPTIONS_PER_SOCKET) return false;
    this.send({
      type: "error",
      id,
      error: {
        code: "VALIDATION_FAILED",
        message:
          `at most ${MAX_SUBSCRIPTIONS_PER_SOCKET} subscriptions per socket (live tail, metrics and group memberships together); ` +
          `unsubscribe or leave one first, or open another socket`,
        details: { limit: MAX_SUBSCRIPTIONS_PER_SOCKET, open },
      },
    });
    return true;
  }

  private sendError(e: unknown, id?: string): void {
    this.send({ type: "error", ...(id ? { id } : {}), error: toErrorResponse(e).body.error });
  }

  /**
   * Handles the client's messages one at a time, in arrival order: a subscribe awaits the
   * broker, and a message behind it (a duplicate id, its unsubscribe) must see its outcome.
   * The queue is bounded by the caller (SocketChannel.received stops reading past a few).
   */
  onMessage(raw: string): Promise<void> {
    const run = this.inbox.then(() => this.handleMessage(raw));
    this.inbox = run.catch(() => undefined);
    return run;
  }

  private async handleMessage(raw: string): Promise<void> {
    let data: unknown;
    try {
      data = JSON.parse(raw);
    } catch {
      this.send({ type: "error", error: { code: "INVALID_JSON", message: "message is not valid JSON" } });
      return;
    }
    const parsed = ZLiveClientMessage.safeParse(data);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      const id = typeof (data as { id?: unknown })?.id === "string" ? (data as { id: string }).id : undefined;
      this.send({
        type: "error",
        ...(id ? { id } : {}),
        error: { code: "VALIDATION_FAILED", message: `invalid message${i?.path.length ? ` at ${i.path.join(".")}` : ""}: ${i?.message}` },
      });
      return;
    }
    const msg = parsed.data;
    try {
      if (msg.type === "ping") this.send({ type: "pong" });
      else if (msg.type === "unsubscribe") {
        if (this.group?.hasId(msg.id)) {
          this.send({ type: "error", id: msg.id, error: { code: "VALIDATION_FAILED", message: `'${msg.id}' is a group membership: send leave-group` } });
          return;
        }
        this.subs.delete(msg.id);
        this.metrics.unsubscribe(msg.id);
        this.send({ type: "unsubscribed", id: msg.id });
      } else if (msg.type === "subscribe") await this.subscribe(msg);
      else if (msg.type === "subscribe-metrics") {
        if (this.subs.has(msg.id) || this.metrics.has(msg.id) || this.group?.hasId(msg.id)) {
          this.send({ type: "error", id: msg.id, error: { code: "VALIDATION_FAILED", message: `id '${msg.id}' is already in use on this socket` } });
        } else if (!this.refuseOverCap(msg.id)) this.metrics.subscribe(msg.id);
      } else if (msg.type === "join-group" && (this.subs.has(msg.id) || this.metrics.has(msg.id))) {
        this.send({ type: "error", id: msg.id, error: { code: "VALIDATION_FAILED", message: `id '${msg.id}' is already in use on this socket` } });
      } else if (msg.type === "join-group" && !this.group?.hasId(msg.id) && this.refuseOverCap(msg.id)) {
        return;
      } else if (this.group) await this.group.handle(msg);
      else this.send({ type: "error", id: msg.id, error: { code: "VALIDATION_FAILED", message: "consumer groups are not available on this socket" } });
    } catch (e) {
      this.sendError(e, "id" in msg ? msg.id : undefined);
    }
  }

  private async subscribe(msg: Extract<TLiveClientMessage, { type: "subscribe" }>): Promise<void> {
    if (this.subs.has(msg.id) || this.metrics.has(msg.id) || this.group?.hasId(msg.id)) {
      this.send({ type: "error", id: msg.id, error: { code: "VALIDATION_FAILED", message: `subscription id '${msg.id}' is already in use on this socket` } });
      return;
    }
    if (this.refuseOverCap(msg.id)) return;
    const topic = await this.broker.describeTopic(msg.topic);
    const all = topic.partitions.map((p) => p.partition);
    const wanted = msg.partitions ?? all;
    for (const p of wanted) {
      if (!all.includes(p)) {
        this.send({
          type: "error",
          id: msg.id,
          error: { code: "UNKNOWN_TOPIC_OR_PARTITION", message: `topic '${msg.topic}' has no partition ${p} (it has 0..${all.length - 1})` },
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
    this.subs.set(msg.id, { id: msg.id, topic: msg.topic, cursors });
    this.send({ type: "subscribed", id: msg.id, topic: msg.topic, partitions: cursors.map((c) => ({ ...c })) });
    this.schedule();
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
              if (await this.step(sub, c)) progressed = true;
            }
          }
        }
      } while (this.again && !this.closed);
    } finally {
      this.pumping = false;
    }
  }

  /** Sends one frame for one cursor; false when it is at the head. */
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
      c.offset = r.nextOffset;
      if (r.records.length > 0) {
        this.send({
          type: "records",
          id: sub.id,
          topic: sub.topic,
          partition: c.partition,
          highWatermark: r.highWatermark,
          records: r.records.map((rec) => toRecordJson(sub.topic, c.partition, rec)),
        });
      }
      return c.offset > before;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "OFFSET_OUT_OF_RANGE") {
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
    this.sendError(e, sub.id);
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
