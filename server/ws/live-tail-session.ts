/**
 * One WebSocket client's live-tail subscriptions. Records are pulled from the broker only
 * while the socket drains (its outbound queue under a high-water mark, see socket-channel.ts),
 * so a slow client costs the server at most that much memory. A client that falls far behind while congested is told
 * (`lagging`) and skipped ahead to the head; one that stays congested too long is disconnected.
 *
 * The socket's messages reach it through message-router.ts, which checks ids and the
 * per-socket cap first.
 */
import type { Broker } from "../broker/broker.ts";
import type { AppendEvent } from "../broker/events.ts";
import { toRecordJson } from "../present/record-json.ts";
import { toErrorResponse } from "../errors/error-response.ts";
import { hasCode } from "../errors/tributary-error.ts";
import type { LiveTailHandler } from "./message-router.ts";
import type { SocketChannel } from "./socket-channel.ts";
import type { TLiveClientMessage, TLiveServerMessage } from "../schemas/live.ts";

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

export class LiveTailSession implements LiveTailHandler {
  private subs = new Map<string, Subscription>();
  private pumping = false;
  private again = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private congestedSince: number | null = null;
  private closed = false;
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
  }

  private send(msg: TLiveServerMessage): void {
    this.channel.send(msg);
  }

  /** Starts a subscription (its id is free and within the socket's cap: the router checked). */
  async subscribe(msg: Extract<TLiveClientMessage, { type: "subscribe" }>): Promise<void> {
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
