/**
 * Redis Streams through ioredis. Fast path: explicit pipelines (`redis.pipeline()` of 1,000
 * XADDs, up to 8 pipelines in flight per connection, one connection per producer); reads with
 * XREAD COUNT 10000 from id 0 (one command per round trip, as a stream consumer would); the
 * latency consumer blocks in XREAD BLOCK on its own connection. The consumer group: XGROUP CREATE
 * at `$` on every stream, then per member XREADGROUP COUNT 10000 BLOCK 100 over all streams and
 * one XACK per stream read, each member on its own connection. The pipeline: XREAD COUNT 10000
 * from id 0 on one connection, filter and map in the client, the kept records XADDed to the output
 * stream in pipelines of 1,000 (8 in flight) on a second connection; at-least-once, since Redis
 * has no transaction spanning the read position and the writes.
 */
import { Redis } from "ioredis";
import type { ConsumeOptions, GroupConsumeOptions, LatencyOptions, LatencyResult, Peer, PipelineOptions, ProduceOptions } from "./types.ts";
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

const URL = process.env.TRIBUTARY_BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
const PIPELINE = 1000;
const PIPELINES_IN_FLIGHT = 8;
const READ_COUNT = 10_000;
const KEY_PREFIX = "tributary-bench:";

type XEntry = [id: Buffer, fields: Buffer[]];
type XReadReply = [key: Buffer, entries: XEntry[]][] | null;

/**
 * XREAD COUNT from the start of `keys` until `records` entries were read; `each` gets every
 * reply's entries with the index of their stream (and may wait: the next read waits for it).
 */
async function readFromStart(
  c: Redis,
  keys: string[],
  records: number,
  what: string,
  each: (p: number, entries: XEntry[]) => void | Promise<void>,
): Promise<void> {
  const ids = keys.map(() => "0-0");
  for (let got = 0; got < records;) {
    const reply = (await c.xreadBuffer("COUNT", READ_COUNT, "STREAMS", ...keys, ...ids)) as unknown as XReadReply;
    if (!reply) throw new Error(`redis ${what} stalled at ${got} of ${records}`);
    for (const [key, entries] of reply) {
      const p = keys.indexOf(key.toString());
      await each(p, entries);
      got += entries.length;
      if (entries.length) ids[p] = entries[entries.length - 1][0].toString();
    }
  }
}

function client(): Redis {
  return new Redis(URL, {
    protocol: 2,
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
}

async function connected(): Promise<Redis> {
  const c = client();
  c.on("error", () => {});
  await c.connect();
  return c;
}

export class RedisStreamsPeer implements Peer {
  name = "redis-streams";
  fastPath = `ioredis pipelines of ${PIPELINE} XADD, ${PIPELINES_IN_FLIGHT} in flight per producer connection; XREAD COUNT ${READ_COUNT}; latency: XREAD BLOCK on a second connection, one pipeline per 1 ms pacing tick; pipeline: XREAD COUNT ${READ_COUNT} → filter/map → pipelined XADD on a second connection, at-least-once (no transactions)`;
  private admin: Redis | null = null;
  private keys: string[] = [];
  private lastKeys: string[] = [];

  private async adminClient(): Promise<Redis> {
    this.admin ??= await connected();
    return this.admin;
  }

  async available(): Promise<boolean> {
    try {
      const a = await this.adminClient();
      if ((await a.ping()) !== "PONG") return false;
      // Streams left behind by a benchmark process that crashed.
      for (let cursor = "0"; ;) {
        const [next, keys] = await a.scan(cursor, "MATCH", `${KEY_PREFIX}*`, "COUNT", 1000);
        const stale = keys.filter((k) => leftBehind(k, KEY_PREFIX));
        if (stale.length) await a.del(...stale);
        if ((cursor = next) === "0") break;
      }
      return true;
    } catch {
      this.admin?.disconnect();
      this.admin = null;
      return false;
    }
  }

  async durability(): Promise<string> {
    const a = await this.adminClient();
    const get = async (k: string) => ((await a.config("GET", k)) as string[])[1] ?? "?";
    const [aof, fsync, save, version] = [await get("appendonly"), await get("appendfsync"), await get("save"), await a.info("server")];
    const v = /redis_version:(\S+)/.exec(version)?.[1] ?? "?";
    const aofText =
      aof === "yes"
        ? fsync === "always"
          ? "AOF on, appendfsync=always: fsync of the AOF before each reply batch"
          : fsync === "everysec"
            ? "AOF on, appendfsync=everysec: AOF fsynced once a second, up to ~1 s of acknowledged XADDs lost on a crash"
            : "AOF on, appendfsync=no: the OS decides when to flush"
        : `AOF off (appendonly=no; appendfsync=${fsync} unused)`;
    const rdb = save ? `RDB snapshots save="${save}"` : 'no RDB snapshots (save="")';
    const memOnly = aof !== "yes" && !save ? "; acknowledged records live in memory only and are lost on restart" : "";
    return `Redis ${v}: ${aofText}; ${rdb}${memOnly} (read with CONFIG GET)`;
  }

  async produce(opts: ProduceOptions): Promise<{ ms: number }> {
    await this.cleanup();
    const id = uniqueId();
    this.keys = Array.from({ length: opts.partitions }, (_, p) => `${KEY_PREFIX}${id}:${p}`);
    this.lastKeys = this.keys;
    const conns = await Promise.all(Array.from({ length: opts.producers }, connected));
    const payload = Buffer.alloc(opts.size, 120);
    try {
      const t0 = performance.now();
      await Promise.all(
        split(opts.records, opts.producers).map(async (n, producer) => {
          const c = conns[producer];
          const window = new Window(PIPELINES_IN_FLIGHT);
          let k = producer;
          for (let done = 0; done < n;) {
            const batch = Math.min(PIPELINE, n - done);
            const pipe = c.pipeline();
            for (let i = 0; i < batch; i++) pipe.xadd(this.keys[k++ % opts.partitions], "*", "d", payload);
            done += batch;
            await window.acquire();
            window.track(pipe.exec().then(checkPipeline));
          }
          await window.drain();
        }),
      );
      return { ms: performance.now() - t0 };
    } finally {
      conns.forEach((c) => c.disconnect());
    }
  }

  async consume(opts: ConsumeOptions): Promise<{ ms: number }> {
    const keys = this.lastKeys.slice(0, opts.partitions);
    const c = await connected();
    try {
      const t0 = performance.now();
      await readFromStart(c, keys, opts.records, "consume", (_, entries) => {
        for (const [, fields] of entries) if (fields[1].length !== opts.size) throw new Error("redis: wrong payload size");
      });
      return { ms: performance.now() - t0 };
    } finally {
      c.disconnect();
    }
  }

  async latency(opts: LatencyOptions): Promise<LatencyResult> {
    await this.cleanup();
    const key = `${KEY_PREFIX}${uniqueId()}:latency`;
    this.keys = [key];
    const [producer, consumer] = await Promise.all([connected(), connected()]);
    const total = Math.round(opts.rate * opts.seconds);
    const collector = new LatencyCollector(total);
    let stop = false;
    const reading = (async () => {
      let id = "0-0";
      while (!stop) {
        const reply = (await consumer.xreadBuffer("COUNT", READ_COUNT, "BLOCK", 200, "STREAMS", key, id)) as unknown as XReadReply;
        if (!reply) continue;
        for (const [, entries] of reply) {
          for (const [, fields] of entries) collector.receive(fields[1]);
          if (entries.length) id = entries[entries.length - 1][0].toString();
        }
      }
    })();
    reading.catch((e) => collector.fail(e));
    try {
      const window = new Window(1000);
      const startedAt = await pace(opts.rate, opts.seconds, async (n) => {
        const pipe = producer.pipeline();
        for (let i = 0; i < n; i++) pipe.xadd(key, "*", "d", stampedPayload(opts.size));
        await window.acquire();
        window.track(pipe.exec().then(checkPipeline));
      });
      await window.drain();
      await collector.wait(60_000, "redis latency");
      return collector.result(startedAt);
    } finally {
      stop = true;
      await reading.catch(() => {});
      producer.disconnect();
      consumer.disconnect();
    }
  }

  async consumeGroupAtHead(opts: GroupConsumeOptions): Promise<{ ms: number }> {
    await this.cleanup();
    const id = uniqueId();
    this.keys = Array.from({ length: opts.partitions }, (_, p) => `${KEY_PREFIX}${id}:${p}`);
    const keys = this.keys;
    const a = await this.adminClient();
    for (const k of keys) await a.xgroup("CREATE", k, "bench", "$", "MKSTREAM");
    const [producer, ...members] = await Promise.all(Array.from({ length: opts.members + 1 }, connected));
    let received = 0;
    let stop = false;
    const payload = Buffer.alloc(opts.size, 120);
    try {
      const consuming = members.map(async (c, m) => {
        while (!stop && received < opts.records) {
          const reply = (await c.xreadgroupBuffer(
            "GROUP",
            "bench",
            `member-${m}`,
            "COUNT",
            READ_COUNT,
            "BLOCK",
            100,
            "STREAMS",
            ...keys,
            ...keys.map(() => ">"),
          )) as unknown as XReadReply;
          if (!reply) continue;
          const ack = c.pipeline();
          for (const [key, entries] of reply) {
            if (entries.length === 0) continue;
            received += entries.length;
            ack.xack(key, "bench", ...entries.map((e) => e[0]));
          }
          checkPipeline(await ack.exec());
        }
      });
      for (const c of consuming) c.catch(() => undefined); // awaited below; silenced if the producer fails first
      const t0 = performance.now();
      const window = new Window(PIPELINES_IN_FLIGHT);
      let k = 0;
      for (let done = 0; done < opts.records;) {
        const batch = Math.min(PIPELINE, opts.records - done);
        const pipe = producer.pipeline();
        for (let i = 0; i < batch; i++) pipe.xadd(keys[k++ % opts.partitions], "*", "d", payload);
        done += batch;
        await window.acquire();
        window.track(pipe.exec().then(checkPipeline));
      }
      await window.drain();
      await Promise.all(consuming);
      if (received !== opts.records) throw new Error(`redis group received ${received} of ${opts.records}`);
      return { ms: performance.now() - t0 };
    } finally {
      stop = true;
      [producer, ...members].forEach((c) => c.disconnect());
    }
  }

  async pipeline(opts: PipelineOptions): Promise<{ ms: number }> {
    await this.cleanup();
    const id = uniqueId();
    const inputs = Array.from({ length: opts.partitions }, (_, p) => `${KEY_PREFIX}${id}:in:${p}`);
    const outputs = Array.from({ length: opts.partitions }, (_, p) => `${KEY_PREFIX}${id}:out:${p}`);
    this.keys = [...inputs, ...outputs];
    const [reader, writer] = await Promise.all([connected(), connected()]);
    try {
      // Setup, not timed: the input written as the produce workload writes, round-robin over the partitions.
      const setup = new Window(PIPELINES_IN_FLIGHT);
      for (let done = 0; done < opts.records;) {
        const batch = Math.min(PIPELINE, opts.records - done);
        const pipe = writer.pipeline();
        for (let i = done; i < done + batch; i++) pipe.xadd(inputs[i % opts.partitions], "*", "d", pipelineInput(i, opts.size));
        done += batch;
        await setup.acquire();
        setup.track(pipe.exec().then(checkPipeline));
      }
      await setup.drain();

      // Timed: read from the start, keep and map, write the kept records in pipelines.
      const window = new Window(PIPELINES_IN_FLIGHT);
      let pipe = writer.pipeline();
      let queued = 0;
      const t0 = performance.now();
      await readFromStart(reader, inputs, opts.records, "pipeline", async (p, entries) => {
        for (const [, fields] of entries) {
          if (!pipelineKeeps(fields[1])) continue;
          pipe.xadd(outputs[p], "*", "d", pipelineMap(fields[1]));
          if (++queued === PIPELINE) {
            await window.acquire();
            window.track(pipe.exec().then(checkPipeline));
            pipe = writer.pipeline();
            queued = 0;
          }
        }
      });
      if (queued > 0) {
        await window.acquire();
        window.track(pipe.exec().then(checkPipeline));
      }
      await window.drain();
      const ms = performance.now() - t0;

      const a = await this.adminClient();
      let written = 0;
      for (const k of outputs) written += await a.xlen(k);
      if (written !== pipelineOutputs(opts.records))
        throw new Error(`redis pipeline wrote ${written} records, expected ${pipelineOutputs(opts.records)}`);
      const first = await a.xrangeBuffer(outputs[0], "-", "+", "COUNT", 1);
      const value = first[0]?.[1][1];
      if (!value || value[0] !== 0x4b || value.length !== opts.size) throw new Error("redis pipeline: wrong first output record");
      return { ms };
    } finally {
      reader.disconnect();
      writer.disconnect();
    }
  }

  async cleanup(): Promise<void> {
    if (this.keys.length === 0) return;
    const a = await this.adminClient();
    await a.del(...this.keys);
    this.keys = [];
  }

  async close(): Promise<void> {
    try {
      if (this.admin) await this.cleanup();
    } finally {
      this.admin?.disconnect();
      this.admin = null;
    }
  }
}

function checkPipeline(results: [Error | null, unknown][] | null): void {
  if (!results) throw new Error("redis pipeline aborted");
  for (const [err] of results) if (err) throw err;
}
