/**
 * SocketChannel against real sockets (a ws server on a local port, ws clients whose TCP sockets
 * are paused so they read nothing): what one socket and all sockets together may hold, and the
 * inbound backlog that stops reading.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { AddressInfo } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import { DEFAULT_CHANNEL_LIMITS, OutboundBudget, PER_FRAME_COST, SocketChannel, type ChannelLimits } from "./socket-channel.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let servers: WebSocketServer[] = [];
let clients: WebSocket[] = [];
afterEach(async () => {
  for (const c of clients) c.terminate();
  for (const s of servers) await new Promise((r) => s.close(r));
  servers = [];
  clients = [];
});

/** A ws server and `n` connected clients; returns the server side of each connection. */
async function connect(n: number, opts: { allowSynchronousEvents?: boolean } = {}): Promise<{ server: WebSocket; client: WebSocket }[]> {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate: false, ...opts });
  servers.push(wss);
  await new Promise((r) => wss.once("listening", r));
  const port = (wss.address() as AddressInfo).port;
  const pairs: { server: WebSocket; client: WebSocket }[] = [];
  for (let i = 0; i < n; i++) {
    const accepted = new Promise<WebSocket>((r) => wss.once("connection", r));
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    client.on("error", () => undefined);
    clients.push(client);
    await new Promise((r) => client.once("open", r));
    pairs.push({ server: await accepted, client });
  }
  return pairs;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const stopReading = (client: WebSocket) => (client as any)._socket.pause();

describe("SocketChannel outbound", () => {
  it("disconnects a client that does not read once its queue is full, holding at most the limit", async () => {
    const [{ server, client }] = await connect(1);
    stopReading(client);
    const limits: ChannelLimits = { ...DEFAULT_CHANNEL_LIMITS, highWaterBytes: 256 * KiB, maxOutboundBytes: 2 * MiB };
    const budget = new OutboundBudget();
    const channel = new SocketChannel(server, limits, budget);
    const frame = "x".repeat(16 * KiB);
    let maxPending = 0;
    let sent = 0;
    // the kernel takes a few MB first; then the server's own queue fills
    while (channel.sendText(frame)) {
      sent++;
      maxPending = Math.max(maxPending, channel.pendingBytes);
      if (sent % 64 === 0) await sleep(1);
      expect(sent).toBeLessThan(100_000);
    }
    expect(maxPending).toBeLessThanOrEqual(limits.maxOutboundBytes);
    expect(channel.open).toBe(false);
    // it cannot take the close frame, so it is cut within the grace period
    await new Promise((r) => (server.readyState === server.CLOSED ? r(null) : server.once("close", r)));
    await sleep(10);
    expect(budget.held).toBe(0);
  });

  it("a large frame is taken while the client keeps up", async () => {
    const [{ server, client }] = await connect(1);
    const got = new Promise<number>((r) => client.once("message", (d: Buffer) => r(d.length)));
    const channel = new SocketChannel(server, { ...DEFAULT_CHANNEL_LIMITS, highWaterBytes: 256 * KiB, maxOutboundBytes: 1 * MiB });
    expect(channel.sendText("y".repeat(3 * MiB))).toBe(true);
    expect(await got).toBe(3 * MiB);
  });

  it("sockets that do not read share one budget: past it, a congested socket is disconnected instead of queued for", async () => {
    const pairs = await connect(4);
    const limits: ChannelLimits = { ...DEFAULT_CHANNEL_LIMITS, highWaterBytes: 256 * KiB, maxOutboundBytes: 8 * MiB };
    const budget = new OutboundBudget(2 * MiB);
    const channels = pairs.map(({ server, client }) => {
      stopReading(client);
      return new SocketChannel(server, limits, budget);
    });
    const frame = "z".repeat(64 * KiB);
    let maxHeld = 0;
    for (let round = 0; round < 100_000 && channels.some((c) => c.open); round++) {
      for (const c of channels) c.sendText(frame);
      maxHeld = Math.max(maxHeld, budget.held);
      // let completed writes report back (frames the kernel took are held until then)
      await new Promise((r) => setImmediate(r));
    }
    // each socket may fill to its high-water mark (plus one frame) before the budget applies
    expect(maxHeld).toBeLessThanOrEqual(budget.maxBytes + channels.length * (limits.highWaterBytes + frame.length + PER_FRAME_COST));
    expect(channels.every((c) => !c.open)).toBe(true);
  });
});

describe("SocketChannel inbound", () => {
  it("stops reading while messages wait to be handled and reads again once they are", async () => {
    const [{ server, client }] = await connect(1, { allowSynchronousEvents: false });
    const channel = new SocketChannel(server, { ...DEFAULT_CHANNEL_LIMITS, pauseAtMessages: 8 });
    const waiting: number[] = [];
    let received = 0;
    server.on("message", (d: Buffer) => {
      if (!channel.received(d.length)) return;
      received++;
      waiting.push(d.length);
    });
    // 5 MB: far more than the chunk ws is parsing when reading stops
    const pad = "p".repeat(1000);
    for (let i = 0; i < 5000; i++) client.send(`{"n":${i},"pad":"${pad}"}`);
    await sleep(300);
    // nothing was handled: reading stopped once 8 waited (the chunk being parsed still arrives)
    expect(server.isPaused).toBe(true);
    expect(received).toBeLessThan(500);
    const before = received;
    while (waiting.length > 0) channel.handled(waiting.shift()!);
    await sleep(300);
    expect(received).toBeGreaterThan(before);
    // handle everything as it comes: all 5000 arrive
    server.removeAllListeners("message");
    server.on("message", (d: Buffer) => {
      if (channel.received(d.length)) {
        received++;
        channel.handled(d.length);
      }
    });
    while (waiting.length > 0) channel.handled(waiting.shift()!);
    for (let i = 0; i < 200 && received < 5000; i++) await sleep(10);
    expect(received).toBe(5000);
  });
});
