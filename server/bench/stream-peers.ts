/**
 * The stateful stream workloads run by the peers in their clients, on the same input as
 * Tributary's server-run pipelines (server/bench/stream-pipelines.ts): a windowed count per key
 * (1-minute tumbling windows of event time, the final count once a window closed) and a
 * stream–table join (the table read into the client's memory, then the orders joined with it).
 * Each peer is reached through a small transport (write a stream, read one from its start, count
 * one) with its documented fast path: Redis Streams (pipelined XADD, XREAD COUNT), NATS JetStream
 * (async publish window, ordered consumer), RabbitMQ stream queues (confirm window, consume from
 * the first offset). Keys and event times travel as fields / headers.
 *
 * Neither persists state: the counts and the table live in the client's memory, so a crash
 * loses them (the rows measure the processing only; at-least-once applies to the records, and
 * the writes are acknowledged before the clock stops). The input is written before the clock
 * starts, as for Tributary; the join's table is read before it too (Tributary's resumed pipeline
 * has restored it from its changelog before its first unit of work).
 */
import { Redis } from "ioredis";
import { connect, headers, RetentionPolicy, StorageType, type NatsConnection } from "nats";
import amqp, { type Channel, type ChannelModel, type ConfirmChannel } from "amqplib";
import { uniqueId, Window } from "./peers/common.ts";
import { joinInput, joinTableRow, windowCloser, windowInput, windowOutputs, type StreamSizes } from "./stream-pipelines.ts";

/** A record as the client-side processors see it. */
export interface PeerRecord {
  key: string;
  value: Buffer;
  timestamp: number;
}

/** Acknowledged writes into one stream: `send` may wait (a full window), `drain` waits for every acknowledgement. */
interface Writer {
  send(r: PeerRecord): void | Promise<void>;
  drain(): Promise<void>;
  close(): Promise<void>;
}

export interface StreamTransport {
  readonly name: string;
  available(): Promise<boolean>;
  /** A fresh, empty stream (deleted by cleanup). */
  stream(): Promise<string>;
  writer(stream: string): Promise<Writer>;
  /** Reads `n` records from the stream's start, in order; `each` may wait (the next record waits for it). */
  read(stream: string, n: number, each: (r: PeerRecord) => void | Promise<void>): Promise<void>;
  /** Records the stream holds (RabbitMQ's count lags: waits up to a while for `expected`). */
  count(stream: string, expected: number): Promise<number>;
  cleanup(): Promise<void>;
  close(): Promise<void>;
}

const MINUTE = 60_000;
const text = (r: { key: string; value: string; timestamp?: number }): PeerRecord => ({
  key: r.key,
  value: Buffer.from(r.value),
  timestamp: r.timestamp ?? 0,
});

async function load(t: StreamTransport, stream: string, n: number, record: (i: number) => PeerRecord): Promise<void> {
  const w = await t.writer(stream);
  try {
    for (let i = 0; i < n; i++) {
      const waiting = w.send(record(i));
      if (waiting) await waiting;
    }
    await w.drain();
  } finally {
    await w.close();
  }
}

/** Count per key in 1-minute tumbling windows, final only; timed from the first read until every count is acknowledged. */
export async function peerWindow(t: StreamTransport, s: StreamSizes["window"]): Promise<{ ms: number }> {
  const [input, output] = [await t.stream(), await t.stream()];
  await load(t, input, s.records + 1, (i) => text(i < s.records ? windowInput(i, s) : windowCloser(s)));
  const out = await t.writer(output);
  const open = new Map<number, Map<string, number>>(); // window start → key → count
  let watermark = Number.NEGATIVE_INFINITY;
  let emitted = 0;
  try {
    const t0 = performance.now();
    await t.read(input, s.records + 1, async (r) => {
      JSON.parse(r.value.toString()); // the value is decoded, as the server's JSON source does
      const start = r.timestamp - (r.timestamp % MINUTE);
      if (start + MINUTE <= watermark) return; // late: its window closed
      let counts = open.get(start);
      if (!counts) open.set(start, (counts = new Map()));
      counts.set(r.key, (counts.get(r.key) ?? 0) + 1);
      if (r.timestamp <= watermark) return;
      watermark = r.timestamp;
      for (const [st, closed] of open) {
        if (st + MINUTE > watermark) continue;
        open.delete(st);
        for (const [key, n] of closed) {
          const value = Buffer.from(JSON.stringify({ window: { start: st, end: st + MINUTE }, n }));
          const waiting = out.send({ key, value, timestamp: st + MINUTE - 1 });
          if (waiting) await waiting;
          emitted++;
        }
      }
    });
    await out.drain();
    const ms = performance.now() - t0;
    const stored = await t.count(output, windowOutputs(s));
    if (emitted !== windowOutputs(s) || stored !== emitted)
      throw new Error(`${t.name} window: emitted ${emitted}, stored ${stored}, expected ${windowOutputs(s)}`);
    return { ms };
  } finally {
    await out.close();
  }
}

/** Orders joined with the table (read into memory before the clock starts); timed until every joined record is acknowledged. */
export async function peerJoin(t: StreamTransport, s: StreamSizes["join"]): Promise<{ ms: number }> {
  const [customers, orders, output] = [await t.stream(), await t.stream(), await t.stream()];
  await load(t, customers, s.tableKeys, (j) => text(joinTableRow(j)));
  await load(t, orders, s.records, (i) => text(joinInput(i, s.tableKeys)));
  const table = new Map<string, { tier: string }>();
  await t.read(customers, s.tableKeys, (r) => void table.set(r.key, JSON.parse(r.value.toString()) as { tier: string }));
  const out = await t.writer(output);
  let joined = 0;
  try {
    const t0 = performance.now();
    await t.read(orders, s.records, async (r) => {
      const order = JSON.parse(r.value.toString()) as { order: number; amount: number };
      const customer = table.get(r.key);
      if (!customer) return;
      const value = Buffer.from(JSON.stringify({ order: order.order, amount: order.amount, tier: customer.tier }));
      const waiting = out.send({ key: r.key, value, timestamp: r.timestamp });
      if (waiting) await waiting;
      joined++;
    });
    await out.drain();
    const ms = performance.now() - t0;
    const stored = await t.count(output, s.records);
    if (joined !== s.records || stored !== joined)
      throw new Error(`${t.name} join: joined ${joined}, stored ${stored}, expected ${s.records}`);
    return { ms };
  } finally {
    await out.close();
  }
}

// ---- Redis Streams: pipelines of 1,000 XADD (8 in flight), XREAD COUNT 10000 ----

const REDIS_URL = process.env.TRIBUTARY_BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";

async function redis(): Promise<Redis> {
  const c = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  c.on("error", () => {});
  await c.connect();
  return c;
}

function checked(results: [Error | null, unknown][] | null): void {
  if (!results) throw new Error("redis pipeline aborted");
  for (const [err] of results) if (err) throw err;
}

export class RedisStreamTransport implements StreamTransport {
  readonly name = "redis-streams";
  private admin: Redis | null = null;
  private keys: string[] = [];

  async available(): Promise<boolean> {
    try {
      this.admin ??= await redis();
      return (await this.admin.ping()) === "PONG";
    } catch {
      return false;
    }
  }

  async stream(): Promise<string> {
    const key = `tributary-bench:${uniqueId()}:stream`;
    this.keys.push(key);
    return key;
  }

  async writer(stream: string): Promise<Writer> {
    const c = await redis();
    const window = new Window(8);
    let pipe = c.pipeline();
    let queued = 0;
    const flush = async () => {
      if (queued === 0) return;
      await window.acquire();
      window.track(pipe.exec().then(checked));
      pipe = c.pipeline();
      queued = 0;
    };
    return {
      send: (r) => {
        pipe.xadd(stream, "*", "k", r.key, "t", String(r.timestamp), "d", r.value);
        if (++queued === 1000) return flush();
      },
      drain: async () => {
        await flush();
        await window.drain();
      },
      close: async () => c.disconnect(),
    };
  }

  async read(stream: string, n: number, each: (r: PeerRecord) => void | Promise<void>): Promise<void> {
    const c = await redis();
    try {
      let id = "0-0";
      for (let got = 0; got < n;) {
        type Reply = [Buffer, [Buffer, Buffer[]][]][] | null;
        const reply = (await c.xreadBuffer("COUNT", 10_000, "STREAMS", stream, id)) as unknown as Reply;
        if (!reply) throw new Error(`redis: ${stream} ended after ${got} of ${n} records`);
        const entries = reply[0][1];
        for (const [, f] of entries) {
          const waiting = each({ key: f[1].toString(), timestamp: Number(f[3].toString()), value: f[5] });
          if (waiting) await waiting;
        }
        got += entries.length;
        if (entries.length > 0) id = entries[entries.length - 1][0].toString();
      }
    } finally {
      c.disconnect();
    }
  }

  async count(stream: string): Promise<number> {
    return this.admin!.xlen(stream);
  }

  async cleanup(): Promise<void> {
    if (this.keys.length > 0) await this.admin?.del(...this.keys.splice(0));
  }

  async close(): Promise<void> {
    await this.cleanup().catch(() => undefined);
    this.admin?.disconnect();
    this.admin = null;
  }
}

// ---- NATS JetStream: file-storage streams, async publish window of 2,048, ordered consumer ----

const NATS_SERVERS = process.env.TRIBUTARY_BENCH_NATS_URL ?? "127.0.0.1:4222";
const natsSubject = (stream: string) => `tributary.bench.${stream}`;

export class NatsStreamTransport implements StreamTransport {
  readonly name = "nats-jetstream";
  private nc: NatsConnection | null = null;
  private streams: string[] = [];

  private async connection(): Promise<NatsConnection> {
    this.nc ??= await connect({ servers: NATS_SERVERS, timeout: 2000, reconnect: false, maxReconnectAttempts: 0, noAsyncTraces: true });
    return this.nc;
  }

  async available(): Promise<boolean> {
    try {
      await (await (await this.connection()).jetstreamManager()).getAccountInfo();
      return true;
    } catch {
      return false;
    }
  }

  async stream(): Promise<string> {
    // the peers' prefix, the pid first: a crashed run's streams are deleted by the next one
    const name = `TRIBUTARY_BENCH_${uniqueId().replace(/-/g, "_")}`;
    const jsm = await (await this.connection()).jetstreamManager();
    await jsm.streams.add({
      name,
      subjects: [natsSubject(name)],
      storage: StorageType.File,
      num_replicas: 1,
      retention: RetentionPolicy.Limits,
    });
    this.streams.push(name);
    return name;
  }

  async writer(stream: string): Promise<Writer> {
    const js = (await this.connection()).jetstream();
    const subject = natsSubject(stream);
    const window = new Window(2048);
    const publish = (r: PeerRecord) => {
      const h = headers();
      h.set("k", r.key);
      h.set("t", String(r.timestamp));
      window.track(js.publish(subject, r.value, { headers: h }));
    };
    return {
      send: (r) => {
        if (window.tryAcquire()) return publish(r);
        return window.acquire().then(() => publish(r));
      },
      drain: () => window.drain(),
      close: async () => undefined,
    };
  }

  async read(stream: string, n: number, each: (r: PeerRecord) => void | Promise<void>): Promise<void> {
    const c = await (await this.connection()).jetstream().consumers.get(stream);
    const msgs = await c.consume({ max_messages: 10_000 });
    try {
      let got = 0;
      for await (const m of msgs) {
        const waiting = each({
          key: m.headers?.get("k") ?? "",
          timestamp: Number(m.headers?.get("t")),
          value: Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength),
        });
        if (waiting) await waiting;
        if (++got === n) break;
      }
      if (got !== n) throw new Error(`nats: ${stream} ended after ${got} of ${n} records`);
    } finally {
      msgs.stop();
    }
  }

  async count(stream: string): Promise<number> {
    return (await (await (await this.connection()).jetstreamManager()).streams.info(stream)).state.messages;
  }

  async cleanup(): Promise<void> {
    if (this.streams.length === 0) return;
    const jsm = await (await this.connection()).jetstreamManager();
    for (const s of this.streams.splice(0)) await jsm.streams.delete(s).catch(() => false);
  }

  async close(): Promise<void> {
    await this.cleanup().catch(() => undefined);
    await this.nc?.close().catch(() => undefined);
    this.nc = null;
  }
}

// ---- RabbitMQ stream queues: confirm window of 4,096, consume from the first offset (prefetch 2,000) ----

const RABBITMQ_URL = process.env.TRIBUTARY_BENCH_RABBITMQ_URL ?? "amqp://guest:guest@127.0.0.1:5672";

async function rabbit(): Promise<ChannelModel> {
  const c = await amqp.connect(RABBITMQ_URL, { timeout: 2000 });
  c.on("error", () => {});
  return c;
}

function quietly<T extends Channel>(ch: T): T {
  ch.on("error", () => {});
  return ch;
}

export class RabbitStreamTransport implements StreamTransport {
  readonly name = "rabbitmq-streams";
  private admin: ChannelModel | null = null;
  private channel: Channel | null = null;
  private queues: string[] = [];

  private async adminChannel(): Promise<Channel> {
    if (!this.channel) {
      this.admin = await rabbit();
      this.channel = quietly(await this.admin.createChannel());
    }
    return this.channel;
  }

  async available(): Promise<boolean> {
    try {
      await this.adminChannel();
      return true;
    } catch {
      return false;
    }
  }

  async stream(): Promise<string> {
    const name = `tributary-bench-${uniqueId()}`;
    await (await this.adminChannel()).assertQueue(name, { durable: true, arguments: { "x-queue-type": "stream" } });
    this.queues.push(name);
    return name;
  }

  async writer(queue: string): Promise<Writer> {
    const conn = await rabbit();
    const ch: ConfirmChannel = quietly(await conn.createConfirmChannel());
    const window = new Window(4096);
    return {
      send: async (r) => {
        if (!window.tryAcquire()) await window.acquire();
        const ok = ch.sendToQueue(queue, r.value, { headers: { k: r.key, t: r.timestamp } }, (err) => {
          if (err) window.fail(err instanceof Error ? err : new Error(`rabbitmq nack on ${queue}`));
          window.release();
        });
        if (!ok) await new Promise<void>((resolve) => ch.once("drain", () => resolve()));
      },
      drain: () => window.drain(),
      close: () => conn.close().catch(() => undefined),
    };
  }

  async read(queue: string, n: number, each: (r: PeerRecord) => void | Promise<void>): Promise<void> {
    const conn = await rabbit();
    try {
      const ch = quietly(await conn.createChannel());
      await ch.prefetch(2000);
      const inbox: amqp.Message[] = [];
      let got = 0;
      let pumping = false;
      let finish!: () => void;
      let fail!: (e: unknown) => void;
      const finished = new Promise<void>((resolve, reject) => ((finish = resolve), (fail = reject)));
      // one message at a time, in delivery order; a multiple-ack every 500 once handled
      const pump = async () => {
        pumping = true;
        try {
          for (let m = inbox.shift(); m; m = inbox.shift()) {
            const headers = m.properties.headers ?? {};
            const waiting = each({ key: String(headers.k), timestamp: Number(headers.t), value: m.content });
            if (waiting) await waiting;
            if (++got % 500 === 0 || got === n) ch.ack(m, true);
            if (got === n) return finish();
          }
        } catch (e) {
          fail(e);
        } finally {
          pumping = false;
        }
      };
      const { consumerTag } = await ch.consume(
        queue,
        (m) => {
          if (!m) return fail(new Error(`rabbitmq consumer of ${queue} cancelled`));
          inbox.push(m);
          if (!pumping) void pump();
        },
        { noAck: false, arguments: { "x-stream-offset": "first" } },
      );
      await finished;
      await ch.cancel(consumerTag);
    } finally {
      await conn.close().catch(() => undefined);
    }
  }

  async count(queue: string, expected: number): Promise<number> {
    // a stream queue's message count refreshes every few seconds
    const ch = await this.adminChannel();
    const until = performance.now() + 30_000;
    for (;;) {
      const n = (await ch.checkQueue(queue)).messageCount;
      if (n >= expected || performance.now() > until) return n;
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async cleanup(): Promise<void> {
    if (this.queues.length === 0) return;
    const ch = await this.adminChannel();
    for (const q of this.queues.splice(0)) await ch.deleteQueue(q).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.cleanup().catch(() => undefined);
    await this.admin?.close().catch(() => undefined);
    this.admin = null;
    this.channel = null;
  }
}

export const streamTransports = (): StreamTransport[] => [
  new RedisStreamTransport(),
  new NatsStreamTransport(),
  new RabbitStreamTransport(),
];
