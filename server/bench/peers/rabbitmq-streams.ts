/**
 * RabbitMQ streams through AMQP 0-9-1 stream queues with amqplib (the server here is 3.10, whose
 * stream protocol the 1.x rabbitmq-stream-js-client does not speak). Fast path: publisher
 * confirms on a confirm channel with an asynchronous window of 4,096 unconfirmed messages per
 * producer connection, honouring the channel's write backpressure ('drain'); one stream queue
 * (x-queue-type=stream, durable) per partition. Reads with basic.consume, x-stream-offset=first,
 * prefetch 2,000 and one multiple-ack per 500 messages. The pipeline consumes the input stream
 * queue that way and publishes each kept, mapped message on a confirm channel inside the same
 * window, acking an input only once its output is confirmed (at-least-once).
 */
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type Message } from "amqplib";
import type { ConsumeOptions, LatencyOptions, LatencyResult, Peer, PipelineOptions, ProduceOptions } from "./types.ts";
import {
  LatencyCollector,
  pace,
  pipelineInput,
  pipelineKeeps,
  pipelineMap,
  pipelineOutputs,
  split,
  stampedPayload,
  uniqueId,
  Window,
} from "./common.ts";

const URL = process.env.TRIBUTARY_BENCH_RABBITMQ_URL ?? "amqp://guest:guest@127.0.0.1:5672";
const CONFIRM_WINDOW = 4096;
const PREFETCH = 2000;
const ACK_EVERY = 500;
const QUEUE_PREFIX = "tributary-bench-";
/** How long the pipeline check waits for a stream queue's message count (queue stats refresh every ~5 s). */
const COUNT_WAIT_MS = 30_000;

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

/**
 * Publishes one message on a confirm channel inside `window`, waiting for 'drain' if the socket
 * buffer is full. `settled` runs with the broker's answer: null once confirmed, else the error.
 */
async function publish(
  ch: ConfirmChannel,
  window: Window,
  queue: string,
  body: Buffer,
  settled?: (err: Error | null) => void,
): Promise<void> {
  if (!window.tryAcquire()) await window.acquire();
  const ok = ch.sendToQueue(queue, body, {}, (err) => {
    const error = err ? (err instanceof Error ? err : new Error(`rabbitmq nack on ${queue}`)) : null;
    if (error) window.fail(error);
    settled?.(error);
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

/**
 * Consume-transform-produce over one stream queue: consumes `input` from its first offset on
 * `cin` (prefetch already set), publishes pipelineMap of every kept message to `output` on the
 * confirm channel `cout` inside a window of CONFIRM_WINDOW, one message at a time in delivery
 * order. An input is done when dropped or when its output is confirmed; it is acked (multiple,
 * every ACK_EVERY) once it and every earlier input are done, so a crash replays rather than
 * loses (at-least-once). `cin` must carry no other consumer: multiple-acks are per channel.
 * Resolves when all `count` inputs are acked, i.e. every output publish is confirmed.
 */
async function transform(cin: Channel, input: string, count: number, cout: ConfirmChannel, output: string): Promise<void> {
  if (count === 0) return;
  const window = new Window(CONFIRM_WINDOW);
  let finish!: () => void;
  let fail!: (e: unknown) => void;
  const finished = new Promise<void>((resolve, reject) => ((finish = resolve), (fail = reject)));
  const inbox: Message[] = []; // delivered, not handled yet
  let inboxHead = 0;
  const pending: { msg: Message; done: boolean }[] = []; // handled, not acked yet, in delivery order
  let pendingHead = 0;
  let done = 0;
  let acked = 0;
  let pumping = false;

  const advance = () => {
    let last: Message | null = null;
    while (pendingHead < pending.length && pending[pendingHead].done) {
      last = pending[pendingHead++].msg;
      done++;
    }
    if (pendingHead >= 4096) {
      pending.splice(0, pendingHead);
      pendingHead = 0;
    }
    if (last && (done - acked >= ACK_EVERY || done === count)) {
      cin.ack(last, true);
      acked = done;
    }
    if (done === count) finish();
  };
  const pump = async () => {
    pumping = true;
    try {
      while (inboxHead < inbox.length) {
        const msg = inbox[inboxHead++];
        if (inboxHead >= 4096) {
          inbox.splice(0, inboxHead);
          inboxHead = 0;
        }
        const entry = { msg, done: false };
        pending.push(entry);
        if (pipelineKeeps(msg.content)) {
          await publish(cout, window, output, pipelineMap(msg.content), (err) => (err ? fail(err) : ((entry.done = true), advance())));
        } else {
          entry.done = true;
          advance();
        }
      }
    } catch (e) {
      fail(e);
    } finally {
      pumping = false;
    }
  };

  const closed = (what: string) => () => fail(new Error(`rabbitmq ${what} channel closed during the pipeline`));
  cin.once("close", closed("consumer"));
  cout.once("close", closed("publisher"));
  const { consumerTag } = await cin.consume(
    input,
    (msg) => {
      if (!msg) return fail(new Error(`rabbitmq consumer of ${input} cancelled`));
      inbox.push(msg);
      if (!pumping) void pump();
    },
    { noAck: false, arguments: { "x-stream-offset": "first" } },
  );
  await finished; // every input acked, so every output confirmed
  await cin.cancel(consumerTag);
}

/** Waits until the stream queues' summed message count reaches `expected` (queue stats lag by a few seconds); returns the last sum seen. */
async function settledCount(ch: Channel, queues: string[], expected: number): Promise<number> {
  const deadline = performance.now() + COUNT_WAIT_MS;
  for (;;) {
    let n = 0;
    for (const q of queues) n += (await ch.checkQueue(q)).messageCount;
    if (n >= expected || performance.now() > deadline) return n;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export class RabbitMqStreamsPeer implements Peer {
  name = "rabbitmq-streams";
  fastPath = `amqplib confirm channel, async window of ${CONFIRM_WINDOW} unconfirmed publishes per producer connection (callback confirms, 'drain' backpressure); one stream queue per partition; basic.consume x-stream-offset=first, prefetch ${PREFETCH}, multiple-ack every ${ACK_EVERY}; pipeline: stream-queue consumer (x-stream-offset=first, same prefetch) → filter/map → confirmed publishes (window of ${CONFIRM_WINDOW}) on a second connection, inputs multiple-acked once their outputs are confirmed, at-least-once`;
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

  async pipeline(opts: PipelineOptions): Promise<{ ms: number }> {
    // One stream queue per partition for the input, then one per partition for the output.
    const queues = await this.createQueues(2 * opts.partitions);
    const inputs = queues.slice(0, opts.partitions);
    const outputs = queues.slice(opts.partitions);
    // Publishers and consumers on separate connections, as RabbitMQ advises (flow control blocks a publishing connection).
    const [consumer, producer] = await Promise.all([open(), open()]);
    try {
      // Setup, not timed: the input written as the produce workload writes, round-robin over the partitions.
      const setup = quiet(await producer.createConfirmChannel());
      const setupWindow = new Window(CONFIRM_WINDOW);
      for (let i = 0; i < opts.records; i++) await publish(setup, setupWindow, inputs[i % opts.partitions], pipelineInput(i, opts.size));
      await setupWindow.drain();
      await setup.close();

      // Timed: per partition its own consumer channel (multiple-acks are per channel) and confirm channel.
      const perQueue = split(opts.records, opts.partitions);
      const lanes = await Promise.all(
        inputs.map(async (input, p) => {
          const cin = quiet(await consumer.createChannel());
          await cin.prefetch(PREFETCH);
          return { cin, input, count: perQueue[p], cout: quiet(await producer.createConfirmChannel()), output: outputs[p] };
        }),
      );
      const t0 = performance.now();
      await Promise.all(lanes.map((l) => transform(l.cin, l.input, l.count, l.cout, l.output)));
      const ms = performance.now() - t0;

      const expected = pipelineOutputs(opts.records);
      const check = quiet(await consumer.createChannel());
      const written = await settledCount(check, outputs, expected);
      if (written !== expected) throw new Error(`rabbitmq pipeline wrote ${written} messages, expected ${expected}`);
      await check.prefetch(PREFETCH);
      let first: Buffer | undefined;
      const read = await consumeQueue(check, outputs[0], 1, (body) => (first ??= body));
      await read();
      if (!first || first[0] !== 0x4b || first.length !== opts.size) throw new Error("rabbitmq pipeline: wrong first output message");
      return { ms };
    } finally {
      await Promise.all([consumer.close().catch(() => {}), producer.close().catch(() => {})]);
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
