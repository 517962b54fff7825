/**
 * The WebSocket endpoint at /ws. Only upgrades for that path are taken; others (Next's dev
 * HMR) are left to their own listeners. Dead peers are found by ping/pong and dropped.
 *
 * No client can make the server hold more than a bounded amount: sockets per client address
 * and in total are capped at the upgrade, and each socket's inbound and outbound queues are
 * bounded by its SocketChannel (see socket-channel.ts).
 */
import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { Broker } from "../broker/broker.ts";
import { ERROR_CODES, type ErrorCode } from "../errors/error-codes.ts";
import { DEFAULT_LIVE_LIMITS, LiveTailSession, type CompileLiveFilter, type LiveTailLimits } from "./live-tail-session.ts";
import { GroupConsumerSession } from "./group-consumer-session.ts";
import { MessageRouter } from "./message-router.ts";
import { MetricsFeed, MetricsHub } from "./metrics-feed.ts";
import { PipelineFeed, PipelineHub, type PipelineSource } from "./pipeline-feed.ts";
import { metricsSnapshot } from "../present/metrics-snapshot.ts";
import type { TTopologySnapshot } from "../schemas/topology.ts";
import { DEFAULT_CHANNEL_LIMITS, OutboundBudget, SocketChannel, type ChannelLimits } from "./socket-channel.ts";

export const WS_PATH = "/ws";
const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;
const PING_EVERY_MS = 30_000;

export interface LiveServerOptions {
  /** Sockets open at once from one client address (TRIBUTARY_WS_MAX_SOCKETS_PER_ADDRESS). */
  maxSocketsPerAddress?: number;
  /** Sockets open at once in total. */
  maxSockets?: number;
  live?: Partial<LiveTailLimits>;
  /** Compiles a live tail's filter (message search's, see live-tail-session.ts); without it a filtered subscribe is refused. */
  compileFilter?: CompileLiveFilter;
  /** Per-socket queue bounds; the high-water mark is the live tail's. */
  channel?: Partial<Omit<ChannelLimits, "highWaterBytes">>;
  /** Outbound bytes the process may hold for all sockets together before slow ones are dropped. */
  maxOutboundBytesTotal?: number;
  /** The pipelines (handed in by server/main.ts); without them pipeline subscriptions are refused. */
  pipelines?: PipelineSource;
  /** Reads the live topology (server/api's, handed in: it adds pipelines and simulations); without it `subscribe-topology` is refused. */
  readTopology?: () => Promise<TTopologySnapshot>;
}

export const DEFAULT_MAX_SOCKETS_PER_ADDRESS = 64;
export const DEFAULT_MAX_SOCKETS = 1000;

export interface LiveServer {
  wss: WebSocketServer;
  /** Whether the upgrade was ours (the caller leaves other paths alone). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  close(): Promise<void>;
}

/** Answers an upgrade request with an HTTP error and the usual JSON error body. */
function refuseUpgrade(socket: Duplex, code: ErrorCode, message: string, details: Record<string, unknown>): void {
  const status = ERROR_CODES[code].httpStatus;
  const body = JSON.stringify({ error: { code, message, details } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export function createLiveServer(broker: Broker, options: LiveServerOptions = {}): LiveServer {
  const limits: LiveTailLimits = { ...DEFAULT_LIVE_LIMITS, ...options.live };
  const channelLimits: ChannelLimits = { ...DEFAULT_CHANNEL_LIMITS, ...options.channel, highWaterBytes: limits.highWaterBytes };
  const maxPerAddress = options.maxSocketsPerAddress ?? DEFAULT_MAX_SOCKETS_PER_ADDRESS;
  const maxSockets = options.maxSockets ?? DEFAULT_MAX_SOCKETS;
  // allowSynchronousEvents false: one message per event-loop turn, so a chunk of thousands of
  // tiny messages does not run as one uninterrupted burst while other clients wait
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_CLIENT_MESSAGE_BYTES,
    perMessageDeflate: false,
    allowSynchronousEvents: false,
  });
  const alive = new WeakMap<WebSocket, boolean>();
  const metricsHub = new MetricsHub(() => metricsSnapshot(broker));
  const pipelineHub = options.pipelines ? new PipelineHub(options.pipelines) : null;
  const topologyHub = options.readTopology ? new MetricsHub(options.readTopology) : null;
  const outboundBudget = new OutboundBudget(options.maxOutboundBytesTotal);
  /** Sockets per client address, from the accepted upgrade until the TCP connection closes. */
  const perAddress = new Map<string, number>();
  let accepted = 0;

  wss.on("connection", (ws: WebSocket, req: IncomingMessage) => {
    const channel = new SocketChannel(ws, channelLimits, outboundBudget);
    // live tail and consumer-group membership share the socket (and one id namespace)
    const group = new GroupConsumerSession(channel, broker, limits, req.socket.remoteAddress ?? "unknown");
    const session = new LiveTailSession(channel, broker, limits, options.compileFilter);
    const metrics = new MetricsFeed(channel, metricsHub);
    const pipelines = pipelineHub ? new PipelineFeed(channel, pipelineHub) : undefined;
    const topology = topologyHub ? new MetricsFeed(channel, topologyHub, "topology") : undefined;
    const router = new MessageRouter(channel, session, metrics, group, topology, pipelines);
    alive.set(ws, true);
    ws.on("pong", () => alive.set(ws, true));
    ws.on("message", (data, isBinary) => {
      const bytes = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer | ArrayBuffer).byteLength;
      if (!channel.received(bytes)) return;
      if (isBinary) {
        channel.send({ type: "error", error: { code: "VALIDATION_FAILED", message: "send JSON text frames" } });
        channel.handled(bytes);
        return;
      }
      void router
        .onMessage(data.toString())
        .catch(() => undefined)
        .finally(() => channel.handled(bytes));
    });
    const close = () => {
      session.close();
      metrics.close();
      pipelines?.close();
      topology?.close();
      group.close(); // leaves every group at once
    };
    ws.on("close", close);
    ws.on("error", close);
  });

  const pinger = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.get(ws)) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, PING_EVERY_MS);
  pinger.unref();

  return {
    wss,
    handleUpgrade(req, socket, head) {
      const path = (req.url ?? "").split("?")[0];
      if (path !== WS_PATH) return false;
      if (accepted >= maxSockets) {
        refuseUpgrade(socket, "BROKER_NOT_AVAILABLE", `the server holds its maximum of ${maxSockets} WebSocket connections`, {
          limit: maxSockets,
        });
        return true;
      }
      if (socket.destroyed) return true; // gone before we looked: nothing to count or answer
      const address = req.socket.remoteAddress ?? "unknown";
      const open = perAddress.get(address) ?? 0;
      if (open >= maxPerAddress) {
        refuseUpgrade(
          socket,
          "TOO_MANY_CONNECTIONS",
          `at most ${maxPerAddress} WebSocket connections per client address (TRIBUTARY_WS_MAX_SOCKETS_PER_ADDRESS); close one first`,
          { limit: maxPerAddress, address },
        );
        return true;
      }
      // counted until the connection closes, whether or not the handshake completes
      perAddress.set(address, open + 1);
      accepted++;
      socket.once("close", () => {
        accepted--;
        const left = (perAddress.get(address) ?? 1) - 1;
        if (left > 0) perAddress.set(address, left);
        else perAddress.delete(address);
      });
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
      return true;
    },
    async close() {
      clearInterval(pinger);
      metricsHub.close();
      pipelineHub?.close();
      topologyHub?.close();
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
