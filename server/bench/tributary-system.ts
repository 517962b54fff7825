/**
 * Tributary as a benchmarked system, through its own TypeScript client: the batching producer
 * on the binary record-batch path, and partition readers that fetch stored batches as they are.
 * Implements the same `Peer` shape as the peers, so every workload runs identically on all.
 */
import pg from "pg";
import { Producer, type ProducerRecord } from "../client/producer.ts";
import { PartitionReader } from "../client/partition-reader.ts";
import { Consumer } from "../client/consumer.ts";
import { forEachRecord, readBatchHeader, RecordView } from "../broker/protocol/record-batch.ts";
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
} from "./peers/common.ts";
import type {
  ConsumeOptions,
  GroupConsumeOptions,
  LatencyOptions,
  LatencyResult,
  Peer,
  PipelineOptions,
  ProduceOptions,
  TransactionalProduceOptions,
} from "./peers/types.ts";

/** Client batching: 1 MiB batches or 5 ms linger (Kafka 4's linger.ms default), 5 requests in flight per partition. */
const BATCH_BYTES = 1024 * 1024;
const LINGER_MS = 5;
/** Latency runs linger 1 ms: records still go out in batches, but never wait long for company. */
const LATENCY_LINGER_MS = 1;
const IN_FLIGHT = 5;
const FETCH_BYTES = 8 * 1024 * 1024;
/** The pipeline commits its transaction every 100 ms, Kafka Streams' commit.interval.ms under exactly-once. */
const PIPELINE_COMMIT_INTERVAL_MS = 100;

/**
 * Sends `n` records as a kafkajs user calls send({messages}): 1,000 records a call, up to 100
 * calls (100,000 records) outstanding, the oldest awaited before another goes (a sliding window:
 * the producer's batches keep flowing, memory stays bounded); then flushes.
 */
async function sendWindowed(producer: Producer, topic: string, n: number, record: (i: number) => ProducerRecord): Promise<void> {
  const chunk = 1000;
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < n; i += chunk) {
    const m = Math.min(chunk, n - i);
    const sent = producer.sendMany(
      topic,
      Array.from({ length: m }, (_, j) => record(i + j)),
    );
    sent.catch(() => undefined); // a failure is raised where it is awaited, in order
    pending.push(sent);
    if (pending.length >= 100) await pending.shift();
  }
  await producer.flush();
  await Promise.all(pending);
}

export class TributarySystem implements Peer {
  name = "tributary";
  fastPath =
    `TypeScript client: idempotent producer, RecordBatch v2 encoded on the client, ${BATCH_BYTES >> 20} MiB batches or ${LINGER_MS} ms linger, ${IN_FLIGHT} in flight per partition, ` +
    `binary produce and fetch (${FETCH_BYTES >> 20} MiB fetches of stored batches); pipeline: group member (read_committed, polls of 10,000) → filter/map → transactional producer, ` +
    `input offsets in the transaction, a commit every ${PIPELINE_COMMIT_INTERVAL_MS} ms (exactly-once)`;
  private topics: string[] = [];
  protected lastTopic: { topic: string; partitions: number } | null = null;

  /** `databaseUrl`: the server's PostgreSQL database, for settle(); none for the embedded database. */
  constructor(
    readonly baseUrl: string,
    private readonly databaseUrl?: string,
  ) {}

  /** CHECKPOINT on the server's database (PostgreSQL server mode), as the latency workloads begin. */
  async settle(): Promise<void> {
    if (!this.databaseUrl) return;
    const c = new pg.Client({ connectionString: this.databaseUrl });
    await c.connect();
    try {
      await c.query("CHECKPOINT");
    } finally {
      await c.end();
    }
  }

  async available(): Promise<boolean> {
    try {
      return (await fetch(`${this.baseUrl}/api/v1/topics`)).ok;
    } catch {
      return false;
    }
  }

  async durability(): Promise<string> {
    return "acknowledged after the PostgreSQL commit (synchronous_commit as the server has it; fsync of the WAL)";
  }

  protected async newTopic(partitions: number): Promise<string> {
    const topic = `bench-${uniqueId()}`;
    const res = await fetch(`${this.baseUrl}/api/v1/topics`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: topic, partitions, configs: { "retention.ms": -1, "max.message.bytes": 2 * BATCH_BYTES } }),
    });
    if (!res.ok) throw new Error(`create topic: ${res.status} ${await res.text()}`);
    this.topics.push(topic);
    return topic;
  }

  async produce(opts: ProduceOptions): Promise<{ ms: number }> {
    const topic = await this.newTopic(opts.partitions);
    const value = Buffer.alloc(opts.size, 120);
    const producers = Array.from(
      { length: opts.producers },
      () => new Producer({ baseUrl: this.baseUrl, batchBytes: BATCH_BYTES, lingerMs: LINGER_MS, maxInFlight: IN_FLIGHT }),
    );
    const t0 = performance.now();
    await Promise.all(
      split(opts.records, opts.producers).map(async (n, k) => {
        const p = producers[k];
        await sendWindowed(p, topic, n, (i) => ({ value, partition: (i + k) % opts.partitions }));
      }),
    );
    const ms = performance.now() - t0;
    this.lastTopic = { topic, partitions: opts.partitions };
    return { ms };
  }

  async consume(opts: ConsumeOptions): Promise<{ ms: number }> {
    if (!this.lastTopic) throw new Error("consume before produce");
    const { topic, partitions } = this.lastTopic;
    const t0 = performance.now();
    let total = 0;
    await Promise.all(
      Array.from({ length: partitions }, async (_, p) => {
        const reader = new PartitionReader(this.baseUrl, topic, p, 0);
        // every record is visited and its value checked, through a reused view (no object per record)
        const check = (r: RecordView) => {
          if (r.valueLength !== opts.size)
            throw new Error(`tributary: record ${r.offset} has ${r.valueLength} value bytes, expected ${opts.size}`);
        };
        for (;;) {
          const r = await reader.poll(check, FETCH_BYTES);
          total += r.count;
          if (reader.offset >= r.highWatermark) break;
        }
      }),
    );
    if (total !== opts.records) throw new Error(`consumed ${total} of ${opts.records} records`);
    return { ms: performance.now() - t0 };
  }

  /**
   * Three `Consumer`s (KIP-848 group, JSON polls of up to 5,000 records, auto-commit) join a
   * fresh topic at its head; then the batching producer writes the records over its partitions.
   */
  async consumeGroupAtHead(opts: GroupConsumeOptions): Promise<{ ms: number } | null> {
    const topic = await this.newTopic(opts.partitions);
    const groupId = `bench-group-${uniqueId()}`;
    let received = 0;
    let done!: () => void;
    const all = new Promise<void>((resolve) => (done = resolve));
    const owned = new Map<Consumer, number>();
    const consumers = Array.from(
      { length: opts.members },
      () =>
        new Consumer({
          baseUrl: this.baseUrl,
          groupId,
          autoOffsetReset: "latest",
          maxRecords: 5000,
          maxBytes: 4 * 1024 * 1024,
          waitMs: 500,
        }),
    );
    try {
      for (const c of consumers) {
        c.on("rebalance", (e) => owned.set(c, e.assignment.length));
        c.subscribe({ topics: [topic] });
        await c.run({
          eachBatch: ({ messages }) => {
            received += messages.length;
            if (received >= opts.records) done();
          },
        });
      }
      // at the head: every partition owned before the first record is produced
      const deadline = Date.now() + 30_000;
      while ([...owned.values()].reduce((a, b) => a + b, 0) < opts.partitions || owned.size < opts.members) {
        if (Date.now() > deadline) throw new Error("the group did not take every partition within 30 s");
        await new Promise((r) => setTimeout(r, 20));
      }
      const producer = new Producer({ baseUrl: this.baseUrl, batchBytes: BATCH_BYTES, lingerMs: LINGER_MS, maxInFlight: IN_FLIGHT });
      const value = Buffer.alloc(opts.size, 120);
      const t0 = performance.now();
      await sendWindowed(producer, topic, opts.records, (i) => ({ value, partition: i % opts.partitions }));
      await all;
      const ms = performance.now() - t0;
      if (received !== opts.records) throw new Error(`the group received ${received} of ${opts.records} records`);
      return { ms };
    } finally {
      await Promise.all(consumers.map((c) => c.stop().catch(() => undefined)));
    }
  }

  /** One transactional producer: begin, send `recordsPerTransaction` records, commit, repeat. */
  async produceTransactional(opts: TransactionalProduceOptions): Promise<{ ms: number } | null> {
    const topic = await this.newTopic(opts.partitions);
    const value = Buffer.alloc(opts.size, 120);
    const producer = new Producer({
      baseUrl: this.baseUrl,
      batchBytes: BATCH_BYTES,
      lingerMs: LINGER_MS,
      maxInFlight: IN_FLIGHT,
      transactionalId: `bench-txn-${uniqueId()}`,
    });
    await producer.initTransactions();
    const t0 = performance.now();
    const chunk = 1000;
    for (let i = 0; i < opts.records; i += opts.recordsPerTransaction) {
      producer.beginTransaction();
      const n = Math.min(opts.recordsPerTransaction, opts.records - i);
      const pending: Promise<unknown>[] = [];
      for (let j = 0; j < n; j += chunk) {
        const m = Math.min(chunk, n - j);
        pending.push(
          producer.sendMany(
            topic,
            Array.from({ length: m }, (_, k) => ({ value, partition: (i + j + k) % opts.partitions })),
          ),
        );
      }
      await producer.commitTransaction();
      await Promise.all(pending);
    }
    const ms = performance.now() - t0;
    this.lastTopic = { topic, partitions: opts.partitions };
    return { ms };
  }

  /**
   * The filter→map pipeline as a Kafka Streams-style application does it with the client,
   * exactly-once (KIP-447): a consumer group member reads the input (read_committed, polls of up
   * to 10,000 records) and a transactional producer writes the mapped kept records; every 100 ms
   * (Kafka Streams' commit interval under exactly-once) the member's input offsets join the
   * transaction and it commits. The clock stops when the transaction holding the last input
   * offset has committed. (A failed transaction fails the workload: no retry path here.)
   */
  async pipeline(opts: PipelineOptions): Promise<{ ms: number } | null> {
    const input = await this.newTopic(opts.partitions);
    const output = await this.newTopic(opts.partitions);
    const setup = new Producer({ baseUrl: this.baseUrl, batchBytes: BATCH_BYTES, lingerMs: LINGER_MS, maxInFlight: IN_FLIGHT });
    await sendWindowed(setup, input, opts.records, (i) => ({ value: pipelineInput(i, opts.size), partition: i % opts.partitions }));
    const consumer = new Consumer({
      baseUrl: this.baseUrl,
      groupId: `bench-pipeline-${uniqueId()}`,
      autoOffsetReset: "earliest",
      autoCommit: false,
      isolationLevel: "read_committed",
      maxRecords: 10_000,
      maxBytes: 4 * 1024 * 1024,
      waitMs: 500,
    });
    const producer = new Producer({
      baseUrl: this.baseUrl,
      batchBytes: BATCH_BYTES,
      lingerMs: LINGER_MS,
      maxInFlight: IN_FLIGHT,
      transactionalId: `bench-pipeline-${uniqueId()}`,
    });
    await producer.initTransactions();
    let processed = 0;
    let failure: unknown = null;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    /** The open transaction: when it began, its sends, and the input position it covers. */
    let txn: { began: number; sends: Promise<unknown>[]; offsets: Map<number, number> } | null = null;
    consumer.subscribe({ topics: [input] });
    const t0 = performance.now();
    try {
      await consumer.run({
        eachBatch: async ({ topic, partition, messages, position }) => {
          try {
            if (!txn) {
              producer.beginTransaction();
              txn = { began: performance.now(), sends: [], offsets: new Map() };
            }
            const out: ProducerRecord[] = [];
            for (const m of messages) if (m.value && pipelineKeeps(m.value)) out.push({ value: pipelineMap(m.value), partition });
            if (out.length > 0) txn.sends.push(producer.sendMany(output, out));
            // the consumer's position (past transaction markers), not the last offset + 1
            txn.offsets.set(partition, position);
            processed += messages.length;
            if (processed >= opts.records || performance.now() - txn.began >= PIPELINE_COMMIT_INTERVAL_MS) {
              const offsets = [...txn.offsets].map(([p, offset]) => ({ topic, partition: p, offset }));
              await producer.sendOffsetsToTransaction({ ...consumer.groupMetadata(), offsets });
              await producer.commitTransaction();
              await Promise.all(txn.sends);
              txn = null;
              if (processed >= opts.records) done();
            }
          } catch (e) {
            failure ??= e;
            done();
            throw e;
          }
        },
      });
      await finished;
      if (failure) throw failure;
      const ms = performance.now() - t0;
      // the output, read committed: exactly the kept records, mapped
      let outputs = 0;
      for (let p = 0; p < opts.partitions; p++) {
        const reader = new PartitionReader(this.baseUrl, output, p, 0, "read_committed");
        for (;;) {
          const r = await reader.poll((v) => {
            const value = v.value;
            if (!value || value.length !== opts.size || value[0] !== 0x4b)
              throw new Error(`tributary pipeline: output record ${v.offset} is not a mapped kept record`);
            outputs++;
          });
          if (reader.offset >= r.lastStableOffset) break;
        }
      }
      if (processed !== opts.records || outputs !== pipelineOutputs(opts.records)) {
        throw new Error(
          `tributary pipeline: processed ${processed} of ${opts.records} records, wrote ${outputs} of ${pipelineOutputs(opts.records)}`,
        );
      }
      return { ms };
    } finally {
      await consumer.stop().catch(() => undefined);
    }
  }

  async latency(opts: LatencyOptions): Promise<LatencyResult> {
    const topic = await this.newTopic(1);
    const producer = new Producer({ baseUrl: this.baseUrl, batchBytes: BATCH_BYTES, lingerMs: LATENCY_LINGER_MS, maxInFlight: IN_FLIGHT });
    const expected = Math.round(opts.rate * opts.seconds);
    const collector = new LatencyCollector(expected);
    const reader = new PartitionReader(this.baseUrl, topic, 0, 0);
    let stop = false;
    const view = new RecordView();
    const receive = (r: RecordView) => {
      const v = r.value;
      if (v) collector.receive(v);
    };
    const consuming = (async () => {
      while (!stop && collector.latencies.length < expected) {
        const { payload } = await reader.fetchRaw(FETCH_BYTES, 1000);
        let at = 0;
        while (at < payload.length) {
          const h = readBatchHeader(payload, at);
          forEachRecord(payload.subarray(at, at + h.sizeBytes), h, 0, receive, view);
          at += h.sizeBytes;
        }
      }
    })().catch((e) => collector.fail(e));
    const startedAt = performance.now();
    await pace(opts.rate, opts.seconds, (n) => {
      for (let i = 0; i < n; i++) void producer.send(topic, { value: stampedPayload(opts.size), partition: 0 });
    });
    await producer.flush();
    try {
      await collector.wait(10_000, "tributary latency");
      return collector.result(startedAt);
    } finally {
      stop = true;
      await consuming;
    }
  }

  async cleanup(): Promise<void> {
    for (const t of this.topics.splice(0)) {
      await fetch(`${this.baseUrl}/api/v1/topics/${t}`, { method: "DELETE" }).catch(() => undefined);
    }
    this.lastTopic = null;
  }

  async close(): Promise<void> {
    await this.cleanup();
  }
}

/**
 * Tributary through its JSON API (its own rows in the table): produce requests of 1,000 JSON
 * records, 4 in flight per producer; consume with JSON fetches of up to 10,000 records; the
 * latency consumer long-polls the JSON fetch.
 */
export class TributaryJsonSystem extends TributarySystem {
  override name = "tributary-json";
  override fastPath =
    "JSON over REST: 1,000 records per produce request, 4 requests in flight per producer; fetches of up to 10,000 records";

  override async produce(opts: ProduceOptions): Promise<{ ms: number }> {
    const topic = await this.newTopic(opts.partitions);
    const value = "x".repeat(opts.size);
    const perRequest = 1000;
    const t0 = performance.now();
    await Promise.all(
      split(opts.records, opts.producers).map(async (n, k) => {
        let next = 0;
        await Promise.all(
          Array.from({ length: 4 }, async () => {
            while (next < n) {
              const start = next;
              const count = Math.min(perRequest, n - start);
              next += count;
              const records = Array.from({ length: count }, (_, i) => ({ value, partition: (start + i + k) % opts.partitions }));
              const res = await fetch(`${this.baseUrl}/api/v1/topics/${topic}/records`, {
                method: "POST",
                headers: { "content-type": "application/json" },
                body: JSON.stringify({ records }),
              });
              if (!res.ok) throw new Error(`produce: ${res.status} ${await res.text()}`);
              await res.arrayBuffer();
            }
          }),
        );
      }),
    );
    this.lastTopic = { topic, partitions: opts.partitions };
    return { ms: performance.now() - t0 };
  }

  /** The group, transactional and pipeline workloads run on the client rows only (the same server paths). */
  override async consumeGroupAtHead(): Promise<null> {
    return null;
  }

  override async produceTransactional(): Promise<null> {
    return null;
  }

  override async pipeline(): Promise<null> {
    return null;
  }

  override async consume(opts: ConsumeOptions): Promise<{ ms: number }> {
    if (!this.lastTopic) throw new Error("consume before produce");
    const { topic, partitions } = this.lastTopic;
    const t0 = performance.now();
    let total = 0;
    await Promise.all(
      Array.from({ length: partitions }, async (_, p) => {
        let offset = 0;
        for (;;) {
          const res = await fetch(
            `${this.baseUrl}/api/v1/topics/${topic}/partitions/${p}/records?offset=${offset}&maxRecords=10000&maxBytes=16777216`,
          );
          if (!res.ok) throw new Error(`fetch: ${res.status} ${await res.text()}`);
          const body = (await res.json()) as { records: unknown[]; nextOffset: number; highWatermark: number };
          total += body.records.length;
          offset = body.nextOffset;
          if (offset >= body.highWatermark) break;
        }
      }),
    );
    if (total !== opts.records) throw new Error(`consumed ${total} of ${opts.records} records`);
    return { ms: performance.now() - t0 };
  }

  override async latency(opts: LatencyOptions): Promise<LatencyResult> {
    const topic = await this.newTopic(1);
    const expected = Math.round(opts.rate * opts.seconds);
    const collector = new LatencyCollector(expected);
    let stop = false;
    const consuming = (async () => {
      let offset = 0;
      while (!stop && collector.latencies.length < expected) {
        const res = await fetch(
          `${this.baseUrl}/api/v1/topics/${topic}/partitions/0/records?offset=${offset}&maxRecords=10000&waitMs=1000&encoding=base64`,
        );
        const body = (await res.json()) as { records: { value: string }[]; nextOffset: number };
        for (const r of body.records) collector.receive(Buffer.from(r.value, "base64"));
        offset = body.nextOffset;
      }
    })().catch((e) => collector.fail(e));
    // one request per pacing tick, as a JSON client without a batching library would send
    const inflight = new Set<Promise<unknown>>();
    const startedAt = performance.now();
    await pace(opts.rate, opts.seconds, async (n) => {
      const records = Array.from({ length: n }, () => ({ valueBase64: stampedPayload(opts.size).toString("base64"), partition: 0 }));
      const p = fetch(`${this.baseUrl}/api/v1/topics/${topic}/records`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ records }),
      }).then((r) => r.arrayBuffer());
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
      if (inflight.size >= 8) await Promise.race(inflight);
    });
    await Promise.all(inflight);
    try {
      await collector.wait(10_000, "tributary-json latency");
      return collector.result(startedAt);
    } finally {
      stop = true;
      await consuming;
    }
  }
}
