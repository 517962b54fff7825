/**
 * Tributary's stream workloads: pipelines deployed through the REST API and run by the bench's
 * own server (its stream runtime, exactly-once), fed through the TypeScript client.
 *
 * Throughput runs read a pre-produced input: the clock starts when the pipeline has committed
 * its first unit of work (the server's pipeline metrics say records came in) and stops when the
 * group's committed offsets reach the input's end (lag 0: the offsets commit in the transaction
 * of the outputs, so every output is committed then); the records counted are those processed
 * in between. Start-up (the group joining, the task opening and restoring) is reported apart.
 */
import { Admin, PartitionReader, Producer, type ProducerRecord } from "../client/index.ts";
import type { TPipelineDefinitionInput } from "../schemas/pipeline.ts";
import type { ServerProcess } from "../testing/server-process.ts";
import { pace, sleep, uniqueId, withTimeout } from "./peers/common.ts";
import {
  joinInput,
  joinPipeline,
  joinTableRow,
  RECORD_BYTES,
  restorePipeline,
  stampedText,
  stampOf,
  statelessPipeline,
  windowCloser,
  windowInput,
  windowOutputs,
  windowPipeline,
  type StreamSizes,
} from "./stream-pipelines.ts";

/** A throughput run: records processed while timed, and the start-up before the first unit committed. */
export interface ThroughputRun {
  records: number;
  ms: number;
  startupMs: number;
}

export interface LatencyRun {
  /** per record produced after the warm-up */
  latencies: number[];
  /** per record produced during the warm-up (the pipeline and both processes' hot paths cold at its start) */
  warmUp: number[];
  /** records/s that reached the output over the run */
  delivered: number;
}

/** One restore: from the SIGKILL and from the new server's start until the probe's output is committed. */
export interface RestoreRun {
  fromKillMs: number;
  fromStartMs: number;
  /** entries the store held (the keys restored) */
  keys: number;
}

interface PipelineDetail {
  state: string;
  error: { message: string } | null;
  metrics: { recordsIn: number; recordsOut: number; tasks: number } | null;
}

const BATCH_BYTES = 1024 * 1024;
const LATENCY_LINGER_MS = 1;
/** What any one wait of a run may take before the run fails instead of hanging the benchmark. */
const WAIT_MS = 300_000;

/** The supervisor's line for a server process that died (killed here, or of its own fault). */
const DIED = /server process (\d+) died \(([^)]*)\)/g;

export class TributaryStreams {
  private readonly pipelines: string[] = [];
  private readonly topics: string[] = [];
  /** server processes this benchmark killed itself, or whose death a run already failed on */
  private readonly killed = new Set<number>();

  constructor(
    private readonly server: ServerProcess,
    private readonly log: (line: string) => void,
  ) {}

  private get url(): string {
    return this.server.url;
  }

  private admin(): Admin {
    return new Admin({ baseUrl: this.url });
  }

  private async api<T>(method: string, path: string, body?: unknown, timeoutMs = WAIT_MS): Promise<T> {
    const res = await fetch(`${this.url}/api/v1${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 400)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private async topic(partitions: number, configs: Record<string, string | number> = {}): Promise<string> {
    const name = `bench-stream-${uniqueId()}`;
    await this.api("POST", "/topics", { name, partitions, configs: { "retention.ms": -1, ...configs } });
    this.topics.push(name);
    return name;
  }

  /** Creates the draft and deploys it; fails with the server's reason unless it runs. */
  private async deploy(def: TPipelineDefinitionInput): Promise<void> {
    await this.api("POST", "/pipelines", def);
    this.pipelines.push(def.name);
    this.topics.push(`pipeline-${def.name}-changelog`);
    for (const n of def.nodes) if (n.config.kind === "sink") this.topics.push(n.config.topic);
    const d = await this.api<PipelineDetail>("POST", `/pipelines/${def.name}/deploy`, {});
    if (d.state !== "running") throw new Error(`pipeline ${def.name} is ${d.state}: ${d.error?.message ?? "no reason given"}`);
  }

  private detail(name: string): Promise<PipelineDetail> {
    return this.api<PipelineDetail>("GET", `/pipelines/${name}`);
  }

  /** Sends `n` records (1,000 a call, a window of 100 calls outstanding), then flushes. */
  private async produce(topic: string, n: number, record: (i: number) => ProducerRecord): Promise<void> {
    const producer = new Producer({ baseUrl: this.url, batchBytes: BATCH_BYTES, lingerMs: 5, maxInFlight: 5 });
    const inFlight: Promise<unknown>[] = [];
    for (let from = 0; from < n; from += 1000) {
      const records: ProducerRecord[] = [];
      for (let i = from; i < Math.min(n, from + 1000); i++) records.push(record(i));
      const sent = producer.sendMany(topic, records);
      sent.catch(() => undefined); // awaited below, in order
      inFlight.push(sent);
      if (inFlight.length >= 100) await inFlight.shift();
    }
    await producer.flush();
    await Promise.all(inFlight);
  }

  /** True once the group's committed offsets reached the end of every partition of `topics`. */
  private async caughtUp(pipeline: string, topics: string[]): Promise<boolean> {
    try {
      const g = await this.admin().describeGroup(`pipeline-${pipeline}`);
      const mine = g.offsets.filter((o) => topics.includes(o.topic));
      return mine.length > 0 && mine.every((o) => o.lag === 0);
    } catch {
      return false; // the group is not formed yet
    }
  }

  /**
   * Fails when a server process died that this benchmark did not kill (out of memory, say: the
   * supervisor starts it again, and a pipeline that cannot restore would die again and again).
   */
  checkServer(): void {
    const out = this.server.output();
    for (const m of out.matchAll(DIED)) {
      if (this.killed.has(Number(m[1]))) continue;
      const fatal = /FATAL ERROR: [^\n]*/.exec(out)?.[0];
      this.killed.add(Number(m[1]));
      throw new Error(`the server process ${m[1]} died (${m[2]})${fatal ? `: ${fatal}` : ""}`);
    }
  }

  private async until(what: string, check: () => Promise<boolean>, everyMs: number): Promise<void> {
    const end = performance.now() + WAIT_MS;
    for (;;) {
      this.checkServer();
      if (await check()) return;
      if (performance.now() > end) throw new Error(`timed out after ${WAIT_MS / 1000} s waiting for ${what}`);
      await sleep(everyMs);
    }
  }

  /**
   * Starts the pipeline (`start`: deploy or resume) over an input already produced and times it
   * from its first committed unit of work to lag 0 on `inputs`.
   */
  private async timed(pipeline: string, inputs: string[], records: number, start: () => Promise<void>): Promise<ThroughputRun> {
    const t0 = performance.now();
    await start();
    let first = { at: 0, records: 0 };
    await this.until(
      `${pipeline}'s first unit of work`,
      async () => {
        const d = await this.detail(pipeline);
        if (d.state === "failed") throw new Error(`pipeline ${pipeline} failed: ${d.error?.message}`);
        first = { at: performance.now(), records: d.metrics?.recordsIn ?? 0 };
        return first.records > 0;
      },
      5,
    );
    await this.until(`${pipeline} to reach the end of its input`, () => this.caughtUp(pipeline, inputs), 20);
    const ms = performance.now() - first.at;
    return { records: records - first.records, ms, startupMs: first.at - t0 };
  }

  /** Every read_committed record of partition 0 of `topic`, visited. Returns how many. */
  private async readAll(topic: string, visit: (key: Buffer | null, value: Buffer | null) => void): Promise<number> {
    const reader = new PartitionReader(this.url, topic, 0, 0, "read_committed");
    let n = 0;
    for (;;) {
      const r = await reader.poll((v) => {
        visit(v.key ? Buffer.from(v.key) : null, v.value ? Buffer.from(v.value) : null);
        n++;
      });
      if (reader.offset >= r.lastStableOffset) return n;
    }
  }

  /** `stream-stateless`: filter→map, exactly-once, over `records` pre-produced text records (half kept). */
  async stateless(records: number): Promise<ThroughputRun> {
    const [input, output, name] = [await this.topic(1), `bench-stream-out-${uniqueId()}`, `bench-stateless-${uniqueId()}`];
    const kept = "k" + "x".repeat(RECORD_BYTES - 1);
    const dropped = "d" + "x".repeat(RECORD_BYTES - 1);
    await this.produce(input, records, (i) => ({ value: i % 2 === 0 ? kept : dropped, partition: 0 }));
    const run = await this.timed(name, [input], records, () => this.deploy(statelessPipeline(name, input, output)));
    const expected = "K" + "x".repeat(RECORD_BYTES - 1);
    let wrong = 0;
    const n = await this.readAll(output, (_k, v) => (wrong += v?.toString("latin1") === expected ? 0 : 1));
    if (n !== Math.ceil(records / 2) || wrong > 0)
      throw new Error(`stream-stateless: ${n} outputs (${wrong} wrong), expected ${Math.ceil(records / 2)} mapped records`);
    return run;
  }

  /** `stream-window`: count per key in 1-minute tumbling windows, final results only. */
  async window(s: StreamSizes["window"]): Promise<ThroughputRun> {
    const [input, output, name] = [await this.topic(1), `bench-stream-out-${uniqueId()}`, `bench-window-${uniqueId()}`];
    await this.produce(input, s.records + 1, (i) => ({ ...(i < s.records ? windowInput(i, s) : windowCloser(s)), partition: 0 }));
    const run = await this.timed(name, [input], s.records + 1, () => this.deploy(windowPipeline(name, input, output)));
    let total = 0;
    const n = await this.readAll(output, (_k, v) => (total += (JSON.parse(v!.toString()) as { n: number }).n));
    if (n !== windowOutputs(s) || total !== s.records)
      throw new Error(`stream-window: ${n} final counts summing to ${total}, expected ${windowOutputs(s)} summing to ${s.records}`);
    return run;
  }

  /**
   * `stream-join`: orders joined with a table of customers. The table is read first (deployed,
   * then paused once it is in the store), the orders produced meanwhile; the resumed pipeline
   * restores the table from its changelog and is timed over the orders.
   */
  async join(s: StreamSizes["join"]): Promise<ThroughputRun> {
    const [orders, customers] = [await this.topic(1), await this.topic(1, { "cleanup.policy": "compact" })];
    const [output, name] = [`bench-stream-out-${uniqueId()}`, `bench-join-${uniqueId()}`];
    await this.produce(customers, s.tableKeys, (j) => ({ ...joinTableRow(j), partition: 0 }));
    await this.deploy(joinPipeline(name, orders, customers, output));
    await this.until(`${name} to read its table`, () => this.caughtUp(name, [customers]), 50);
    await this.api("POST", `/pipelines/${name}/pause`);
    await this.produce(orders, s.records, (i) => ({ ...joinInput(i, s.tableKeys), partition: 0 }));
    const run = await this.timed(name, [orders], s.records, async () => {
      await this.api("POST", `/pipelines/${name}/resume`);
    });
    const n = await this.readAll(output, () => undefined);
    if (n !== s.records) throw new Error(`stream-join: ${n} joined records, expected ${s.records}`);
    return run;
  }

  /**
   * `stream-latency`: the filter→map pipeline fed at `rate` records/s (a burst about every
   * millisecond, 1 ms linger); per record, from the produce call until a read_committed
   * consumer of the output has it. The first `warmSeconds` at that rate are a warm-up, reported
   * apart: from a cold start, both processes' code for this traffic (small transactions, 1 ms
   * produce requests) gets faster for several seconds (three 10-second runs on one server, no
   * warm-up: p99 144.7, 84.5, 69.5 ms; the first run's median fell from 118 ms in its first half
   * second to ~45 ms after 5 s), as OpenMessaging Benchmark warms up before it measures.
   */
  async latency(rate: number, seconds: number, warmSeconds: number): Promise<LatencyRun> {
    const [input, output, name] = [await this.topic(1), `bench-stream-out-${uniqueId()}`, `bench-latency-${uniqueId()}`];
    const producer = new Producer({ baseUrl: this.url, batchBytes: BATCH_BYTES, lingerMs: LATENCY_LINGER_MS, maxInFlight: 5 });
    await this.deploy(statelessPipeline(name, input, output));
    // warm: the task is open and the output exists once a first record went through
    await producer.send(input, { value: stampedText(), partition: 0 });
    const reader = new PartitionReader(this.url, output, 0, 0, "read_committed");
    await this.until(`${name}'s first output`, async () => (await reader.fetch(1 << 20, 200)).records.length > 0, 10);
    const expected = Math.round(rate * (warmSeconds + seconds));
    const latencies: number[] = [];
    const warmUp: number[] = [];
    // records stamped before this were produced during the warm-up (set as pacing starts)
    let warmUntil = Number.POSITIVE_INFINITY;
    let last = 0;
    let stop = false;
    const consuming = (async () => {
      while (!stop && warmUp.length + latencies.length < expected) {
        await reader.poll(
          (v) => {
            if (!v.value) return;
            last = performance.now();
            const stamp = stampOf(Buffer.from(v.value));
            (stamp < warmUntil ? warmUp : latencies).push(last - stamp);
          },
          8 << 20,
          500,
        );
      }
    })();
    warmUntil = performance.now() + warmSeconds * 1000;
    const t0 = await pace(rate, warmSeconds + seconds, (n) => {
      for (let i = 0; i < n; i++) void producer.send(input, { value: stampedText(), partition: 0 });
    });
    await producer.flush();
    try {
      await withTimeout(
        (async () => {
          while (warmUp.length + latencies.length < expected) await sleep(10);
        })(),
        15_000,
        `stream-latency: ${warmUp.length + latencies.length} of ${expected} records reached the output`,
      );
    } finally {
      stop = true;
      await consuming;
    }
    return { latencies, warmUp, delivered: (warmUp.length + latencies.length) / ((last - t0) / 1000) };
  }

  /**
   * `stream-restore`: a table aggregate over `keys` distinct keys (built once, not timed); then
   * per run the server is killed (SIGKILL, the supervisor starts it again) and a probe record
   * (a key seen before, counted again) is produced as soon as the new server listens: the time
   * until its output is committed covers the group rejoining, the task opening and restoring
   * every key from its changelog, and processing again.
   */
  async restore(keys: number, runs: number, sampleServer: () => () => Promise<void>): Promise<{ runs: RestoreRun[]; buildMs: number }> {
    const [input, output, name] = [await this.topic(1), `bench-stream-out-${uniqueId()}`, `bench-restore-${uniqueId()}`];
    const value = "v".repeat(20);
    await this.produce(input, keys, (i) => ({ key: `k${i}`, value, partition: 0 }));
    const t0 = performance.now();
    const building = sampleServer();
    await this.deploy(restorePipeline(name, input, output));
    await this.until(`${name} to build its store of ${keys} keys`, () => this.caughtUp(name, [input]), 100);
    const buildMs = performance.now() - t0;
    await building();
    this.log(`stream-restore: ${keys.toLocaleString("en-US")} keys in the store after ${(buildMs / 1000).toFixed(1)} s`);
    const out: RestoreRun[] = [];
    let seen = 0;
    for (let r = 0; r < runs; r++) {
      const old = this.server.pid;
      const started = this.nextStart(old);
      const killedAt = performance.now();
      this.killed.add(old);
      process.kill(old, "SIGKILL");
      const startedAt = await withTimeout(started, 120_000, "stream-restore: the server to start again");
      const stopSampling = sampleServer();
      const probe = `k${r}`;
      await new Producer({ baseUrl: this.url }).send(input, { key: probe, value, partition: 0 });
      const reader = new PartitionReader(this.url, output, 0, 0, "read_committed");
      let found = false;
      await this.until(
        `${name}'s output for the probe ${probe}`,
        async () => {
          const b = await reader.fetch(1 << 20, 200).catch(() => ({ records: [] })); // the output may not be served yet
          for (const rec of b.records) if (rec.key?.toString() === probe) found = true;
          return found;
        },
        0,
      );
      const doneAt = performance.now();
      await stopSampling();
      seen++;
      out.push({ fromKillMs: doneAt - killedAt, fromStartMs: doneAt - startedAt, keys });
      this.log(
        `stream-restore: run ${r + 1}: processing again ${Math.round(doneAt - startedAt)} ms after the new server listened, ${Math.round(doneAt - killedAt)} ms after SIGKILL`,
      );
    }
    const counted = await this.readAll(output, () => undefined);
    if (counted !== seen) throw new Error(`stream-restore: ${counted} probe outputs, expected ${seen} (a count was lost or doubled)`);
    return { runs: out, buildMs };
  }

  /** performance.now() when a server process other than `pid` prints that it listens. */
  private nextStart(pid: number): Promise<number> {
    const out = this.server.child.stdout!;
    return new Promise<number>((resolve) => {
      const onData = (d: Buffer) => {
        for (const m of d.toString().matchAll(/listening on http:\/\/\S+ .*pid (\d+)\)/g)) {
          if (Number(m[1]) !== pid) {
            out.off("data", onData);
            resolve(performance.now());
          }
        }
      };
      out.on("data", onData);
    });
  }

  /** Deletes the pipelines (their runners stop), their groups and every topic the runs made. */
  async cleanup(): Promise<void> {
    for (const p of this.pipelines.splice(0)) {
      // a server restarting (after a crash) answers a moment later; a pipeline restoring a store
      // too big for the heap is not stopped before it crashes the server again: give up after 2 minutes
      const until = performance.now() + 120_000;
      while (performance.now() < until) {
        const gone = await this.api("DELETE", `/pipelines/${p}`, undefined, 30_000).then(
          () => true,
          (e: Error) => / 404 /.test(e.message),
        );
        if (gone) break;
        await sleep(1000);
      }
      await this.admin()
        .deleteGroup(`pipeline-${p}`)
        .catch(() => undefined);
    }
    for (const t of this.topics.splice(0))
      await this.admin()
        .deleteTopic(t)
        .catch(() => undefined);
  }
}
