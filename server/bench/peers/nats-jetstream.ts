/**
 * NATS JetStream with file storage through the `nats` (nats.js v2) client. Fast path: async
 * publish — `js.publish()` promises are not awaited one by one but kept in a window of 2,048
 * unacknowledged publishes per producer connection; one stream (file storage, 1 replica) per
 * partition. Reads with an ordered consumer (ephemeral, no acks, flow controlled) in callback
 * mode with max_messages 10,000 per pull. Pipeline: the same ordered consumer (iterator mode, so
 * the loop can wait for a publish slot), filter/map in the loop, async js.publish of each kept
 * record into an output stream with the same 2,048-publish window; at-least-once.
 */
import { connect, RetentionPolicy, StorageType, type JetStreamManager, type NatsConnection } from "nats";
import type { ConsumeOptions, LatencyOptions, LatencyResult, Peer, PipelineOptions, ProduceOptions } from "./types.ts";
import {
  leftBehind,
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

const SERVERS = process.env.TRIBUTARY_BENCH_NATS_URL ?? "127.0.0.1:4222";
const PUBLISH_WINDOW = 2048;
const PULL_MESSAGES = 10_000;
const STREAM_PREFIX = "TRIBUTARY_BENCH_";

const open = () => connect({ servers: SERVERS, timeout: 2000, reconnect: false, maxReconnectAttempts: 0, noAsyncTraces: true });

export class NatsJetStreamPeer implements Peer {
  name = "nats-jetstream";
  fastPath = `nats.js v2 async js.publish with ${PUBLISH_WINDOW} unacknowledged publishes per producer connection; one file-storage stream per partition; ordered consumer, callback mode, max_messages ${PULL_MESSAGES}; pipeline: ordered consumer (iterator mode) → filter/map → async js.publish window of ${PUBLISH_WINDOW} into an output stream, at-least-once`;
  private admin: NatsConnection | null = null;
  private jsm: JetStreamManager | null = null;
  private streams: string[] = [];
  private lastStreams: string[] = [];

  private async manager(): Promise<JetStreamManager> {
    if (!this.jsm) {
      this.admin = await open();
      this.jsm = await this.admin.jetstreamManager();
    }
    return this.jsm;
  }

  async available(): Promise<boolean> {
    try {
      const jsm = await this.manager();
      await jsm.getAccountInfo();
      // Streams left behind by a benchmark process that crashed.
      for await (const name of jsm.streams.names()) {
        if (leftBehind(name, STREAM_PREFIX)) await jsm.streams.delete(name).catch(() => false);
      }
      return true;
    } catch {
      await this.admin?.close().catch(() => {});
      this.admin = null;
      this.jsm = null;
      return false;
    }
  }

  async durability(): Promise<string> {
    await this.manager();
    const version = this.admin!.info?.version ?? "?";
    return (
      `nats-server ${version}: streams with file storage, 1 replica; the PubAck is sent once the message is written ` +
      `to the stream's block file (OS page cache); the server fsyncs on its sync_interval, default 2 min ` +
      `(not readable over the client protocol; this server's config sets none), so an OS crash can lose acknowledged messages`
    );
  }

  private async createStreams(id: string, partitions: number): Promise<string[]> {
    await this.cleanup();
    const jsm = await this.manager();
    const names = Array.from({ length: partitions }, (_, p) => `${STREAM_PREFIX}${id.replace(/-/g, "_")}_${p}`);
    this.streams = names;
    for (const name of names) {
      await jsm.streams.add({
        name,
        subjects: [subjectOf(name)],
        storage: StorageType.File,
        num_replicas: 1,
        retention: RetentionPolicy.Limits,
      });
    }
    return names;
  }

  async produce(opts: ProduceOptions): Promise<{ ms: number }> {
    const names = await this.createStreams(uniqueId(), opts.partitions);
    this.lastStreams = names;
    const subjects = names.map(subjectOf);
    const conns = await Promise.all(Array.from({ length: opts.producers }, open));
    const payload = Buffer.alloc(opts.size, 120);
    try {
      const t0 = performance.now();
      await Promise.all(
        split(opts.records, opts.producers).map(async (n, producer) => {
          const js = conns[producer].jetstream();
          const window = new Window(PUBLISH_WINDOW);
          let k = producer;
          for (let i = 0; i < n; i++) {
            if (!window.tryAcquire()) await window.acquire();
            window.track(js.publish(subjects[k++ % opts.partitions], payload));
          }
          await window.drain();
        }),
      );
      return { ms: performance.now() - t0 };
    } finally {
      await Promise.all(conns.map((c) => c.close()));
    }
  }

  async consume(opts: ConsumeOptions): Promise<{ ms: number }> {
    const names = this.lastStreams.slice(0, opts.partitions);
    const nc = await open();
    try {
      const js = nc.jetstream();
      const perStream = split(opts.records, names.length);
      const consumers = await Promise.all(names.map((s) => js.consumers.get(s)));
      const t0 = performance.now();
      await Promise.all(
        consumers.map(async (c, i) => {
          let got = 0;
          let bad = false;
          let finish!: () => void;
          const finished = new Promise<void>((resolve) => (finish = resolve));
          const msgs = await c.consume({
            max_messages: PULL_MESSAGES,
            callback: (m) => {
              if (m.data.length !== opts.size) bad = true;
              if (++got === perStream[i]) finish();
            },
          });
          if (perStream[i] === 0) finish();
          await finished;
          msgs.stop();
          if (bad) throw new Error("nats: wrong payload size");
        }),
      );
      return { ms: performance.now() - t0 };
    } finally {
      await nc.close();
    }
  }

  async pipeline(opts: PipelineOptions): Promise<{ ms: number }> {
    // Streams 0..p-1 are the input partitions, p..2p-1 the output ones (partition i → i + p).
    const names = await this.createStreams(uniqueId(), opts.partitions * 2);
    const inputs = names.slice(0, opts.partitions);
    const outputs = names.slice(opts.partitions);
    const nc = await open();
    try {
      const js = nc.jetstream();
      // Setup, not timed: the input written as the produce workload writes (round-robin over the partitions).
      const setup = new Window(PUBLISH_WINDOW);
      for (let i = 0; i < opts.records; i++) {
        if (!setup.tryAcquire()) await setup.acquire();
        setup.track(js.publish(subjectOf(inputs[i % opts.partitions]), pipelineInput(i, opts.size)));
      }
      await setup.drain();

      const perStream = split(opts.records, inputs.length);
      const consumers = await Promise.all(inputs.map((s) => js.consumers.get(s)));
      const t0 = performance.now();
      await Promise.all(
        consumers.map(async (c, p) => {
          if (perStream[p] === 0) return;
          const subject = subjectOf(outputs[p]);
          const window = new Window(PUBLISH_WINDOW);
          const msgs = await c.consume({ max_messages: PULL_MESSAGES });
          try {
            let got = 0;
            for await (const m of msgs) {
              if (pipelineKeeps(m.data)) {
                if (!window.tryAcquire()) await window.acquire();
                window.track(js.publish(subject, pipelineMap(m.data)));
              }
              if (++got === perStream[p]) break;
            }
            if (got !== perStream[p]) throw new Error(`nats pipeline: consumer stopped after ${got} of ${perStream[p]} records`);
          } finally {
            msgs.stop();
          }
          await window.drain();
        }),
      );
      const ms = performance.now() - t0;

      const jsm = await this.manager();
      let written = 0;
      for (const s of outputs) written += (await jsm.streams.info(s)).state.messages;
      if (written !== pipelineOutputs(opts.records))
        throw new Error(`nats pipeline: output holds ${written} records, expected ${pipelineOutputs(opts.records)}`);
      if (written > 0) {
        const sample = await jsm.streams.getMessage(outputs[0], { seq: 1 });
        if (sample.data[0] !== 0x4b || sample.data.length !== opts.size) throw new Error("nats pipeline: wrong output record");
      }
      return { ms };
    } finally {
      await nc.close();
    }
  }

  async latency(opts: LatencyOptions): Promise<LatencyResult> {
    const [name] = await this.createStreams(uniqueId(), 1);
    const subject = subjectOf(name);
    const [producer, consumer] = await Promise.all([open(), open()]);
    const total = Math.round(opts.rate * opts.seconds);
    const collector = new LatencyCollector(total);
    try {
      const c = await consumer.jetstream().consumers.get(name);
      const msgs = await c.consume({ max_messages: PULL_MESSAGES, callback: (m) => collector.receive(m.data) });
      try {
        const js = producer.jetstream();
        const window = new Window(20_000);
        const startedAt = await pace(opts.rate, opts.seconds, async (n) => {
          for (let i = 0; i < n; i++) {
            if (!window.tryAcquire()) await window.acquire();
            window.track(js.publish(subject, stampedPayload(opts.size)));
          }
        });
        await window.drain();
        await collector.wait(60_000, "nats latency");
        return collector.result(startedAt);
      } finally {
        msgs.stop();
      }
    } finally {
      await Promise.all([producer.close(), consumer.close()]);
    }
  }

  async cleanup(): Promise<void> {
    if (this.streams.length === 0) return;
    const jsm = await this.manager();
    for (const s of this.streams) await jsm.streams.delete(s).catch(() => false);
    this.streams = [];
  }

  async close(): Promise<void> {
    try {
      if (this.jsm) await this.cleanup();
    } finally {
      await this.admin?.close().catch(() => {});
      this.admin = null;
      this.jsm = null;
    }
  }
}

const subjectOf = (stream: string) => `tributary.bench.${stream}`;
