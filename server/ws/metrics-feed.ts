/**
 * Pushes the console overview's metrics (storage, counts, throughput in/out per topic) once a
 * second to every `subscribe-metrics` subscription — and, with a hub of its own, the live
 * topology to every `subscribe-topology` one (`kind` names the frame and its field). The metrics are read and encoded once per
 * tick for the whole process (MetricsHub) and fanned out, so a thousand subscribers cost one
 * computation. A congested socket skips a tick rather than queueing: the next frame carries the
 * whole last minute anyway.
 */
import type { TMetrics } from "../schemas/console.ts";
import type { SocketChannel } from "./socket-channel.ts";

export const METRICS_EVERY_MS = 1000;

/** What a feed pushes: the frame `{type: kind, id, [kind]: …}`. */
export type FeedKind = "metrics" | "topology";

/** The process-wide metrics tick: runs while anyone is subscribed. */
export class MetricsHub<T = TMetrics> {
  private readonly feeds = new Set<MetricsFeed>();
  private timer: NodeJS.Timeout | null = null;
  private reading = false;
  /** The last tick's metrics as JSON, and when they were read. */
  private latest: { json: Buffer; at: number } | null = null;

  constructor(
    private readonly read: () => Promise<T>,
    private readonly everyMs = METRICS_EVERY_MS,
  ) {}

  attach(feed: MetricsFeed): void {
    this.feeds.add(feed);
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.everyMs);
    this.timer.unref();
    void this.tick();
  }

  detach(feed: MetricsFeed): void {
    this.feeds.delete(feed);
    if (this.feeds.size > 0 || !this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
    this.latest = null;
  }

  /** Metrics read within the last tick, for a new subscription to start with; null if none. */
  recent(): Buffer | null {
    return this.latest && Date.now() - this.latest.at < this.everyMs ? this.latest.json : null;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.feeds.clear();
  }

  private async tick(): Promise<void> {
    // a read slower than the tick is not stacked up behind itself
    if (this.reading) return;
    this.reading = true;
    try {
      const metrics = await this.read();
      if (!this.timer) return;
      this.latest = { json: Buffer.from(JSON.stringify(metrics)), at: Date.now() };
      for (const feed of this.feeds) feed.deliver(this.latest.json);
    } catch {
      // a failed read is skipped; the next tick tries again
    } finally {
      this.reading = false;
    }
  }
}

/** One socket's metrics subscriptions. */
export class MetricsFeed {
  private readonly ids = new Set<string>();
  /** Where the next tick starts among the subscriptions. */
  private next = 0;

  constructor(
    private readonly channel: SocketChannel,
    private readonly hub: MetricsHub<unknown>,
    private readonly kind: FeedKind = "metrics",
  ) {}

  get size(): number {
    return this.ids.size;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  subscribe(id: string): void {
    this.ids.add(id);
    if (this.ids.size === 1) this.hub.attach(this);
    const recent = this.hub.recent();
    if (recent && !this.channel.congested()) this.sendFrame(id, recent);
  }

  unsubscribe(id: string): void {
    if (!this.ids.delete(id)) return;
    if (this.ids.size === 0) this.hub.detach(this);
  }

  close(): void {
    this.ids.clear();
    this.hub.detach(this);
  }

  /**
   * One tick's metrics to every subscription, until the socket is congested; the next tick
   * starts with the first subscription skipped, so none starves behind the others.
   */
  deliver(json: Buffer): void {
    const ids = [...this.ids];
    const start = this.next % ids.length;
    for (let k = 0; k < ids.length; k++) {
      if (this.channel.congested()) {
        this.next = start + k;
        return;
      }
      this.sendFrame(ids[(start + k) % ids.length], json);
    }
  }

  /** A `metrics` (or `topology`) frame (TLiveServerMessage) around JSON encoded once for everyone. */
  private sendFrame(id: string, json: Buffer): void {
    const head = `{"type":"${this.kind}","id":${JSON.stringify(id)},"${this.kind}":`;
    this.channel.sendText(Buffer.concat([Buffer.from(head), json, CLOSING_BRACE]));
  }
}

const CLOSING_BRACE = Buffer.from("}");
