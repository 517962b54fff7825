/**
 * Hostile WebSocket clients against a real server on both databases: none of them may make the
 * server hold unbounded memory or stall other clients. A client that never reads (its TCP socket
 * paused, so replies pile up at the server) and floods pings is disconnected; a thousand
 * `subscribe-metrics` on one socket are refused past the per-socket cap; sockets per client
 * address are capped; a flood of messages that are slow to handle is read only as fast as it is
 * handled; seeded random and mutated messages get error frames, never an internal error or a
 * crash. After each, the server still answers within the stall limit, its RSS is bounded and a
 * normal produce/fetch works.
 */
import { beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { DATABASE_KINDS } from "../testing/databases.ts";
import { rng } from "../testing/prng.ts";
import { expectProduceFetchWorks, expectRssBounded, RSS_LIMIT_BYTES, withoutStall } from "../testing/hardening-kit.ts";
import { rssBytes } from "../testing/server-process.ts";
import { useTestServer, type TestServer } from "../testing/test-server.ts";
import { apiJson } from "../testing/api-client.ts";

const MAX_SOCKETS_PER_ADDRESS = 8;
const SUBSCRIPTION_CAP = 32;
const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Frame = any;

interface Client {
  ws: WebSocket;
  frames: Frame[];
  /** Resolves when the socket closes (code 1006 when it was cut without a close frame). */
  closed: Promise<{ code: number; reason: string }>;
  send(msg: unknown): void;
  until(pred: () => boolean, what: string, ms?: number): Promise<void>;
  /** The TCP socket under the client: paused, the client reads nothing. */
  tcp(): { pause(): void; resume(): void };
}

function wsUrl(server: TestServer): string {
  return server.url.replace(/^http/, "ws") + "/ws";
}

function connect(server: TestServer): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(server));
    const frames: Frame[] = [];
    ws.on("message", (d) => frames.push(JSON.parse(d.toString())));
    const closed = new Promise<{ code: number; reason: string }>((res) =>
      ws.once("close", (code, reason) => res({ code, reason: reason.toString() })),
    );
    ws.on("error", () => undefined);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
    ws.once("open", () =>
      resolve({
        ws,
        frames,
        closed,
        send: (msg) => ws.send(JSON.stringify(msg)),
        async until(pred, what, ms = 20_000) {
          const end = Date.now() + ms;
          while (!pred()) {
            if (Date.now() > end)
              throw new Error(`waited ${ms} ms for ${what}; last frames ${JSON.stringify(frames.slice(-3)).slice(0, 500)}`);
            await sleep(20);
          }
        },
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        tcp: () => (ws as any)._socket,
      }),
    );
  });
}

/** An upgrade the server refuses: its status and JSON body. */
function refusedUpgrade(server: TestServer): Promise<{ status: number; contentType: string; body: Frame }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(server));
    ws.on("error", () => undefined);
    ws.once("open", () => {
      ws.terminate();
      reject(new Error("the upgrade was accepted"));
    });
    ws.once("unexpected-response", (_req, res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d));
      res.on("end", () => {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers["content-type"] ?? ""), body });
      });
    });
  });
}

/** What one hostile client may add to the server's RSS (the absolute limit is checked too). */
const MAX_GROWTH_BYTES = 100 * MiB;

/**
 * Samples the server's RSS while `fn` runs; asserts the peak stays under the limit and within
 * MAX_GROWTH_BYTES of where it started (so the check holds whatever the idle footprint is).
 */
async function peakRss<T>(pid: number, what: (peakMb: number, result: T) => string, fn: () => Promise<T>): Promise<T> {
  const before = await rssBytes(pid);
  let peak = before;
  let running = true;
  const sampler = (async () => {
    while (running) {
      peak = Math.max(peak, await rssBytes(pid).catch(() => 0));
      await sleep(100);
    }
  })();
  let result: T;
  try {
    result = await fn();
  } finally {
    running = false;
    await sampler;
  }
  const label = `${what(Math.round(peak / MiB), result)}; RSS before ${Math.round(before / MiB)} MB`;
  expect(peak, label).toBeLessThan(RSS_LIMIT_BYTES);
  expect(peak - before, label).toBeLessThan(MAX_GROWTH_BYTES);
  return result;
}

const api = (server: TestServer, method: string, path: string, body?: unknown): Promise<Frame> =>
  apiJson(server.url + "/api/v1", method, path, body);

async function afterwards(server: TestServer): Promise<void> {
  expect(server.child.exitCode, `server exited:\n${server.output().slice(-2000)}`).toBeNull();
  await expectRssBounded(server.pid);
  await expectProduceFetchWorks(server.url);
}

describe.each(DATABASE_KINDS)("WebSocket limits (%s database)", (kind) => {
  const server = useTestServer({ TRIBUTARY_WS_MAX_SOCKETS_PER_ADDRESS: String(MAX_SOCKETS_PER_ADDRESS) }, kind);
  // Next loads a route's code on its first request (hundreds of ms on a busy machine): not what the probe is for
  beforeAll(() => expectProduceFetchWorks(server.url));

  it("refuses more sockets from one address than configured, with a 429 JSON error, and counts closed ones out", async () => {
    const open: Client[] = [];
    const closeAll = async () => {
      for (const c of open) c.ws.close();
      await Promise.all(open.map((c) => c.closed));
    };
    await withoutStall(server.url, async () => {
      for (let i = 0; i < MAX_SOCKETS_PER_ADDRESS; i++) open.push(await connect(server));
      const refused = await refusedUpgrade(server);
      expect(refused.status).toBe(429);
      expect(refused.contentType).toMatch(/^application\/json/);
      expect(refused.body.error).toMatchObject({ code: "TOO_MANY_CONNECTIONS", details: { limit: MAX_SOCKETS_PER_ADDRESS } });
      expect(refused.body.error.message).toMatch(/at most 8 WebSocket connections per client address/);
      // the sockets that are open still work
      open[0].send({ type: "ping" });
      await open[0].until(() => open[0].frames.some((f) => f.type === "pong"), "pong");
      // one closed: its place is free again once the server has seen the close
      open.shift()!.ws.close();
      let again: Client | undefined;
      for (let tries = 0; !again; tries++) {
        try {
          again = await connect(server);
        } catch (e) {
          if (tries > 50) throw e;
          await sleep(100);
        }
      }
      open.push(again);
    }).finally(closeAll);
    await afterwards(server);
  });

  it("disconnects a client that floods pings and never reads its replies; memory stays bounded", async () => {
    const c = await connect(server);
    c.tcp().pause();
    let failed = false;
    c.ws.on("error", () => (failed = true));
    const ping = JSON.stringify({ type: "ping" });
    const sent = await peakRss(
      server.pid,
      (mb, n) => `peak server RSS ${mb} MB during ${n} pings`,
      () =>
        withoutStall(server.url, async () => {
          // about 1.7 M pings killed the old server (its replies were queued without limit)
          let n = 0;
          const end = Date.now() + 30_000;
          const going = () => !failed && c.ws.readyState === WebSocket.OPEN && Date.now() < end;
          while (n < 3_000_000 && going()) {
            for (let i = 0; i < 200; i++) c.ws.send(ping);
            n += 200;
            // keep the test process (which runs the health probe) light: wait while our own send buffer is full
            while (c.ws.bufferedAmount > 256 * 1024 && going()) await sleep(5);
            await new Promise((r) => setImmediate(r));
          }
          return n;
        }),
    );
    // reading again, the client finds its connection closed by the server (1008, or cut: 1006)
    c.tcp().resume();
    const closed = await Promise.race([c.closed, sleep(15_000).then(() => null)]);
    expect(closed, `the flooding client was not disconnected after ${sent} pings`).not.toBeNull();
    expect([1008, 1006]).toContain(closed!.code);
    await afterwards(server);
  });

  it("refuses subscribe-metrics past the per-socket cap (1,000 on one socket, 68 topics) without stalling", async () => {
    for (let i = 0; i < 68; i++) await api(server, "POST", "/topics", { name: `metrics-${i}`, partitions: 1 });
    const c = await connect(server);
    await peakRss(
      server.pid,
      (mb) => `peak server RSS ${mb} MB with 1,000 subscribe-metrics`,
      () =>
        withoutStall(server.url, async () => {
          for (let i = 0; i < 1000; i++) c.send({ type: "subscribe-metrics", id: `m${i}` });
          await c.until(() => c.frames.filter((f) => f.type === "error").length >= 1000 - SUBSCRIPTION_CAP, "the refusals");
          // a few ticks of metrics for the subscriptions that were taken
          const seen = c.frames.filter((f) => f.type === "metrics").length;
          await c.until(() => c.frames.filter((f) => f.type === "metrics").length >= seen + 3 * SUBSCRIPTION_CAP, "three ticks of metrics");
        }),
    );
    const errors = c.frames.filter((f) => f.type === "error");
    expect(errors).toHaveLength(1000 - SUBSCRIPTION_CAP);
    expect(new Set(errors.map((e) => e.id))).toEqual(
      new Set(Array.from({ length: 1000 - SUBSCRIPTION_CAP }, (_, i) => `m${i + SUBSCRIPTION_CAP}`)),
    );
    for (const e of errors) {
      expect(e.error.code).toBe("VALIDATION_FAILED");
      expect(e.error.message).toMatch(/at most 32 subscriptions per socket \(live tail, metrics and group memberships together\)/);
    }
    const metricIds = new Set(c.frames.filter((f) => f.type === "metrics").map((f) => f.id));
    expect(metricIds.size).toBe(SUBSCRIPTION_CAP);
    expect(c.frames.find((f) => f.type === "metrics").metrics.topics).toBeGreaterThanOrEqual(68);
    c.ws.close();

    // subscriptions of every kind count together: 20 live tail + 11 metrics + 1 group membership
    const d = await connect(server);
    for (let i = 0; i < 20; i++) d.send({ type: "subscribe", id: `t${i}`, topic: "metrics-0" });
    for (let i = 0; i < 11; i++) d.send({ type: "subscribe-metrics", id: `x${i}` });
    d.send({ type: "join-group", id: "g", group: "ws-cap", topics: ["metrics-1"] });
    await d.until(() => d.frames.some((f) => f.type === "assignment" && f.id === "g"), "the group assignment");
    d.send({ type: "subscribe-metrics", id: "over-1" });
    d.send({ type: "subscribe", id: "over-2", topic: "metrics-0" });
    d.send({ type: "join-group", id: "over-3", group: "ws-cap-2", topics: ["metrics-2"] });
    await d.until(() => d.frames.filter((f) => f.type === "error").length >= 3, "three refusals");
    expect(d.frames.filter((f) => f.type === "error").map((f) => [f.id, f.error.details])).toEqual([
      ["over-1", { limit: 32, open: 32 }],
      ["over-2", { limit: 32, open: 32 }],
      ["over-3", { limit: 32, open: 32 }],
    ]);
    // freeing one makes room again
    d.send({ type: "unsubscribe", id: "t0" });
    d.send({ type: "subscribe-metrics", id: "fits" });
    await d.until(() => d.frames.some((f) => f.type === "metrics" && f.id === "fits"), "metrics for the subscription that fits");
    d.ws.close();
    await afterwards(server);
  });

  it("reads a flood of slow messages only as fast as it handles them", async () => {
    await api(server, "POST", "/topics", { name: "inbound-flood", partitions: 1 });
    const c = await connect(server);
    c.send({ type: "join-group", id: "g", group: "inbound-flood", topics: ["inbound-flood"], autoCommit: false });
    await c.until(() => c.frames.some((f) => f.type === "assignment" && f.id === "g"), "the group assignment");
    // each commit is a database write; padding makes each message ~60 KB for the server to hold
    const commit = JSON.stringify({ type: "commit", id: "g", offsets: [{ topic: "inbound-flood", partition: 0, offset: 0 }] });
    const padded = commit.slice(0, -1) + " ".repeat(60_000) + "}";
    await peakRss(
      server.pid,
      (mb, sent) => `peak server RSS ${mb} MB after ${Math.round(sent / MiB)} MB of commits`,
      () =>
        withoutStall(server.url, async () => {
          let bytes = 0;
          const end = Date.now() + 12_000;
          while (bytes < 1024 * MiB && c.ws.readyState === WebSocket.OPEN && Date.now() < end) {
            for (let i = 0; i < 16; i++) c.ws.send(padded);
            bytes += 16 * padded.length;
            while (c.ws.bufferedAmount > 8 * MiB && Date.now() < end) await sleep(5);
            await new Promise((r) => setImmediate(r));
          }
          return bytes;
        }),
    );
    // the socket is still served: what was read gets handled, then the ping behind it
    c.send({ type: "ping" });
    await c.until(() => c.frames.some((f) => f.type === "pong"), "the pong after the flood", 60_000);
    expect(c.frames.filter((f) => f.type === "error")).toEqual([]);
    c.ws.close();
    await afterwards(server);
  });

  it("answers seeded random and mutated messages with error frames: no internal error, no crash, no stall (fuzz)", async () => {
    await api(server, "POST", "/topics", { name: "fuzz", partitions: 2 });
    await api(server, "POST", "/topics/fuzz/records", {
      records: Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
    });
    const SEED = 13;
    const COUNT = 1500;
    const next = rng(SEED);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(next() * a.length)];
    const weird = (): unknown =>
      pick([
        -1,
        0,
        1,
        2 ** 31,
        2 ** 53,
        -(2 ** 63),
        1e308,
        0.5,
        "",
        "a\u0000b",
        "x\ud800y",
        "\u0001",
        "é".repeat(300),
        "x".repeat(5000),
        null,
        true,
        [],
        {},
        [1, [2, [3]]],
        { $: 1 },
        "fuzz",
        "earliest",
        { offset: -1 },
        { timestamp: 2 ** 62 },
        ["fuzz", "fuzz"],
        "(a+)+$",
      ]);
    const id = () => pick(["a", "b", "c", "g1", "g2", "m"]);
    // ids and metadata a client may send that the database cannot store as given (NUL, lone surrogates)
    const group = () => pick(["fz-0", "fz-1", "fz-2", "a\u0000b", "x\ud800y", "\u0001", " g ", "é".repeat(200)]);
    const metadata = () => pick(["m", null, "", "m\u0000", "x\ud800", "é".repeat(1000)]);
    const base = (): Record<string, unknown> =>
      pick([
        () => ({
          type: "subscribe",
          id: id(),
          topic: "fuzz",
          partitions: pick([[0], [1], [0, 1], undefined]),
          from: pick(["earliest", "latest", { offset: 3 }, { timestamp: 0 }]),
        }),
        () => ({ type: "unsubscribe", id: id() }),
        () => ({ type: "subscribe-metrics", id: id() }),
        () => ({ type: "ping" }),
        () => ({ type: "join-group", id: id(), group: group(), topics: ["fuzz"], autoOffsetReset: pick(["earliest", "latest", "none"]) }),
        () => ({ type: "join-group", id: id(), group: group(), topicPattern: pick(["fu.*", "(a+)+$", "[", ".*"]), autoCommit: false }),
        () => ({
          type: "commit",
          id: id(),
          offsets: [{ topic: "fuzz", partition: pick([0, 1, 7]), offset: pick([0, 1, 20, 2 ** 40]), metadata: metadata() }],
        }),
        () => ({ type: "commit", id: id() }),
        () => ({ type: "leave-group", id: id() }),
      ])();
    const mutateObject = (m: Record<string, unknown>) => {
      for (let k = 1 + Math.floor(next() * 2); k > 0; k--) {
        const keys = Object.keys(m);
        const op = next();
        if (op < 0.5) m[next() < 0.85 && keys.length ? pick(keys) : pick(["extra", "offsets", "partitions", "from", "group"])] = weird();
        else if (op < 0.7 && keys.length) delete m[pick(keys)];
        else if (op < 0.85 && keys.length) m[pick(keys)] = [m[pick(keys)]];
        else m.type = pick(["subscribe", "SUBSCRIBE", "", 7, "join-group", "commit", "metrics"]);
      }
      return m;
    };
    const mutateText = (t: string): string => {
      const at = Math.floor(next() * (t.length + 1));
      return pick([
        () => t.slice(0, at),
        () => t.slice(0, at) + pick(["{", "}", '"', "\\", ",", ":", "\u0000", "\ud83d", "1e999", "null"]) + t.slice(at),
        () => `[${t}]`,
        () => "[".repeat(20_000) + "]".repeat(20_000),
        () => t.replace(/"id":"[^"]*"/, '"id":"a","id":"b"'),
        () => t + t,
      ])();
    };
    const KNOWN = new Set([
      "subscribed",
      "records",
      "lagging",
      "unsubscribed",
      "pong",
      "metrics",
      "group-joined",
      "assignment",
      "committed",
      "group-left",
      "error",
    ]);
    const problems: string[] = [];
    const closes: number[] = [];
    let c = await connect(server);
    const check = (client: Client) => {
      for (const f of client.frames.splice(0)) {
        if (!KNOWN.has(f.type)) problems.push(`unknown frame ${JSON.stringify(f).slice(0, 200)}`);
        if (f.type === "error" && (typeof f.error?.code !== "string" || f.error.code === "INTERNAL"))
          problems.push(`error frame ${JSON.stringify(f).slice(0, 300)}`);
      }
    };
    await withoutStall(server.url, async () => {
      for (let i = 0; i < COUNT; i++) {
        if (c.ws.readyState !== WebSocket.OPEN) {
          const { code } = await c.closed;
          check(c);
          closes.push(code);
          // invalid UTF-8 (1007), a policy limit (1008) or a message too big (1009) end a socket; nothing else may
          if (![1007, 1008, 1009].includes(code)) problems.push(`socket closed with ${code}`);
          c = await connect(server);
        }
        const roll = next();
        if (roll < 0.03) c.ws.send(Buffer.from([0x7b, 0x00, 0xff, Math.floor(next() * 256)]), { binary: true });
        else if (roll < 0.2) c.ws.send(mutateText(JSON.stringify(base())));
        else if (roll < 0.55) c.ws.send(JSON.stringify(mutateObject(base())));
        else c.ws.send(JSON.stringify(base()));
        if (i % 25 === 0) {
          c.send({ type: "ping" });
          await c.until(() => c.frames.some((f) => f.type === "pong") || c.ws.readyState !== WebSocket.OPEN, "a pong", 30_000);
          check(c);
        }
      }
      if (c.ws.readyState === WebSocket.OPEN) {
        c.send({ type: "ping" });
        await c.until(() => c.frames.some((f) => f.type === "pong"), "the last pong", 30_000);
      }
      check(c);
    });
    expect(problems, `seed ${SEED}`).toEqual([]);
    c.ws.close();
    await afterwards(server);
  });
});
