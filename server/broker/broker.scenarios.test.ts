/**
 * Engine scenarios through the Broker façade, on both database kinds (embedded PGlite and a
 * real PostgreSQL): what a Kafka user checks — dense offsets, routing, retention, compaction,
 * offsets for timestamps, long-polls, restarts, size limits, the binary produce path, admin.
 */
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Broker, FetchedRecord, ProduceRecord } from "./broker.ts";
import { encodeRecordBatch, hasValidCrc, readBatchHeader, type RecordInput } from "./protocol/record-batch.ts";
import { partitionForKey } from "./protocol/murmur2.ts";
import type { StoredBatch } from "./store/log-store.ts";
import { DATABASE_KINDS } from "../testing/databases.ts";
import { withBroker, type BrokerHarness } from "../testing/broker-fixture.ts";

const require = createRequire(import.meta.url);
/** kafkajs 2.x's Java-compatible DefaultPartitioner: an independent reference for key routing. */
const kafkajsPartition: (args: {
  topic: string;
  partitionMetadata: { partitionId: number; leader: number }[];
  message: { key: Buffer | null };
}) => number = require("kafkajs").Partitioners.DefaultPartitioner();

const buf = (s: string) => Buffer.from(s, "utf8");
const str = (b: Buffer | null) => (b === null ? null : b.toString("utf8"));
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BIG = { maxRecords: 100_000, maxBytes: 64 * 1024 * 1024 };

/** Every record from `from` (default: log start) to the high watermark, in offset order. */
async function fetchAll(b: Broker, topic: string, partition: number, from?: number): Promise<FetchedRecord[]> {
  let offset = from ?? (await b.listOffsets(topic, "earliest", [partition]))[0].offset!;
  const out: FetchedRecord[] = [];
  for (let i = 0; i < 1000; i++) {
    const r = await b.fetch(topic, partition, { offset, ...BIG });
    out.push(...r.records);
    expect(r.nextOffset).toBeGreaterThanOrEqual(offset);
    offset = r.nextOffset;
    if (offset >= r.highWatermark) return out;
    if (r.records.length === 0 && r.nextOffset === offset) throw new Error(`fetch made no progress at ${offset}`);
  }
  throw new Error("fetchAll did not reach the high watermark");
}

/** Every stored batch from log start to the high watermark. */
async function batchesOf(b: Broker, topic: string, partition: number): Promise<StoredBatch[]> {
  let offset = (await b.listOffsets(topic, "earliest", [partition]))[0].offset!;
  const out: StoredBatch[] = [];
  for (let i = 0; i < 1000; i++) {
    const r = await b.fetchBatches(topic, partition, { offset, maxBytes: BIG.maxBytes });
    out.push(...r.batches);
    offset = r.nextOffset;
    if (offset >= r.highWatermark) return out;
    if (r.batches.length === 0) throw new Error(`fetchBatches made no progress at ${offset}`);
  }
  throw new Error("batchesOf did not reach the high watermark");
}

/** A consumer polling from 0 until it holds `count` records (or gives up after a few empty polls). */
async function consume(b: Broker, topic: string, partition: number, count: number): Promise<FetchedRecord[]> {
  const out: FetchedRecord[] = [];
  let offset = 0;
  let empty = 0;
  while (out.length < count && empty < 5) {
    const r = await b.fetch(topic, partition, { offset, ...BIG });
    // records handed out are below the high watermark the response reports
    expect(r.nextOffset).toBeLessThanOrEqual(r.highWatermark);
    if (r.records.length === 0) empty++;
    out.push(...r.records);
    offset = r.nextOffset;
  }
  return out;
}

async function partitionState(b: Broker, topic: string, partition = 0) {
  return (await b.describeTopic(topic)).partitions[partition];
}

describe.each(DATABASE_KINDS)("broker scenarios on %s", (kind) => {
  let h: BrokerHarness;

  beforeAll(async () => {
    h = await withBroker(kind);
  });

  afterAll(async () => {
    await h?.close();
  });

  it("1. assigns dense offsets under concurrent producers; fetch and describe agree", async () => {
    const b = h.broker;
    const topic = "dense";
    await b.createTopic({ name: topic, partitions: 6 });
    const CALLS = 50;
    const PER = 200;
    const calls: { records: ProduceRecord[]; done: Promise<Awaited<ReturnType<Broker["produce"]>>> }[] = [];
    for (let c = 0; c < CALLS; c++) {
      const records = range(0, PER).map((i) => ({ key: null, value: buf(`p0-c${c}-r${i}`), partition: 0 }));
      calls.push({ records, done: b.produce(topic, records) });
      // keyed records across all six partitions, interleaved with the single-partition calls
      if (c % 2 === 0) {
        const keyed = range(0, 40).map((i) => ({ key: buf(`key-${(c * 7 + i) % 97}`), value: buf(`k-c${c}-r${i}`) }));
        calls.push({ records: keyed, done: b.produce(topic, keyed) });
      }
    }
    const sent = new Map<number, Map<number, string>>(range(0, 6).map((p) => [p, new Map()]));
    for (const { records, done } of calls) {
      const res = await done;
      expect(res).toHaveLength(records.length);
      for (let i = 0; i < res.length; i++) {
        const byOffset = sent.get(res[i].partition)!;
        expect(byOffset.has(res[i].offset), `duplicate offset ${res[i].partition}/${res[i].offset}`).toBe(false);
        byOffset.set(res[i].offset, str(records[i].value)!);
      }
      // one call's records for one partition are contiguous and in the order sent
      for (let p = 0; p < 6; p++) {
        const offsets = res.filter((r) => r.partition === p).map((r) => r.offset);
        for (let i = 1; i < offsets.length; i++) expect(offsets[i]).toBe(offsets[i - 1] + 1);
      }
    }
    const expectedTotal = CALLS * PER + Math.ceil(CALLS / 2) * 40;
    let total = 0;
    let totalSize = 0;
    const desc = await b.describeTopic(topic);
    for (let p = 0; p < 6; p++) {
      const byOffset = sent.get(p)!;
      const n = byOffset.size;
      total += n;
      expect([...byOffset.keys()].sort((x, y) => x - y)).toEqual(range(0, n));
      const fetched = await fetchAll(b, topic, p, 0);
      expect(fetched.map((r) => r.offset)).toEqual(range(0, n));
      for (const r of fetched) expect(str(r.value)).toBe(byOffset.get(r.offset));
      const batches = await batchesOf(b, topic, p);
      for (let i = 0; i < batches.length; i++) {
        expect(batches[i].payload.length).toBe(batches[i].sizeBytes);
        expect(batches[i].baseOffset).toBe(i === 0 ? 0 : batches[i - 1].lastOffset + 1);
      }
      const size = batches.reduce((s, x) => s + x.sizeBytes, 0);
      totalSize += size;
      expect(desc.partitions[p]).toMatchObject({ partition: p, logStartOffset: 0, highWatermark: n, recordCount: n, sizeBytes: size });
    }
    expect(total).toBe(expectedTotal);
    expect(sent.get(0)!.size).toBeGreaterThanOrEqual(CALLS * PER);
    expect(desc.recordCount).toBe(total);
    expect(desc.sizeBytes).toBe(totalSize);
  });

  it("2. two brokers on one database: dense union of offsets, each reads what the other wrote", async () => {
    const a = h.broker;
    const peer = await h.peer();
    const topic = "shared";
    await a.createTopic({ name: topic, partitions: 1 });
    const ROUNDS = 20;
    const PER = 50;
    const work: Promise<{ who: string; c: number; res: Awaited<ReturnType<Broker["produce"]>> }>[] = [];
    for (let c = 0; c < ROUNDS; c++) {
      for (const [who, broker] of [
        ["A", a],
        ["B", peer],
      ] as const) {
        const records = range(0, PER).map((i) => ({ key: null, value: buf(`${who}-${c}-${i}`), partition: 0 }));
        work.push(broker.produce(topic, records).then((res) => ({ who, c, res })));
      }
    }
    const byOffset = new Map<number, string>();
    for (const { who, c, res } of await Promise.all(work)) {
      res.forEach((r, i) => {
        expect(byOffset.has(r.offset), `offset ${r.offset} handed out twice`).toBe(false);
        byOffset.set(r.offset, `${who}-${c}-${i}`);
      });
    }
    const total = ROUNDS * PER * 2;
    expect([...byOffset.keys()].sort((x, y) => x - y)).toEqual(range(0, total));
    // both report the same end offset, whichever of them committed last
    for (const broker of [a, peer]) {
      expect(await broker.listOffsets(topic, "latest")).toEqual([{ partition: 0, offset: total, timestamp: null }]);
    }

    // the peer appends more: a fetch on A beyond what A has seen must find it in the database
    const more = await peer.produce(
      topic,
      range(0, 5).map((i) => ({ key: null, value: buf(`B-more-${i}`), partition: 0 })),
    );
    expect(more.map((r) => r.offset)).toEqual(range(total, total + 5));
    more.forEach((r, i) => byOffset.set(r.offset, `B-more-${i}`));
    // raw batches read from the store past what A has seen come with a high watermark covering them
    const raw = await a.fetchBatches(topic, 0, { offset: 0, maxBytes: BIG.maxBytes });
    expect(raw).toMatchObject({ nextOffset: total + 5, highWatermark: total + 5 });
    const beyond = await a.fetch(topic, 0, { offset: total + 2 });
    expect(beyond.records.map((r) => [r.offset, str(r.value)])).toEqual([
      [total + 2, "B-more-2"],
      [total + 3, "B-more-3"],
      [total + 4, "B-more-4"],
    ]);
    // A's next append follows the peer's, whatever A had in memory
    const [next] = await a.produce(topic, [{ key: null, value: buf("A-after"), partition: 0 }]);
    expect(next.offset).toBe(total + 5);
    byOffset.set(next.offset, "A-after");

    // a consumer on either broker, polling from 0, gets every record in offset order
    for (const broker of [a, peer]) {
      const got = await consume(broker, topic, 0, total + 6);
      expect(got.map((r) => r.offset)).toEqual(range(0, total + 6));
      for (const r of got) expect(str(r.value)).toBe(byOffset.get(r.offset));
      expect(await broker.listOffsets(topic, "latest")).toEqual([{ partition: 0, offset: total + 6, timestamp: null }]);
    }

    // a consumer long-polling at the head on the peer sees A's append (at the latest when its wait ends)
    const poll = peer.fetch(topic, 0, { offset: total + 6, waitMs: 1000 });
    await sleep(50);
    await a.produce(topic, [{ key: null, value: buf("A-live"), partition: 0 }]);
    const live = await poll;
    expect(live.records.map((r) => [r.offset, str(r.value)])).toEqual([[total + 6, "A-live"]]);
    expect(live.highWatermark).toBe(total + 7);

    // a fetch without waiting, exactly at A's own high watermark, sees what the peer appended since
    expect((await a.listOffsets(topic, "latest"))[0].offset).toBe(total + 7);
    await peer.produce(topic, [{ key: null, value: buf("B-tail"), partition: 0 }]);
    const tail = await a.fetch(topic, 0, { offset: total + 7 });
    expect(tail.records.map((r) => [r.offset, str(r.value)])).toEqual([[total + 7, "B-tail"]]);
    expect(tail).toMatchObject({ nextOffset: total + 8, highWatermark: total + 8 });
    expect((await a.fetchBatches(topic, 0, { offset: total + 7 })).batches.map((x) => x.baseOffset)).toEqual([total + 7]);
  });

  it("2b. a broker follows topic changes made by another within the metadata max age", async () => {
    const a = h.broker;
    const peer = await h.peer();
    const topic = "meta-follow";
    await a.createTopic({ name: topic, partitions: 2 });
    await a.produce(topic, [{ key: buf("k"), value: buf("v") }]); // A has the topic loaded
    await peer.addPartitions(topic, 6);
    await peer.updateTopicConfigs(topic, { "max.message.bytes": 200 });
    await sleep(1100);
    // keyed records must be routed over 6 partitions by A as well, as Kafka's partitioner would
    const keys = Array.from({ length: 60 }, (_, i) => `key-${i}`);
    const placed = await a.produce(
      topic,
      keys.map((k) => ({ key: buf(k), value: buf("x") })),
    );
    expect(placed.map((p) => p.partition)).toEqual(keys.map((k) => partitionForKey(Buffer.from(k), 6)));
    expect((await a.describeTopic(topic)).partitions).toHaveLength(6);
    // the peer's max.message.bytes applies on A too
    await expect(a.produce(topic, [{ key: buf("k"), value: Buffer.alloc(500) }])).rejects.toMatchObject({ code: "MESSAGE_TOO_LARGE" });
    // deleted by the peer: A stops serving it
    await peer.deleteTopic(topic);
    await sleep(1100);
    await expect(a.describeTopic(topic)).rejects.toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION" });
    await expect(a.fetch(topic, 0, { offset: 0 })).rejects.toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION" });
  });

  it("2c. a topic loaded by requests at once is loaded once: a long-poll waiting on it is woken by the next produce", async () => {
    // the peer has none of these topics loaded: a long-poll and a listing load each at the same time
    const peer = await h.peer();
    const late: string[] = [];
    for (let i = 0; i < 6; i++) {
      const topic = `load-once-${i}`;
      await h.broker.createTopic({ name: topic, partitions: 1 });
      const t0 = performance.now();
      const polled = peer.fetch(topic, 0, { offset: 0, waitMs: 4000 });
      await Promise.all([peer.listTopics(), peer.describeTopic(topic)]);
      await sleep(50);
      await peer.produce(topic, [{ key: buf("k"), value: buf("v"), partition: 0 }]);
      const r = await polled;
      // woken by the produce, well before its 4 s were up (a poll on a log no longer served would wait them out)
      if (r.records.length !== 1 || performance.now() - t0 > 3000)
        late.push(`${topic}: ${r.records.length} records after ${Math.round(performance.now() - t0)} ms`);
    }
    expect(late).toEqual([]);
  });

  it("2d. a group poll with nothing new here reads the partition from the database before answering empty: it finds what another broker appended", async () => {
    const a = h.broker;
    const peer = await h.peer();
    const topic = "group-follow";
    await a.createTopic({ name: topic, partitions: 2 });
    const join = { subscribedTopicNames: [topic], memberEpoch: 0 } as const;
    const m = await a.heartbeatGroup("g-follow", join, { autoOffsetReset: "earliest", isolationLevel: "read_uncommitted" });
    const poll = { maxRecords: 100, maxBytes: 1 << 20 };
    // a poll while both partitions are empty: A's view of them is loaded, at offset 0
    expect((await a.pollGroupBatches("g-follow", m.memberId, { ...poll, waitMs: 0 })).parts).toEqual([]);
    for (const waitMs of [0, 300]) {
      await peer.produce(topic, [{ key: null, value: buf(`from-peer-${waitMs}`), partition: 1 }]);
      // no append on A wakes this poll: its last pass finds the record in the database
      const r = await a.pollGroup("g-follow", m.memberId, { ...poll, waitMs });
      expect(
        r.records.map((x) => x.value?.toString()),
        `waitMs ${waitMs}`,
      ).toEqual([`from-peer-${waitMs}`]);
    }
    // and a poll woken by an append on A still delivers the peer's record that came before it
    await peer.produce(topic, [{ key: null, value: buf("peer-first"), partition: 1 }]);
    const woken = a.pollGroup("g-follow", m.memberId, { ...poll, waitMs: 4000 });
    await sleep(50);
    await a.produce(topic, [{ key: null, value: buf("a-then"), partition: 0 }]);
    const got: string[] = (await woken).records.map((x) => String(x.value));
    if (got.length < 2)
      got.push(...(await a.pollGroup("g-follow", m.memberId, { ...poll, waitMs: 300 })).records.map((x) => String(x.value)));
    expect(got.sort()).toEqual(["a-then", "peer-first"]);
  });

  it("3. routes keyed records like Kafka's default partitioner and keeps their order; validates partitions", async () => {
    const b = h.broker;
    const topic = "routing";
    const N = 5;
    await b.createTopic({ name: topic, partitions: N });
    const keys = range(0, 12).map((i) => `user-${i}`);
    const meta = range(0, N).map((partitionId) => ({ partitionId, leader: 0 }));
    const partitionOfKey = new Map<string, number>();
    for (let call = 0; call < 3; call++) {
      const records: ProduceRecord[] = [];
      for (let seq = 0; seq < 5; seq++) for (const k of keys) records.push({ key: buf(k), value: buf(`${k}#${call * 5 + seq}`) });
      const res = await b.produce(topic, records);
      res.forEach((r, i) => {
        const k = str(records[i].key)!;
        expect(r.partition).toBe(kafkajsPartition({ topic, partitionMetadata: meta, message: { key: records[i].key } }));
        if (partitionOfKey.has(k)) expect(r.partition).toBe(partitionOfKey.get(k));
        partitionOfKey.set(k, r.partition);
      });
    }
    expect(new Set(partitionOfKey.values()).size).toBeGreaterThan(1);
    for (let p = 0; p < N; p++) {
      const fetched = await fetchAll(b, topic, p, 0);
      for (const k of keys) {
        const values = fetched.filter((r) => str(r.key) === k).map((r) => str(r.value));
        if (partitionOfKey.get(k) !== p) {
          expect(values).toEqual([]);
          continue;
        }
        expect(values).toEqual(range(0, 15).map((s) => `${k}#${s}`));
      }
    }

    // an explicit partition wins over the key
    const k0 = buf("user-0");
    const other = (partitionOfKey.get("user-0")! + 1) % N;
    const hwBefore = (await partitionState(b, topic, other)).highWatermark;
    const [explicit] = await b.produce(topic, [{ key: k0, value: buf("pinned"), partition: other }]);
    expect(explicit).toMatchObject({ partition: other, offset: hwBefore });
    const [pinned] = (await b.fetch(topic, other, { offset: hwBefore })).records;
    expect([str(pinned.key), str(pinned.value)]).toEqual(["user-0", "pinned"]);

    // bad partitions fail the whole call, and nothing of it is written
    const before = (await b.describeTopic(topic)).partitions.map((p) => p.highWatermark);
    for (const bad of [N, -1, 1.5, 1000]) {
      await expect(
        b.produce(topic, [
          { key: null, value: buf("ok"), partition: 0 },
          { key: null, value: buf("bad"), partition: bad },
        ]),
      ).rejects.toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION" });
    }
    expect((await b.describeTopic(topic)).partitions.map((p) => p.highWatermark)).toEqual(before);
    await expect(b.fetch(topic, N, { offset: 0 })).rejects.toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION" });
    await expect(b.produce("no-such-topic", [{ key: null, value: buf("x") }])).rejects.toMatchObject({
      code: "UNKNOWN_TOPIC_OR_PARTITION",
    });
    await expect(b.fetch("no-such-topic", 0, { offset: 0 })).rejects.toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION" });
    await expect(b.listOffsets("no-such-topic", "latest")).rejects.toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION" });
  });

  it("4. retention.ms deletes whole expired batches and advances the log start; -1 keeps everything", async () => {
    const b = h.broker;
    const topic = "retention-time";
    await b.createTopic({ name: topic, partitions: 1 });
    const now = Date.now();
    const old = now - 2 * 3600_000;
    for (let c = 0; c < 4; c++) {
      await b.produce(
        topic,
        range(0, 5).map((i) => ({ key: null, value: buf(`old-${c}-${i}`), timestamp: old + c * 10 + i })),
      );
    }
    for (let c = 0; c < 2; c++) {
      await b.produce(
        topic,
        range(0, 5).map((i) => ({ key: null, value: buf(`new-${c}-${i}`), timestamp: now + i })),
      );
    }
    const batches = await batchesOf(b, topic, 0);
    expect(batches.map((x) => x.baseOffset)).toEqual([0, 5, 10, 15, 20, 25]);
    const before = await partitionState(b, topic);
    expect(before).toMatchObject({ logStartOffset: 0, highWatermark: 30, recordCount: 30 });

    // the default (7 days) keeps two-hour-old data
    await b.runCleaner();
    expect(await partitionState(b, topic)).toEqual(before);

    await b.updateTopicConfigs(topic, { "retention.ms": 3600000 });
    const result = await b.runCleaner();
    expect(result.deletedBatches).toBeGreaterThanOrEqual(4);
    const oldBytes = batches.slice(0, 4).reduce((s, x) => s + x.sizeBytes, 0);
    expect(await partitionState(b, topic)).toMatchObject({
      logStartOffset: 20,
      highWatermark: 30,
      recordCount: 10,
      sizeBytes: before.sizeBytes - oldBytes,
    });
    for (const offset of [0, 7, 19]) {
      await expect(b.fetch(topic, 0, { offset })).rejects.toMatchObject({
        code: "OFFSET_OUT_OF_RANGE",
        details: { logStartOffset: 20, highWatermark: 30 },
      });
    }
    await expect(b.fetchBatches(topic, 0, { offset: 0 })).rejects.toMatchObject({ code: "OFFSET_OUT_OF_RANGE" });
    await expect(b.fetch(topic, 0, { offset: 31 })).rejects.toMatchObject({ code: "OFFSET_OUT_OF_RANGE" });
    const rest = await fetchAll(b, topic, 0);
    expect(rest.map((r) => r.offset)).toEqual(range(20, 30));
    expect(rest.map((r) => str(r.value))).toEqual([...range(0, 5).map((i) => `new-0-${i}`), ...range(0, 5).map((i) => `new-1-${i}`)]);
    expect(await b.listOffsets(topic, "earliest")).toEqual([{ partition: 0, offset: 20, timestamp: null }]);
    expect(await b.listOffsets(topic, "latest")).toEqual([{ partition: 0, offset: 30, timestamp: null }]);
    // offsets keep counting from the high watermark
    const [next] = await b.produce(topic, [{ key: null, value: buf("after") }]);
    expect(next.offset).toBe(30);

    // retention.ms=-1: month-old data stays
    const keep = "retention-forever";
    await b.createTopic({ name: keep, partitions: 1, configs: { "retention.ms": -1 } });
    const monthAgo = now - 30 * 86_400_000;
    for (let c = 0; c < 3; c++) {
      await b.produce(
        keep,
        range(0, 4).map((i) => ({ key: null, value: buf(`ancient-${c}-${i}`), timestamp: monthAgo + c })),
      );
    }
    const keptBefore = await partitionState(b, keep);
    await b.runCleaner();
    await b.runCleaner(now + 365 * 86_400_000);
    expect(await partitionState(b, keep)).toEqual(keptBefore);
    expect(keptBefore).toMatchObject({ logStartOffset: 0, highWatermark: 12, recordCount: 12 });
    expect((await fetchAll(b, keep, 0, 0)).map((r) => r.offset)).toEqual(range(0, 12));
  });

  it("4b. deleteRecords moves the log start to an offset (mid-batch too), deletes what lies wholly before it, refuses past the high watermark", async () => {
    const b = h.broker;
    const topic = "delete-records";
    await b.createTopic({ name: topic, partitions: 2 });
    for (let c = 0; c < 3; c++) {
      for (const partition of [0, 1])
        await b.produce(
          topic,
          range(0, 5).map((i) => ({ key: null, value: buf(`p${partition}-${c * 5 + i}`), partition })),
        );
    }
    const before = await partitionState(b, topic, 0);
    expect(before).toMatchObject({ logStartOffset: 0, highWatermark: 15, recordCount: 15 });

    // offset 7 cuts the second batch (5..9): the first goes, the second stays stored but 5 and 6 are gone
    expect(await b.deleteRecords(topic, [{ partition: 0, offset: 7 }])).toEqual([{ partition: 0, lowWatermark: 7 }]);
    expect(await partitionState(b, topic, 0)).toMatchObject({ logStartOffset: 7, highWatermark: 15, recordCount: 10 });
    await expect(b.fetch(topic, 0, { offset: 6 })).rejects.toMatchObject({ code: "OFFSET_OUT_OF_RANGE", details: { logStartOffset: 7 } });
    expect((await fetchAll(b, topic, 0)).map((r) => str(r.value))).toEqual(range(7, 15).map((i) => `p0-${i}`));
    expect(await b.listOffsets(topic, "earliest")).toEqual([
      { partition: 0, offset: 7, timestamp: null },
      { partition: 1, offset: 0, timestamp: null },
    ]);
    // a smaller offset than the log start changes nothing; -1 is the high watermark
    expect(await b.deleteRecords(topic, [{ partition: 0, offset: 3 }])).toEqual([{ partition: 0, lowWatermark: 7 }]);
    expect(await b.deleteRecords(topic, [{ partition: 1, offset: -1 }])).toEqual([{ partition: 1, lowWatermark: 15 }]);
    expect(await partitionState(b, topic, 1)).toMatchObject({ logStartOffset: 15, highWatermark: 15, recordCount: 0 });
    // offsets keep counting after everything was deleted
    const [next] = await b.produce(topic, [{ key: null, value: buf("after"), partition: 1 }]);
    expect(next.offset).toBe(15);

    // a bad target deletes nothing, not even the good ones named with it
    await expect(
      b.deleteRecords(topic, [
        { partition: 0, offset: 10 },
        { partition: 1, offset: 17 },
      ]),
    ).rejects.toMatchObject({
      code: "OFFSET_OUT_OF_RANGE",
      details: { partition: 1, highWatermark: 16 },
    });
    await expect(b.deleteRecords(topic, [{ partition: 2, offset: 0 }])).rejects.toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION" });
    await expect(b.deleteRecords("no-such-topic", [{ partition: 0, offset: 0 }])).rejects.toMatchObject({
      code: "UNKNOWN_TOPIC_OR_PARTITION",
    });
    await expect(
      b.deleteRecords(topic, [
        { partition: 0, offset: 9 },
        { partition: 0, offset: 10 },
      ]),
    ).rejects.toMatchObject({
      code: "INVALID_REQUEST",
    });
    expect(await partitionState(b, topic, 0)).toMatchObject({ logStartOffset: 7 });
  });

  it("5. retention.bytes deletes the oldest whole batches until the partition fits", async () => {
    const b = h.broker;
    const topic = "retention-bytes";
    await b.createTopic({ name: topic, partitions: 1 });
    const value = (c: number, i: number) => buf(`${c}-${i}-`.padEnd(100, "x"));
    for (let c = 0; c < 10; c++) {
      await b.produce(
        topic,
        range(0, 10).map((i) => ({ key: null, value: value(c, i) })),
      );
    }
    const batches = await batchesOf(b, topic, 0);
    expect(batches).toHaveLength(10);
    const keptBytes = batches.slice(7).reduce((s, x) => s + x.sizeBytes, 0);
    const limit = keptBytes + 10; // fits the newest three batches, not four
    await b.updateTopicConfigs(topic, { "retention.bytes": limit });
    await b.runCleaner();
    const state = await partitionState(b, topic);
    expect(state).toMatchObject({ logStartOffset: 70, highWatermark: 100, recordCount: 30, sizeBytes: keptBytes });
    expect(state.sizeBytes).toBeLessThanOrEqual(limit);
    const rest = await fetchAll(b, topic, 0);
    expect(rest.map((r) => r.offset)).toEqual(range(70, 100));
    for (const r of rest) expect(str(r.value)).toBe(str(value(Math.floor(r.offset / 10), r.offset % 10)));
    // running again changes nothing
    await b.runCleaner();
    expect(await partitionState(b, topic)).toEqual(state);
  });

  it("6. compaction keeps the newest record per key at its offset; tombstones expire after delete.retention.ms", async () => {
    const b = h.broker;
    const topic = "compacted";
    await b.createTopic({ name: topic, partitions: 1, configs: { "cleanup.policy": "compact" } });
    const keys = ["a", "b", "c", "d"];
    const latest = new Map<string, { offset: number; value: string | null }>();
    let n = 0;
    for (let call = 0; call < 6; call++) {
      const records: ProduceRecord[] = [];
      for (let round = 0; round < 5; round++) {
        for (const k of keys)
          records.push({ key: buf(k), value: buf(`${k}-v${n++}`), headers: [{ key: "round", value: buf(String(round)) }] });
      }
      const res = await b.produce(topic, records);
      res.forEach((r, i) => latest.set(str(records[i].key)!, { offset: r.offset, value: str(records[i].value) }));
    }
    const [tomb] = await b.produce(topic, [{ key: buf("d"), value: null }]);
    latest.set("d", { offset: tomb.offset, value: null });
    const [aFinal] = await b.produce(topic, [{ key: buf("a"), value: buf("a-final") }]);
    latest.set("a", { offset: aFinal.offset, value: "a-final" });
    const before = await partitionState(b, topic);
    expect(before.highWatermark).toBe(6 * 20 + 2);

    const result = await b.runCleaner();
    expect(result.compactedRecords).toBeGreaterThanOrEqual(before.recordCount - 4);
    const expected = [...latest.entries()].sort((x, y) => x[1].offset - y[1].offset).map(([k, v]) => [v.offset, k, v.value]);
    let records = await fetchAll(b, topic, 0);
    expect(records.map((r) => [r.offset, str(r.key), str(r.value)])).toEqual(expected);
    const after = await partitionState(b, topic);
    expect(after).toMatchObject({ logStartOffset: 0, highWatermark: before.highWatermark, recordCount: 4 });
    expect(after.sizeBytes).toBeLessThan(before.sizeBytes);
    expect(after.sizeBytes).toBe((await batchesOf(b, topic, 0)).reduce((s, x) => s + x.sizeBytes, 0));
    // the tombstone is younger than delete.retention.ms (1 day by default): a second pass keeps it
    await b.runCleaner();
    records = await fetchAll(b, topic, 0);
    expect(records.map((r) => [r.offset, str(r.key), str(r.value)])).toEqual(expected);
    for (let i = 1; i < records.length; i++) expect(records[i].offset).toBeGreaterThan(records[i - 1].offset);

    // once delete.retention.ms has passed, the tombstone goes too
    await b.updateTopicConfigs(topic, { "delete.retention.ms": 1000 });
    await b.runCleaner(Date.now() + 10_000);
    records = await fetchAll(b, topic, 0);
    expect(records.map((r) => [r.offset, str(r.key), str(r.value)])).toEqual(expected.filter(([, k]) => k !== "d"));
    expect(await partitionState(b, topic)).toMatchObject({ highWatermark: before.highWatermark, recordCount: 3 });

    // new appends continue after the high watermark and are read across the gaps
    const [again] = await b.produce(topic, [{ key: buf("b"), value: buf("b-new") }]);
    expect(again.offset).toBe(before.highWatermark);
    records = await fetchAll(b, topic, 0);
    expect(records.map((r) => [r.offset, str(r.value)]).at(-1)).toEqual([before.highWatermark, "b-new"]);

    // a compacted topic requires keys; the whole call fails
    await expect(
      b.produce(topic, [
        { key: buf("c"), value: buf("fine") },
        { key: null, value: buf("keyless") },
      ]),
    ).rejects.toMatchObject({ code: "INVALID_RECORD" });
    expect((await partitionState(b, topic)).highWatermark).toBe(before.highWatermark + 1);
  });

  it("7. listOffsets by timestamp finds the first offset at or after it; LogAppendTime stamps broker time", async () => {
    const b = h.broker;
    const topic = "by-time";
    await b.createTopic({ name: topic, partitions: 2 });
    const t0 = Date.now() - 60_000;
    const ts = (i: number) => t0 + 10 * i;
    for (const [from, to] of [
      [0, 7],
      [7, 14],
      [14, 20],
    ]) {
      await b.produce(
        topic,
        range(from, to).map((i) => ({ key: null, value: buf(`t${i}`), timestamp: ts(i), partition: 0 })),
      );
    }
    const at = async (timestamp: number) => (await b.listOffsets(topic, { timestamp }, [0]))[0];
    for (const k of [0, 6, 7, 13, 19]) {
      expect(await at(ts(k))).toEqual({ partition: 0, offset: k, timestamp: ts(k) });
      if (k < 19) expect(await at(ts(k) + 5)).toEqual({ partition: 0, offset: k + 1, timestamp: ts(k + 1) });
    }
    expect(await at(t0 - 1000)).toEqual({ partition: 0, offset: 0, timestamp: t0 });
    expect(await at(ts(19) + 1)).toEqual({ partition: 0, offset: null, timestamp: null });
    expect(await b.listOffsets(topic, { timestamp: t0 })).toEqual([
      { partition: 0, offset: 0, timestamp: t0 },
      { partition: 1, offset: null, timestamp: null },
    ]);
    expect(await b.listOffsets(topic, "earliest")).toEqual([
      { partition: 0, offset: 0, timestamp: null },
      { partition: 1, offset: 0, timestamp: null },
    ]);
    expect(await b.listOffsets(topic, "latest")).toEqual([
      { partition: 0, offset: 20, timestamp: null },
      { partition: 1, offset: 0, timestamp: null },
    ]);
    // CreateTime records come back with the producer's timestamps
    const fetched = await fetchAll(b, topic, 0, 0);
    expect(fetched.map((r) => [r.timestamp, r.timestampType])).toEqual(range(0, 20).map((i) => [ts(i), "CreateTime"]));

    // LogAppendTime: the broker's clock replaces the producer's timestamp
    const lat = "append-time";
    await b.createTopic({ name: lat, partitions: 1, configs: { "message.timestamp.type": "LogAppendTime" } });
    const t1 = Date.now();
    const produced = await b.produce(
      lat,
      range(0, 3).map((i) => ({ key: null, value: buf(`la${i}`), timestamp: 1000 + i })),
    );
    const binary = encodeRecordBatch({ baseOffset: 0, records: [{ key: null, value: buf("la-binary"), headers: [], timestamp: 5 }] });
    await b.produceBatches(lat, 0, binary);
    const t2 = Date.now();
    for (const r of produced) {
      expect(r.timestamp).toBeGreaterThanOrEqual(t1);
      expect(r.timestamp).toBeLessThanOrEqual(t2);
    }
    const stamped = await fetchAll(b, lat, 0, 0);
    expect(stamped.map((r) => str(r.value))).toEqual(["la0", "la1", "la2", "la-binary"]);
    for (const r of stamped) {
      expect(r.timestampType).toBe("LogAppendTime");
      expect(r.timestamp).toBeGreaterThanOrEqual(t1);
      expect(r.timestamp).toBeLessThanOrEqual(t2);
    }
    // the stamped batch still carries a valid CRC for zero-copy consumers
    for (const batch of await batchesOf(b, lat, 0)) expect(hasValidCrc(batch.payload)).toBe(true);
    expect((await b.listOffsets(lat, { timestamp: t1 }))[0].offset).toBe(0);
    expect((await b.listOffsets(lat, { timestamp: 1000 }))[0].offset).toBe(0);
  });

  it("8. a long-poll at the high watermark is woken by a produce, and otherwise waits about waitMs", async () => {
    const b = h.broker;
    const topic = "long-poll";
    await b.createTopic({ name: topic, partitions: 1 });
    await b.produce(topic, [{ key: null, value: buf("first") }]);

    let start = Date.now();
    const pending = b.fetch(topic, 0, { offset: 1, waitMs: 10_000 });
    await sleep(100);
    await b.produce(topic, [{ key: null, value: buf("wake") }]);
    const woken = await pending;
    expect(Date.now() - start).toBeLessThan(5000);
    expect(woken.records.map((r) => [r.offset, str(r.value)])).toEqual([[1, "wake"]]);
    expect(woken).toMatchObject({ nextOffset: 2, highWatermark: 2 });

    start = Date.now();
    const idle = await b.fetch(topic, 0, { offset: 2, waitMs: 300 });
    const elapsed = Date.now() - start;
    expect(idle.records).toEqual([]);
    expect(idle).toMatchObject({ nextOffset: 2, highWatermark: 2 });
    expect(elapsed).toBeGreaterThanOrEqual(280);
    expect(elapsed).toBeLessThan(5000);

    // an aborted long-poll returns at once, empty
    const ac = new AbortController();
    start = Date.now();
    const aborted = b.fetch(topic, 0, { offset: 2, waitMs: 10_000, signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    expect((await aborted).records).toEqual([]);
    expect(Date.now() - start).toBeLessThan(5000);
  });

  it("9. a restart keeps topics, partitions, offsets, records and configs", async () => {
    let b = h.broker;
    const topic = "durable";
    await b.createTopic({ name: topic, partitions: 3, configs: { "retention.ms": 86_400_000, "max.message.bytes": 50_000 } });
    const t = Date.now() - 1000;
    await b.produce(
      topic,
      range(0, 30).map((i) => ({
        key: i % 4 === 3 ? null : buf(`k${i % 7}`),
        value: i === 5 ? null : buf(`durable-${i}`),
        headers: [
          { key: "i", value: buf(String(i)) },
          { key: "nil", value: null },
        ],
        timestamp: t + i,
      })),
    );
    const trimmed = "durable-trimmed";
    await b.createTopic({ name: trimmed, partitions: 1 });
    for (let c = 0; c < 3; c++) {
      await b.produce(
        trimmed,
        range(0, 3).map((i) => ({ key: null, value: buf(`tr-${c}-${i}`), timestamp: c < 2 ? t - 7200_000 : t })),
      );
    }
    await b.updateTopicConfigs(trimmed, { "retention.ms": 3600_000 });
    await b.runCleaner();

    const describeBefore = await b.describeTopic(topic);
    const trimmedBefore = await b.describeTopic(trimmed);
    expect(trimmedBefore.partitions[0]).toMatchObject({ logStartOffset: 6, highWatermark: 9 });
    const recordsBefore = await Promise.all(range(0, 3).map((p) => fetchAll(b, topic, p, 0)));
    expect(recordsBefore.flat()).toHaveLength(30);

    b = await h.reopen();
    expect((await b.listTopics()).map((x) => x.name)).toEqual(expect.arrayContaining([topic, trimmed]));
    const describeAfter = await b.describeTopic(topic);
    expect(describeAfter).toEqual(describeBefore);
    expect(describeAfter.configs).toMatchObject({ "retention.ms": 86_400_000, "max.message.bytes": 50_000 });
    expect(describeAfter.overrides.sort()).toEqual(["max.message.bytes", "retention.ms"]);
    expect(await b.describeTopic(trimmed)).toEqual(trimmedBefore);
    for (let p = 0; p < 3; p++) expect(await fetchAll(b, topic, p, 0)).toEqual(recordsBefore[p]);
    await expect(b.fetch(trimmed, 0, { offset: 0 })).rejects.toMatchObject({ code: "OFFSET_OUT_OF_RANGE" });
    expect((await fetchAll(b, trimmed, 0)).map((r) => str(r.value))).toEqual(["tr-2-0", "tr-2-1", "tr-2-2"]);

    // appends after the restart continue at each partition's high watermark
    for (const p of describeBefore.partitions) {
      const [r] = await b.produce(topic, [{ key: null, value: buf("post-restart"), partition: p.partition }]);
      expect(r.offset).toBe(p.highWatermark);
    }
    // the configs still apply
    await expect(b.produce(topic, [{ key: null, value: Buffer.alloc(60_000) }])).rejects.toMatchObject({ code: "MESSAGE_TOO_LARGE" });
  });

  it("10. max.message.bytes: an oversized record fails the whole call; small records are split into batches", async () => {
    const b = h.broker;
    const topic = "limits";
    await b.createTopic({ name: topic, partitions: 2, configs: { "max.message.bytes": 1000 } });
    const big = Buffer.alloc(2000, 7);
    await expect(b.produce(topic, [{ key: null, value: big }])).rejects.toMatchObject({
      code: "MESSAGE_TOO_LARGE",
      details: { maxMessageBytes: 1000 },
    });
    await expect(
      b.produce(topic, [
        { key: null, value: buf("small"), partition: 0 },
        { key: null, value: big, partition: 1 },
        { key: null, value: buf("small too"), partition: 0 },
      ]),
    ).rejects.toMatchObject({ code: "MESSAGE_TOO_LARGE" });
    await expect(
      b.produce(topic, [
        { key: null, value: buf("small"), partition: 1 },
        { key: null, value: big, partition: 1 },
      ]),
    ).rejects.toMatchObject({ code: "MESSAGE_TOO_LARGE" });
    expect((await b.describeTopic(topic)).partitions.map((p) => [p.highWatermark, p.recordCount, p.sizeBytes])).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);

    const values = range(0, 40).map((i) => buf(`${i}:`.padEnd(100, "s")));
    const res = await b.produce(
      topic,
      values.map((value) => ({ key: null, value, partition: 0 })),
    );
    expect(res.map((r) => r.offset)).toEqual(range(0, 40));
    const batches = await batchesOf(b, topic, 0);
    expect(batches.length).toBeGreaterThanOrEqual(5);
    for (const x of batches) expect(x.sizeBytes).toBeLessThanOrEqual(1000);
    expect((await fetchAll(b, topic, 0, 0)).map((r) => str(r.value))).toEqual(values.map(str));

    // the binary path applies the same limit
    const fat = encodeRecordBatch({ baseOffset: 0, records: [{ key: null, value: big, headers: [], timestamp: Date.now() }] });
    await expect(b.produceBatches(topic, 1, fat)).rejects.toMatchObject({ code: "MESSAGE_TOO_LARGE" });
    expect((await partitionState(b, topic, 1)).highWatermark).toBe(0);
  });

  it("11. produceBatches stores client-encoded batches as sent; corrupt ones are refused whole", async () => {
    const b = h.broker;
    const topic = "binary";
    await b.createTopic({ name: topic, partitions: 2 });
    await b.produce(
      topic,
      range(0, 3).map((i) => ({ key: null, value: buf(`pre-${i}`), partition: 1 })),
    );
    const now = Date.now();
    const first: RecordInput[] = [
      { key: buf("k1"), value: buf("v1"), headers: [{ key: "h", value: buf("x") }], timestamp: now - 30 },
      { key: null, value: Buffer.from([0, 255, 1]), headers: [], timestamp: now - 20 },
      {
        key: buf(""),
        value: null,
        headers: [
          { key: "empty", value: Buffer.alloc(0) },
          { key: "nil", value: null },
        ],
        timestamp: now - 25,
      },
    ];
    const second: RecordInput[] = [
      { key: buf("k2"), value: buf("v2"), headers: [], timestamp: now - 10 },
      { key: buf("k3"), value: buf("v3"), headers: [], timestamp: now },
    ];
    const batch1 = encodeRecordBatch({ baseOffset: 999, records: first });
    const batch2 = encodeRecordBatch({ baseOffset: 0, records: second });
    const res = await b.produceBatches(topic, 1, Buffer.concat([batch1, batch2]));
    expect(res).toEqual({ partition: 1, baseOffset: 3, lastOffset: 7, recordCount: 5 });
    const fetched = await b.fetch(topic, 1, { offset: 3 });
    expect(fetched.records).toEqual(
      [...first, ...second].map((r, i) => ({
        offset: 3 + i,
        timestamp: r.timestamp,
        timestampType: "CreateTime",
        key: r.key,
        value: r.value,
        headers: r.headers,
      })),
    );
    // stored bytes are the client's, with only the base offset (outside the CRC) rewritten
    const stored = (await b.fetchBatches(topic, 1, { offset: 3 })).batches;
    expect(stored.map((x) => [x.baseOffset, x.lastOffset, x.recordCount])).toEqual([
      [3, 5, 3],
      [6, 7, 2],
    ]);
    for (const [x, sent] of [
      [stored[0], batch1],
      [stored[1], batch2],
    ] as const) {
      expect(hasValidCrc(x.payload)).toBe(true);
      expect(readBatchHeader(x.payload).baseOffset).toBe(x.baseOffset);
      expect(x.payload.subarray(8).equals(sent.subarray(8))).toBe(true);
    }

    const corrupt = Buffer.from(batch1);
    corrupt[corrupt.length - 10] ^= 0xff;
    await expect(b.produceBatches(topic, 1, corrupt)).rejects.toMatchObject({ code: "CORRUPT_MESSAGE" });
    await expect(b.produceBatches(topic, 1, Buffer.concat([batch2, corrupt]))).rejects.toMatchObject({ code: "CORRUPT_MESSAGE" });
    await expect(b.produceBatches(topic, 1, batch1.subarray(0, 40))).rejects.toMatchObject({ code: "CORRUPT_MESSAGE" });
    await expect(b.produceBatches(topic, 1, Buffer.concat([batch2, batch1.subarray(0, batch1.length - 1)]))).rejects.toMatchObject({
      code: "CORRUPT_MESSAGE",
    });
    expect(await partitionState(b, topic, 1)).toMatchObject({ highWatermark: 8, recordCount: 8 });
    await expect(b.produceBatches(topic, 2, batch2)).rejects.toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION" });

    // a compacted topic refuses keyless records on the binary path as well
    await b.createTopic({ name: "binary-compacted", partitions: 1, configs: { "cleanup.policy": "compact" } });
    await expect(b.produceBatches("binary-compacted", 0, batch1)).rejects.toMatchObject({ code: "INVALID_RECORD" });
    expect((await partitionState(b, "binary-compacted")).highWatermark).toBe(0);
    expect(await b.produceBatches("binary-compacted", 0, batch2)).toMatchObject({ baseOffset: 0, lastOffset: 1 });
  });

  it("12. topic admin: duplicates, names, partition counts, configs, growing, deleting and recreating", async () => {
    const b = h.broker;
    const topic = "admin-topic";
    const created = await b.createTopic({ name: topic, partitions: 2, configs: { "retention.ms": "120000" } });
    expect(created).toMatchObject({ name: topic, overrides: ["retention.ms"], recordCount: 0, sizeBytes: 0 });
    expect(created.configs["retention.ms"]).toBe(120000);
    expect(created.partitions.map((p) => p.partition)).toEqual([0, 1]);
    await expect(b.createTopic({ name: topic })).rejects.toMatchObject({ code: "TOPIC_ALREADY_EXISTS" });
    // another broker on the same database cannot create it either
    const peer = await h.peer();
    await expect(peer.createTopic({ name: topic, partitions: 5 })).rejects.toMatchObject({ code: "TOPIC_ALREADY_EXISTS" });

    for (const name of ["", ".", "..", "a b", "x".repeat(250), "tab\t", "slash/name", "ünïcode"]) {
      await expect(b.createTopic({ name }), JSON.stringify(name)).rejects.toMatchObject({ code: "INVALID_TOPIC_EXCEPTION" });
    }
    const longest = "y".repeat(249);
    expect((await b.createTopic({ name: longest })).name).toBe(longest);
    for (const partitions of [0, 1001, -1, 1.5]) {
      await expect(b.createTopic({ name: "bad-partitions", partitions })).rejects.toMatchObject({ code: "INVALID_PARTITIONS" });
    }
    const badConfigs: Record<string, unknown>[] = [
      { "retention.msx": 1 },
      { "retention.ms": "abc" },
      { "retention.ms": -2 },
      { "cleanup.policy": "remove" },
      { "max.message.bytes": 999_999_999 },
      { "message.timestamp.type": "Whenever" },
      { "delete.retention.ms": 1.5 },
    ];
    for (const configs of badConfigs) {
      await expect(b.createTopic({ name: "bad-config", configs }), JSON.stringify(configs)).rejects.toMatchObject({
        code: "INVALID_CONFIG",
      });
      await expect(b.updateTopicConfigs(topic, configs), JSON.stringify(configs)).rejects.toMatchObject({ code: "INVALID_CONFIG" });
    }
    const names = (await b.listTopics()).map((t) => t.name);
    expect(names).toContain(topic);
    expect(names).not.toContain("bad-partitions");
    expect(names).not.toContain("bad-config");
    expect((await b.describeTopic(topic)).configs["retention.ms"]).toBe(120000);
    // null resets a config to its default
    const reset = await b.updateTopicConfigs(topic, { "retention.ms": null, "retention.bytes": 5000 });
    expect(reset.configs).toMatchObject({ "retention.ms": 604_800_000, "retention.bytes": 5000 });
    expect(reset.overrides).toEqual(["retention.bytes"]);

    // growing; new partitions take data, on this broker and on one that knew the old count
    expect((await peer.describeTopic(topic)).partitions).toHaveLength(2);
    const grown = await b.addPartitions(topic, 4);
    expect(grown.partitions.map((p) => [p.partition, p.highWatermark])).toEqual([
      [0, 0],
      [1, 0],
      [2, 0],
      [3, 0],
    ]);
    expect((await b.produce(topic, [{ key: null, value: buf("p3"), partition: 3 }]))[0]).toMatchObject({ partition: 3, offset: 0 });
    expect((await peer.produce(topic, [{ key: null, value: buf("p2"), partition: 2 }]))[0]).toMatchObject({ partition: 2, offset: 0 });
    expect((await b.fetch(topic, 2, { offset: 0 })).records.map((r) => str(r.value))).toEqual(["p2"]);
    expect((await peer.fetch(topic, 3, { offset: 0 })).records.map((r) => str(r.value))).toEqual(["p3"]);
    for (const n of [4, 3, 1, 1001]) {
      await expect(b.addPartitions(topic, n)).rejects.toMatchObject({ code: "INVALID_PARTITIONS" });
    }
    expect((await b.describeTopic(topic)).partitions).toHaveLength(4);

    // delete, then recreate under the same name: an empty topic
    await b.produce(
      topic,
      range(0, 10).map((i) => ({ key: buf(`k${i}`), value: buf(`old-${i}`) })),
    );
    await b.deleteTopic(topic);
    await expect(b.describeTopic(topic)).rejects.toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION" });
    await expect(b.fetch(topic, 0, { offset: 0 })).rejects.toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION" });
    await expect(b.produce(topic, [{ key: null, value: buf("x") }])).rejects.toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION" });
    await expect(b.deleteTopic(topic)).rejects.toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION" });
    expect((await b.listTopics()).map((t) => t.name)).not.toContain(topic);
    const again = await b.createTopic({ name: topic, partitions: 1 });
    expect(again.id).not.toBe(created.id);
    expect(again).toMatchObject({ recordCount: 0, sizeBytes: 0, overrides: [] });
    expect(again.partitions).toEqual([
      { partition: 0, logStartOffset: 0, highWatermark: 0, lastStableOffset: 0, openTransactions: [], recordCount: 0, sizeBytes: 0 },
    ]);
    expect((await b.fetch(topic, 0, { offset: 0 })).records).toEqual([]);
    expect((await b.produce(topic, [{ key: null, value: buf("fresh") }]))[0]).toMatchObject({ partition: 0, offset: 0 });
    expect((await fetchAll(b, topic, 0, 0)).map((r) => str(r.value))).toEqual(["fresh"]);
  });
});
