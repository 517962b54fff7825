/**
 * Routes one socket's client messages to what handles them: live-tail subscriptions
 * (live-tail-session.ts), the metrics feed (metrics-feed.ts), the topology feed, pipeline
 * metrics and states (pipeline-feed.ts) and consumer-group memberships (group-consumer-session.ts). It owns what they share: messages handled one at a time in
 * arrival order, validation of every message, one id namespace, and the one cap on
 * subscriptions of every kind on the socket.
 */
import { toErrorResponse } from "../errors/error-response.ts";
import {
  MAX_SUBSCRIPTIONS_PER_SOCKET,
  ZLiveClientMessage,
  type TGroupClientMessage,
  type TLiveClientMessage,
  type TLiveServerMessage,
} from "../schemas/live.ts";
import type { SocketChannel } from "./socket-channel.ts";

/** Takes the socket's consumer-group messages (see group-consumer-session.ts). */
export interface GroupMessageHandler {
  hasId(id: string): boolean;
  /** Memberships held (or being joined) on the socket. */
  readonly size: number;
  handle(msg: TGroupClientMessage): Promise<void>;
}

/** The socket's live-tail subscriptions (see live-tail-session.ts). */
export interface LiveTailHandler {
  hasId(id: string): boolean;
  readonly size: number;
  /** Starts a subscription whose id is free and within the cap (the router checked both). */
  subscribe(msg: Extract<TLiveClientMessage, { type: "subscribe" }>): Promise<void>;
  unsubscribe(id: string): void;
}

/** The socket's metrics subscriptions (see metrics-feed.ts). */
export interface MetricsHandler {
  has(id: string): boolean;
  readonly size: number;
  subscribe(id: string): void;
  unsubscribe(id: string): void;
}

/** The socket's topology subscriptions (a MetricsFeed of the topology, see metrics-feed.ts). */
export type TopologyHandler = MetricsHandler;

/** The socket's pipeline subscriptions (see pipeline-feed.ts). */
export interface PipelineHandler {
  has(id: string): boolean;
  readonly size: number;
  subscribeMetrics(id: string, pipeline: string): Promise<void>;
  subscribeStates(id: string): Promise<void>;
  unsubscribe(id: string): void;
}

export class MessageRouter {
  private inbox: Promise<void> = Promise.resolve();

  constructor(
    private readonly channel: SocketChannel,
    private readonly live: LiveTailHandler,
    private readonly metrics: MetricsHandler,
    private readonly group?: GroupMessageHandler,
    private readonly topology?: TopologyHandler,
    private readonly pipelines?: PipelineHandler,
  ) {}

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

  private send(msg: TLiveServerMessage): void {
    this.channel.send(msg);
  }

  private inUse(id: string): boolean {
    return (
      this.live.hasId(id) ||
      this.metrics.has(id) ||
      (this.topology?.has(id) ?? false) ||
      (this.pipelines?.has(id) ?? false) ||
      (this.group?.hasId(id) ?? false)
    );
  }

  /** Sends the cap's error and returns true when the socket holds all the subscriptions it may. */
  private refuseOverCap(id: string): boolean {
    const open = this.live.size + this.metrics.size + (this.topology?.size ?? 0) + (this.pipelines?.size ?? 0) + (this.group?.size ?? 0);
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

  private refuseId(id: string, message: string): void {
    this.send({ type: "error", id, error: { code: "VALIDATION_FAILED", message } });
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
      const field = i?.path.length ? i.path.join(".") : undefined;
      this.send({
        type: "error",
        ...(id ? { id } : {}),
        error: {
          code: "VALIDATION_FAILED",
          message: `invalid message${field ? ` at ${field}` : ""}: ${i?.message}`,
          ...(field ? { details: { field } } : {}),
        },
      });
      return;
    }
    const msg = parsed.data;
    try {
      switch (msg.type) {
        case "ping":
          this.send({ type: "pong" });
          return;
        case "unsubscribe":
          if (this.group?.hasId(msg.id)) return this.refuseId(msg.id, `'${msg.id}' is a group membership: send leave-group`);
          this.live.unsubscribe(msg.id);
          this.metrics.unsubscribe(msg.id);
          this.topology?.unsubscribe(msg.id);
          this.pipelines?.unsubscribe(msg.id);
          this.send({ type: "unsubscribed", id: msg.id });
          return;
        case "subscribe":
          if (this.inUse(msg.id)) return this.refuseId(msg.id, `subscription id '${msg.id}' is already in use on this socket`);
          if (this.refuseOverCap(msg.id)) return;
          await this.live.subscribe(msg);
          return;
        case "subscribe-metrics":
          if (this.inUse(msg.id)) return this.refuseId(msg.id, `id '${msg.id}' is already in use on this socket`);
          if (!this.refuseOverCap(msg.id)) this.metrics.subscribe(msg.id);
          return;
        case "subscribe-topology":
          if (!this.topology) return this.refuseId(msg.id, "the topology is not available on this socket");
          if (this.inUse(msg.id)) return this.refuseId(msg.id, `id '${msg.id}' is already in use on this socket`);
          if (!this.refuseOverCap(msg.id)) this.topology.subscribe(msg.id);
          return;
        case "subscribe-pipeline-metrics":
        case "subscribe-pipeline-states":
          if (!this.pipelines) return this.refuseId(msg.id, "pipelines are not available on this socket");
          if (this.inUse(msg.id)) return this.refuseId(msg.id, `id '${msg.id}' is already in use on this socket`);
          if (this.refuseOverCap(msg.id)) return;
          if (msg.type === "subscribe-pipeline-metrics") await this.pipelines.subscribeMetrics(msg.id, msg.pipeline);
          else await this.pipelines.subscribeStates(msg.id);
          return;
        default:
          if (!this.group) return this.refuseId(msg.id, "consumer groups are not available on this socket");
          if (
            msg.type === "join-group" &&
            (this.live.hasId(msg.id) || this.metrics.has(msg.id) || this.topology?.has(msg.id) || this.pipelines?.has(msg.id))
          ) {
            return this.refuseId(msg.id, `id '${msg.id}' is already in use on this socket`);
          }
          if (msg.type === "join-group" && !this.group.hasId(msg.id) && this.refuseOverCap(msg.id)) return;
          await this.group.handle(msg);
      }
    } catch (e) {
      this.send({ type: "error", ...("id" in msg ? { id: msg.id } : {}), error: toErrorResponse(e).body.error });
    }
  }
}
