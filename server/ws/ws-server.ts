/**
 * The WebSocket endpoint at /ws. Only upgrades for that path are taken; others (Next's dev
 * HMR) are left to their own listeners. Dead peers are found by ping/pong and dropped.
 */
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { Broker } from "../broker/broker.ts";
import { DEFAULT_LIVE_LIMITS, LiveTailSession, type LiveTailLimits } from "./live-tail-session.ts";
import { GroupConsumerSession } from "./group-consumer-session.ts";

export const WS_PATH = "/ws";
const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;
const MAX_SOCKETS = 1000;
const PING_EVERY_MS = 30_000;

export interface LiveServer {
  wss: WebSocketServer;
  /** Whether the upgrade was ours (the caller leaves other paths alone). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  close(): Promise<void>;
}

export function createLiveServer(broker: Broker, limits: LiveTailLimits = DEFAULT_LIVE_LIMITS): LiveServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE_BYTES, perMessageDeflate: false });
  const alive = new WeakMap<WebSocket, boolean>();

  wss.on("connection", (ws: WebSocket, req: IncomingMessage) => {
    // live tail and consumer-group membership share the socket (and one id namespace)
    const group = new GroupConsumerSession(ws, broker, limits, req.socket.remoteAddress ?? "unknown");
    const session = new LiveTailSession(ws, broker, limits, group);
    alive.set(ws, true);
    ws.on("pong", () => alive.set(ws, true));
    ws.on("message", (data, isBinary) => {
      if (isBinary) {
        ws.send(JSON.stringify({ type: "error", error: { code: "VALIDATION_FAILED", message: "send JSON text frames" } }));
        return;
      }
      void session.onMessage(data.toString());
    });
    const close = () => {
      session.close();
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
      if (wss.clients.size >= MAX_SOCKETS) {
        socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n");
        return true;
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
      return true;
    },
    async close() {
      clearInterval(pinger);
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

export function attachLiveServer(server: Server, live: LiveServer): void {
  server.on("upgrade", (req, socket, head) => {
    live.handleUpgrade(req, socket, head);
  });
}
