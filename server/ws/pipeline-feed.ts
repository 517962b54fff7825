/**
 * Pipelines over the WebSocket (#15):
 *
 * - `subscribe-pipeline-metrics` pushes one pipeline's metrics (as GET …/metrics answers them)
 *   once a second. Each pipeline's metrics are read once per tick for all its subscribers
 *   (PipelineHub) and encoded once; a congested socket skips a tick, as the overview's metrics
 *   do. A pipeline deleted meanwhile ends its subscriptions with an error frame.
 * - `subscribe-pipeline-states` sends every pipeline's state, version and error
 *   (`pipeline-states`), then each change as it happens (`pipeline-state`). A change that finds
 *   the socket congested is not queued: the subscription is marked behind, and once the socket
 *   drains it gets the whole list again, so nothing is missed and nothing piles up.
 *
 * The pipelines are handed in (`PipelineSource`, by server/main.ts: the WebSocket layer does not
 * import server/pipelines).
 */
import { toErrorResponse } from "../errors/error-response.ts";
import { hasCode } from "../errors/tributary-error.ts";
import type { TPipelineMetrics, TPipelineStateChange } from "../schemas/pipeline.ts";
import type { SocketChannel } from "./socket-channel.ts";

export const PIPELINE_METRICS_EVERY_MS = 1000;
/** How often a subscription that fell behind on state changes looks whether its socket drained. */
const RESYNC_EVERY_MS = 250;

/** What the WebSocket needs of the pipelines (the PipelineManager is one). */
export interface PipelineSource {
  /** Throws PIPELINE_NOT_FOUND for an unknown pipeline. */
  metrics(name: string): Promise<TPipelineMetrics>;
  states(): Promise<TPipelineStateChange[]>;
  onStateChange(listener: (c: TPipelineStateChange) => void): () => void;
}

/** The process-wide side: one metrics tick while anyone watches metrics, one state listener while anyone watches states. */
export class PipelineHub {
  /** pipeline → the feeds (and their subscription ids) watching its metrics */
  private readonly watchers = new Map<string, Map<PipelineFeed, Set<string>>>();
  private readonly stateFeeds = new Set<PipelineFeed>();
  private timer: NodeJS.Timeout | null = null;
  private reading = false;
  private unlisten: (() => void) | null = null;

  constructor(
    private readonly source: PipelineSource,
    private readonly everyMs = PIPELINE_METRICS_EVERY_MS,
  ) {}

  read(name: string): Promise<TPipelineMetrics> {
    return this.source.metrics(name);
  }

  states(): Promise<TPipelineStateChange[]> {
    return this.source.states();
  }

  watchMetrics(feed: PipelineFeed, id: string, name: string): void {
    let feeds = this.watchers.get(name);
    if (!feeds) this.watchers.set(name, (feeds = new Map()));
    let ids = feeds.get(feed);
    if (!ids) feeds.set(feed, (ids = new Set()));
    ids.add(id);
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.everyMs);
    this.timer.unref();
  }

  unwatchMetrics(feed: PipelineFeed, id: string, name: string): void {
    const feeds = this.watchers.get(name);
    const ids = feeds?.get(feed);
    if (!feeds || !ids) return;
    ids.delete(id);
    if (ids.size === 0) feeds.delete(feed);
    if (feeds.size === 0) this.watchers.delete(name);
    if (this.watchers.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  watchStates(feed: PipelineFeed): void {
    this.stateFeeds.add(feed);
    this.unlisten ??= this.source.onStateChange((c) => {
      for (const f of this.stateFeeds) f.stateChanged(c);
    });
  }

  unwatchStates(feed: PipelineFeed): void {
    this.stateFeeds.delete(feed);
    if (this.stateFeeds.size > 0 || !this.unlisten) return;
    this.unlisten();
    this.unlisten = null;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unlisten?.();
    this.unlisten = null;
    this.watchers.clear();
    this.stateFeeds.clear();
  }

  private async tick(): Promise<void> {
    // a reading slower than the tick is not stacked up behind itself
    if (this.reading) return;
    this.reading = true;
    try {
      await Promise.all(
        [...this.watchers.keys()].map(async (name) => {
          let json: Buffer;
          try {
            json = Buffer.from(JSON.stringify(await this.source.metrics(name)));
          } catch (e) {
            if (!hasCode(e, "PIPELINE_NOT_FOUND")) return; // skipped; the next tick tries again
            for (const [feed, ids] of this.watchers.get(name) ?? []) for (const id of [...ids]) feed.gone(id, e);
            return;
          }
          for (const [feed, ids] of this.watchers.get(name) ?? []) feed.deliver(ids, json);
        }),
      );
    } finally {
      this.reading = false;
    }
  }
}

/** One socket's pipeline subscriptions. */
export class PipelineFeed {
  /** metrics subscription id → pipeline */
  private readonly metrics = new Map<string, string>();
  private readonly states = new Set<string>();
  /** a state change found the socket congested: the whole list goes again once it drains */
  private behind: NodeJS.Timeout | null = null;
  /** a change came while the whole list was being read: read it again after */
  private changedMeanwhile = false;
  private closed = false;

  constructor(
    private readonly channel: SocketChannel,
    private readonly hub: PipelineHub,
  ) {}

  get size(): number {
    return this.metrics.size + this.states.size;
  }

  has(id: string): boolean {
    return this.metrics.has(id) || this.states.has(id);
  }

  /** Sends the pipeline's metrics now and then once a second; an unknown pipeline is an error frame naming the field. */
  async subscribeMetrics(id: string, pipeline: string): Promise<void> {
    let first: TPipelineMetrics;
    try {
      first = await this.hub.read(pipeline);
    } catch (e) {
      if (!hasCode(e, "PIPELINE_NOT_FOUND")) throw e;
      this.channel.send({ type: "error", id, error: { ...toErrorResponse(e).body.error, details: { field: "pipeline" } } });
      return;
    }
    if (this.closed) return;
    this.metrics.set(id, pipeline);
    this.hub.watchMetrics(this, id, pipeline);
    this.channel.send({ type: "pipeline-metrics", id, metrics: first });
  }

  /** Sends every pipeline's state now, then each change. */
  async subscribeStates(id: string): Promise<void> {
    const pipelines = await this.hub.states();
    if (this.closed) return;
    this.states.add(id);
    this.hub.watchStates(this);
    this.channel.send({ type: "pipeline-states", id, pipelines });
  }

  unsubscribe(id: string): void {
    const pipeline = this.metrics.get(id);
    if (pipeline !== undefined) {
      this.metrics.delete(id);
      this.hub.unwatchMetrics(this, id, pipeline);
    }
    if (this.states.delete(id) && this.states.size === 0) {
      this.hub.unwatchStates(this);
      this.catchUp(false);
    }
  }

  close(): void {
    this.closed = true;
    for (const id of [...this.metrics.keys(), ...this.states]) this.unsubscribe(id);
  }

  /** One tick's metrics (encoded once) to the subscriptions `ids`, unless the socket is congested. */
  deliver(ids: ReadonlySet<string>, json: Buffer): void {
    for (const id of ids) {
      if (this.channel.congested()) return;
      this.channel.sendText(
        Buffer.concat([Buffer.from(`{"type":"pipeline-metrics","id":${JSON.stringify(id)},"metrics":`), json, CLOSING]),
      );
    }
  }

  /** The pipeline of subscription `id` no longer exists: an error frame, and the subscription ends. */
  gone(id: string, e: unknown): void {
    this.unsubscribe(id);
    this.channel.send({ type: "error", id, error: { ...toErrorResponse(e).body.error, details: { field: "pipeline" } } });
  }

  stateChanged(c: TPipelineStateChange): void {
    if (this.behind) {
      this.changedMeanwhile = true; // the whole list follows
      return;
    }
    if (this.channel.congested()) {
      this.catchUp(true);
      return;
    }
    for (const id of this.states) this.channel.send({ type: "pipeline-state", id, pipeline: c });
  }

  /** Starts (or stops) waiting for the socket to drain, then sends the whole list again. */
  private catchUp(on: boolean): void {
    if (!on) {
      if (this.behind) clearTimeout(this.behind);
      this.behind = null;
      return;
    }
    const retry = () => {
      this.behind = setTimeout(() => {
        if (this.closed || this.states.size === 0) return this.catchUp(false);
        if (this.channel.congested()) return retry();
        this.changedMeanwhile = false;
        void this.hub
          .states()
          .then((pipelines) => {
            this.behind = null;
            for (const id of this.states) this.channel.send({ type: "pipeline-states", id, pipelines });
            if (this.changedMeanwhile) this.catchUp(true);
          })
          .catch(() => retry());
      }, RESYNC_EVERY_MS);
      this.behind.unref();
    };
    retry();
  }
}

const CLOSING = Buffer.from("}");
