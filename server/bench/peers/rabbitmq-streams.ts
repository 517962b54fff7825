/**
 * RabbitMQ streams through AMQP 0-9-1 stream queues with amqplib (the server here is 3.10, whose
 * stream protocol the 1.x rabbitmq-stream-js-client does not speak). Fast path: publisher
 * confirms on a confirm channel with an asynchronous window of 4,096 unconfirmed messages per
 * producer connection, honouring the channel's write backpressure ('drain'); one stream queue
 * (x-queue-type=stream, durable) per partition. Reads with basic.consume, x-stream-offset=first,
 * prefetch 2,000 and one multiple-ack per 500 messages.
 */
import amqp, { type Channel, type ChannelModel, type ConfirmChannel } from "amqplib";
import type { ConsumeOptions, LatencyOptions, LatencyResult, Peer, ProduceOptions } from "./types.ts";
import { LatencyCollector, pace, split, stampedPayload, uniqueId, Window } from "./common.ts";

const URL = process.env.TRIBUTARY_BENCH_RABBITMQ_URL ?? "amqp://guest:guest@127.0.0.1:5672";
const CONFIRM_WINDOW = 4096;
const PREFETCH = 2000;
const ACK_EVERY = 500;
const QUEUE_PREFIX = "tributary-bench-";

async function open(): Promise<ChannelModel> {
  const c = await amqp.connect(URL, { timeout: 2000 });
  c.on("error", () => {}); // a failure also surfaces as a rejected confirm or a close
  return c;
}

/** A channel whose 'error' events (emitted as it closes) do not crash the process. */
function quiet<T extends Channel>(ch: T): T {
  ch.on("error", () => {});
  return ch;
}

/** Publishes one message on a confirm channel inside `window`, waiting for 'drain' if the socket buffer is full. */
async function publish(ch: ConfirmChannel, window: Window, queue: string, body: Buffer): Promise<void> {
  if (!window.tryAcquire()) await window.acquire();
  const ok = ch.sendToQueue(queue, body, {}, (err) => {
    if (err) window.fail(err instanceof Error ? err : new Error(`rabbitmq nack on ${queue}`));
    window.release();
  });
  if (!ok) await new Promise<void>((resolve) => ch.once("drain", () => resolve()));
}

/** Consumes a stream queue from its first offset, calling `onMessage` with each body, until `count` arrived. */
async function consumeQueue(ch: Channel, queue: string, count: number, onMessage: (body: Buffer) => void): Promise<() => Promise<void>> {
  let got = 0;
  let finish!: () => void;
  let fail!: (e: unknown) => void;
  const finished = new Promise<void>((resolve, reject) => ((finish = resolve), (fail = reject)));
  finished.catch(() => {}); // observed by the returned function
  if (count === 0) finish();
  const { consumerTag } = await ch.consume(
    queue,
    (msg) => {
      if (!msg) return fail(new Error(`rabbitmq consumer of ${queue} cancelled`));
      onMessage(msg.content);
      got++;
      if (got % ACK_EVERY === 0 || got === count) ch.ack(msg, true);
      if (got === count) finish();
    },
    { noAck: false, arguments: { "x-stream-offset": "first" } },
  );
  return async () => {
    await finished;
    await ch.cancel(consumerTag);
  };
}

export class RabbitMqStreamsPeer implements Peer {
  name = "rabbitmq-streams";
  fastPath = `amqplib confirm channel, async window of ${CONFIRM_WINDOW} unconfirmed publishes per producer connection (callback confirms, 'drain' backpressure); one stream queue per partition; basic.consume x-stream-offset=first, prefetch ${PREFETCH}, multiple-ack every ${ACK_EVERY}`;
  private admin: ChannelModel | null = null;
  private adminChannel: Channel | null = null;
  private queues: string[] = [];
  private lastQueues: string[] = [];

  private async channel(): Promise<Channel> {
    if (!this.adminChannel) {
      this.admin = await open();
      this.adminChannel = quiet(await this.admin.createChannel());
    }
    return this.adminChannel;
  }

  async available(): Promise<boolean> {
    try {
      await this.channel();
      return true;
    } catch {
      await this.admin?.close().catch(() => {});
      this.admin = null;
      this.adminChannel = null;
      return false;
    }
  }

  async durability(): Promise<string> {
    await this.channel();
    const version = String(this.admin!.connection.serverProperties.version ?? "?");
    return (
      `RabbitMQ ${version}: stream queues (durable, single node); a publisher confirm is sent once the message ` +
      `is written to the stream's segment file on the quorum of replicas (here: this one node); streams never fsync ` +
      `(they rely on the OS page cache and on replication), so an OS crash can lose confirmed messages`
    );
  }

  private async createQueues(partitions: number): Promise<string[]> {
    await this.cleanup();
    const ch = await this.channel();
    const id = uniqueId();
    const names = Array.from({ length: partitions }, (_, p) => `${QUEUE_PREFIX}${id}-${p}`);
    this.queues = names;
    for (const q of names) await ch.assertQueue(q, { durable: true, arguments: { "x-queue-type": "stream" } });
    return names;
  }

  async produce(opts: ProduceOptions): Promise<{ ms: number }> {
    const queues = await this.createQueues(opts.partitions);
    this.lastQueues = queues;
    const conns = await Promise.all(Array.from({ length: opts.producers }, open));
    try {
      const channels = await Promise.all(conns.map(async (c) => quiet(await c.createConfirmChannel())));
      const payload = Buffer.alloc(opts.size, 120);
      const t0 = performance.now();
      await Promise.all(
        split(opts.records, opts.producers).map(async (n, producer) => {
          const ch = channels[producer];
          const window = new Window(CONFIRM_WINDOW);
          let k = producer;
          for (let i = 0; i < n; i++) await publish(ch, window, queues[k++ % opts.partitions], payload);
          await window.drain();
        }),
      );
      return { ms: performance.now() - t0 };
    } finally {
      await Promise.all(conns.map((c) => c.close().catch(() => {})));
    }
  }

  async consume(opts: ConsumeOptions): Promise<{ ms: number }> {
    const queues = this.lastQueues.slice(0, opts.partitions);
    const conn = await open();
    try {
      const ch = quiet(await conn.createChannel());
      await ch.prefetch(PREFETCH);
      const perQueue = split(opts.records, queues.length);
      let bad = false;
      const t0 = performance.now();
      const waits = await Promise.all(
        queues.map((q, i) =>
          consumeQueue(ch, q, perQueue[i], (body) => {
            if (body.length !== opts.size) bad = true;
          }),
        ),
      );
      await Promise.all(waits.map((w) => w()));
      const ms = performance.now() - t0;
      if (bad) throw new Error("rabbitmq: wrong payload size");
      return { ms };
    } finally {
      await conn.close().catch(() => {});
    }
  }

  async latency(opts: LatencyOptions): Promise<LatencyResult> {
    const [queue] = await this.createQueues(1);
    const [producer, consumer] = await Promise.all([open(), open()]);
    try {
      const total = Math.round(opts.rate * opts.seconds);
      const collector = new LatencyCollector(total);
      const cch = quiet(await consumer.createChannel());
      await cch.prefetch(PREFETCH);
      const consumed = await consumeQueue(cch, queue, total, (body) => collector.receive(body));
      const pch = quiet(await producer.createConfirmChannel());
      const window = new Window(20_000);
      const startedAt = await pace(opts.rate, opts.seconds, async (n) => {
        for (let i = 0; i < n; i++) await publish(pch, window, queue, stampedPayload(opts.size));
      });
      await window.drain();
      await collector.wait(60_000, "rabbitmq latency");
      await consumed();
      return collector.result(startedAt);
    } finally {
      await Promise.all([producer.close().catch(() => {}), consumer.close().catch(() => {})]);
    }
  }

  async cleanup(): Promise<void> {
    if (this.queues.length === 0) return;
    const ch = await this.channel();
    for (const q of this.queues) await ch.deleteQueue(q);
    this.queues = [];
  }

  async close(): Promise<void> {
    try {
      if (this.adminChannel) await this.cleanup();
    } finally {
      await this.admin?.close().catch(() => {});
      this.admin = null;
      this.adminChannel = null;
    }
  }
}
