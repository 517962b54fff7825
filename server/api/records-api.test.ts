/**
 * Produce, fetch and list offsets through real HTTP against a real server process on a fresh
 * PostgreSQL database: JSON and binary round trips, Kafka-compatible key routing, paging,
 * long-polls, offsets by time, the RecordBatch v2 fast path, and bad input (each a specific 4xx
 * that writes nothing and leaves the server serving).
 */
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { beforeAll, describe, expect, it } from "vitest";
import {
  decodeRecords,
  encodeRecordBatch,
  hasValidCrc,
  readBatchHeader,
  splitBatches,
  type RecordInput,
} from "../broker/protocol/record-batch.ts";
import { crc32c } from "../broker/protocol/crc32c.ts";
import { useTestServer } from "../testing/test-server.ts";
import { expectError } from "../testing/api-assertions.ts";
import { apiCaller } from "../testing/api-client.ts";

const require = createRequire(import.meta.url);
/** kafkajs 2.x's Java-compatible DefaultPartitioner: an independent reference for key routing. */
const kafkajsPartition: (args: {
  topic: string;
  partitionMetadata: { partitionId: number; leader: number }[];
  message: { key: Buffer | null };
}) => number = require("kafkajs").Partitioners.DefaultPartitioner();

const BATCH_TYPE = "application/vnd.kafka.record-batch";

const server = useTestServer();

const call = apiCaller(() => server.url);

const b64 = (b: Buffer | number[]) => Buffer.from(b).toString("base64");

async function createTopic(name: string, partitions: number, configs?: Record<string, unknown>): Promise<void> {
  const res = await call("POST", "/api/v1/topics", { json: { name, partitions, configs } });
  expect(res.status, res.text).toBe(201);
}

async function produce(topic: string, records: unknown[]) {
  const res = await call("POST", `/api/v1/topics/${topic}/records`, { json: { records } });
  expect(res.status, res.text).toBe(200);
  return res.body.records as { partition: number; offset: number; timestamp: number }[];
}

async function fetchJson(topic: string, partition: number, query: string) {
  const res = await call("GET", `/api/v1/topics/${topic}/partitions/${partition}/records?${query}`);
  expect(res.status, res.text).toBe(200);
  return res.body;
}

/** Every record of a partition, paging with nextOffset up to the high watermark. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function fetchAll(topic: string, partition: number, pageSize = 100_000): Promise<any[]> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const out: any[] = [];
  let offset = (await fetchJson(topic, partition, "offset=0")).logStartOffset;
  for (let i = 0; i < 10_000; i++) {
    const r = await fetchJson(topic, partition, `offset=${offset}&maxRecords=${pageSize}&maxBytes=67108864`);
    out.push(...r.records);
    expect(r.nextOffset).toBeGreaterThanOrEqual(offset);
    if (r.nextOffset >= r.highWatermark) return out;
    if (r.records.length === 0) throw new Error(`fetch made no progress at ${offset}`);
    offset = r.nextOffset;
  }
  throw new Error("fetchAll did not reach the high watermark");
}

async function watermarks(topic: string): Promise<number[]> {
  const res = await call("GET", `/api/v1/topics/${topic}`);
  expect(res.status, res.text).toBe(200);
  return res.body.partitions.map((p: { highWatermark: number }) => p.highWatermark);
}

describe("records API: produce and fetch", () => {
  it("round-trips text, JSON and binary keys, values and headers", async () => {
    await createTopic("roundtrip", 3);
    const binKey = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff]);
    const binValue = Buffer.concat([Buffer.from([0xff, 0xfe, 0xc3]), randomBytes(200)]);
    const binHeader = Buffer.from([0x80, 0x81, 0x00]);
    const records = [
      {
        key: "k-text",
        value: "hello wörld ✓ 🚀",
        headers: [
          { key: "h-text", value: "v1" },
          { key: "h-null", value: null },
          { key: "h-bin", valueBase64: b64(binHeader) },
          { key: "h-text", value: "repeated keys are kept" },
        ],
        partition: 0,
      },
      { key: "k-json", value: { a: 1, b: [true, null, "x"], nested: { ü: 2.5 } }, headers: { trace: "abc", empty: "" }, partition: 0 },
      { keyBase64: b64(binKey), valueBase64: b64(binValue), partition: 0 },
      { value: null, partition: 0 },
      { partition: 0 },
      { key: "", value: "", partition: 0 },
      { value: 42, partition: 0 },
      { value: true, partition: 0 },
      { value: "tab\tand\nnewline are text", partition: 0 },
      { value: "bell\u0007 is binary", partition: 0 },
      { keyBase64: b64(Buffer.from("plain", "utf8")), value: "utf8 bytes given as base64 come back as text", partition: 0 },
      { key: "ts-number", value: "t", timestamp: 1_700_000_000_123, partition: 0 },
      { key: "ts-iso", value: "t", timestamp: "2024-02-29T12:34:56.789+01:00", partition: 0 },
    ];
    const before = Date.now();
    const acks = await produce("roundtrip", records);
    const after = Date.now();
    expect(acks.map((a) => [a.partition, a.offset])).toEqual(records.map((_, i) => [0, i]));
    for (const a of acks.slice(0, 11)) {
      expect(a.timestamp).toBeGreaterThanOrEqual(before - 1000);
      expect(a.timestamp).toBeLessThanOrEqual(after + 1000);
    }
    expect(acks[11].timestamp).toBe(1_700_000_000_123);
    expect(acks[12].timestamp).toBe(Date.parse("2024-02-29T11:34:56.789Z"));

    const page = await fetchJson("roundtrip", 0, "offset=0");
    expect(page).toMatchObject({
      topic: "roundtrip",
      partition: 0,
      logStartOffset: 0,
      highWatermark: 13,
      lastStableOffset: 13,
      nextOffset: 13,
    });
    const got = page.records;
    expect(got).toHaveLength(13);
    got.forEach((r: { topic: string; partition: number; offset: number; timestamp: number; timestampType: string }, i: number) => {
      expect(r).toMatchObject({ topic: "roundtrip", partition: 0, offset: i, timestamp: acks[i].timestamp, timestampType: "CreateTime" });
    });
    expect(got[0]).toMatchObject({ key: "k-text", keyEncoding: "utf8", value: "hello wörld ✓ 🚀", valueEncoding: "utf8" });
    expect(got[0].headers).toEqual([
      { key: "h-text", value: "v1", valueEncoding: "utf8" },
      { key: "h-null", value: null, valueEncoding: "utf8" },
      { key: "h-bin", value: b64(binHeader), valueEncoding: "base64" },
      { key: "h-text", value: "repeated keys are kept", valueEncoding: "utf8" },
    ]);
    expect(got[0].sizeBytes).toBe(Buffer.byteLength("k-text") + Buffer.byteLength("hello wörld ✓ 🚀"));
    // JSON values are stored as their JSON text
    expect(got[1].valueEncoding).toBe("utf8");
    expect(JSON.parse(got[1].value)).toEqual(records[1].value);
    expect(got[1].headers).toEqual([
      { key: "trace", value: "abc", valueEncoding: "utf8" },
      { key: "empty", value: "", valueEncoding: "utf8" },
    ]);
    // binary, not UTF-8: base64, byte-exact
    expect(got[2]).toMatchObject({ keyEncoding: "base64", valueEncoding: "base64", headers: [] });
    expect(Buffer.from(got[2].key, "base64").equals(binKey)).toBe(true);
    expect(Buffer.from(got[2].value, "base64").equals(binValue)).toBe(true);
    expect(got[2].sizeBytes).toBe(binKey.length + binValue.length);
    // null key and value, explicitly and by omission; empty strings stay empty (not null)
    expect(got[3]).toMatchObject({ key: null, value: null, sizeBytes: 0 });
    expect(got[4]).toMatchObject({ key: null, value: null });
    expect(got[5]).toMatchObject({ key: "", keyEncoding: "utf8", value: "", valueEncoding: "utf8" });
    expect(got[6]).toMatchObject({ value: "42", valueEncoding: "utf8" });
    expect(got[7]).toMatchObject({ value: "true", valueEncoding: "utf8" });
    expect(got[8]).toMatchObject({ value: "tab\tand\nnewline are text", valueEncoding: "utf8" });
    expect(got[9].valueEncoding).toBe("base64");
    expect(Buffer.from(got[9].value, "base64").toString("utf8")).toBe("bell\u0007 is binary");
    expect(got[10]).toMatchObject({ key: "plain", keyEncoding: "utf8" });
    expect(got[11].timestamp).toBe(1_700_000_000_123);
    expect(got[12].timestamp).toBe(Date.parse("2024-02-29T11:34:56.789Z"));

    // encoding=base64 forces base64 for everything, text included
    const forced = await fetchJson("roundtrip", 0, "offset=0&maxRecords=1&encoding=base64");
    expect(forced.records[0]).toMatchObject({ keyEncoding: "base64", valueEncoding: "base64", key: b64(Buffer.from("k-text")) });
    expect(Buffer.from(forced.records[0].value, "base64").toString("utf8")).toBe("hello wörld ✓ 🚀");
    expect(forced.records[0].headers[0]).toEqual({ key: "h-text", value: b64(Buffer.from("v1")), valueEncoding: "base64" });

    // nothing landed elsewhere
    expect(await watermarks("roundtrip")).toEqual([13, 0, 0]);
  });

  it("routes keyed records to the partition kafkajs's DefaultPartitioner picks, keeping per-key order", async () => {
    const partitions = 7;
    await createTopic("keyed", partitions);
    const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_üß€😀";
    const chars = [...alphabet];
    const keys: string[] = [];
    for (let i = 0; i < 200; i++) {
      const len = 1 + Math.floor(Math.random() * 40);
      keys.push(Array.from({ length: len }, () => chars[Math.floor(Math.random() * chars.length)]).join(""));
    }
    const binaryKeys = Array.from({ length: 20 }, () => randomBytes(1 + Math.floor(Math.random() * 16)));
    const metadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0 }));
    const expected = (key: Buffer) => kafkajsPartition({ topic: "keyed", partitionMetadata: metadata, message: { key } });

    const records = [
      ...keys.map((key, i) => ({ key, value: `v${i}` })),
      ...binaryKeys.map((k, i) => ({ keyBase64: b64(k), value: `b${i}` })),
      // the same key again later in the request: same partition, later offset
      ...keys.slice(0, 10).map((key, i) => ({ key, value: `again${i}` })),
    ];
    const acks = await produce("keyed", records);
    expect(acks).toHaveLength(records.length);
    const wanted = [...keys.map((k) => Buffer.from(k, "utf8")), ...binaryKeys, ...keys.slice(0, 10).map((k) => Buffer.from(k, "utf8"))].map(
      expected,
    );
    expect(acks.map((a) => a.partition)).toEqual(wanted);
    expect(new Set(wanted).size).toBeGreaterThan(3); // a spread, not one partition
    for (let i = 0; i < 10; i++) expect(acks[220 + i].offset).toBeGreaterThan(acks[i].offset);

    // what consumers read back agrees with the acknowledgements
    let total = 0;
    for (let p = 0; p < partitions; p++) {
      const stored = await fetchAll("keyed", p);
      total += stored.length;
      for (const r of stored) {
        const key = r.keyEncoding === "base64" ? Buffer.from(r.key, "base64") : Buffer.from(r.key, "utf8");
        expect(expected(key)).toBe(p);
      }
      const ackedHere = acks.map((a, i) => ({ ...a, i })).filter((a) => a.partition === p);
      expect(stored.map((r: { offset: number }) => r.offset)).toEqual(ackedHere.map((a) => a.offset).sort((a, b) => a - b));
      for (const a of ackedHere) {
        const r = stored.find((s: { offset: number }) => s.offset === a.offset);
        const want = records[a.i] as { value: string };
        expect(r.value).toBe(want.value);
      }
    }
    expect(total).toBe(records.length);
  });

  it("pages with maxRecords and maxBytes; always returns at least one record", async () => {
    await createTopic("paged", 1);
    const value = (i: number) => `${String(i).padStart(4, "0")}:${"x".repeat(95)}`; // 100 bytes
    // two requests: two stored batches, so pages cross a batch boundary
    await produce(
      "paged",
      Array.from({ length: 60 }, (_, i) => ({ value: value(i) })),
    );
    await produce(
      "paged",
      Array.from({ length: 40 }, (_, i) => ({ value: value(60 + i) })),
    );

    const ten = await fetchJson("paged", 0, "offset=0&maxRecords=10");
    expect(ten.records.map((r: { offset: number }) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(ten.nextOffset).toBe(10);
    expect(ten.highWatermark).toBe(100);

    const one = await fetchJson("paged", 0, "offset=5&maxBytes=1");
    expect(one.records.map((r: { offset: number; value: string }) => [r.offset, r.value])).toEqual([[5, value(5)]]);
    expect(one.nextOffset).toBe(6);

    const three = await fetchJson("paged", 0, "offset=58&maxBytes=350");
    expect(three.records.map((r: { offset: number }) => r.offset)).toEqual([58, 59, 60]);
    expect(three.nextOffset).toBe(61);

    // from the middle of a stored batch: starts exactly at the offset asked for
    const mid = await fetchJson("paged", 0, "offset=33&maxRecords=2");
    expect(mid.records.map((r: { offset: number; value: string }) => [r.offset, r.value])).toEqual([
      [33, value(33)],
      [34, value(34)],
    ]);

    // a consumer paging by 7 sees every record exactly once, in order
    const seen: string[] = [];
    let offset = 0;
    for (let i = 0; i < 100 && offset < 100; i++) {
      const page = await fetchJson("paged", 0, `offset=${offset}&maxRecords=7`);
      expect(page.records.length).toBeGreaterThan(0);
      expect(page.records.length).toBeLessThanOrEqual(7);
      expect(page.records[0].offset).toBe(offset);
      seen.push(...page.records.map((r: { value: string }) => r.value));
      offset = page.nextOffset;
    }
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => value(i)));

    // at the high watermark: no records, nextOffset stays
    const end = await fetchJson("paged", 0, "offset=100");
    expect(end).toMatchObject({ records: [], nextOffset: 100, highWatermark: 100 });
  });

  it("long-polls: a fetch waiting at the high watermark returns the record produced 300 ms later", async () => {
    await createTopic("polled", 2);
    await produce("polled", [{ value: "old", partition: 1 }]);
    const started = Date.now();
    const poll = call("GET", "/api/v1/topics/polled/partitions/1/records?offset=1&waitMs=10000");
    await new Promise((r) => setTimeout(r, 300));
    const [ack] = await produce("polled", [{ key: "new", value: "fresh", partition: 1 }]);
    expect(ack.offset).toBe(1);
    const res = await poll;
    const elapsed = Date.now() - started;
    expect(res.status, res.text).toBe(200);
    expect(res.body.records.map((r: { offset: number; key: string; value: string }) => [r.offset, r.key, r.value])).toEqual([
      [1, "new", "fresh"],
    ]);
    expect(res.body.highWatermark).toBe(2);
    // woken by the append, not by the 10 s timeout
    expect(elapsed).toBeLessThan(8000);

    // with nothing produced it waits (about) waitMs and answers empty
    const quietStart = Date.now();
    const quiet = await fetchJson("polled", 0, "offset=0&waitMs=600");
    expect(quiet).toMatchObject({ records: [], nextOffset: 0, highWatermark: 0 });
    expect(Date.now() - quietStart).toBeGreaterThanOrEqual(500);
  });

  it("lists offsets: earliest, latest and by timestamp", async () => {
    await createTopic("timed", 3);
    await produce("timed", [
      { value: "a", timestamp: 1000, partition: 0 },
      { value: "b", timestamp: 2000, partition: 0 },
      { value: "c", timestamp: 3000, partition: 0 },
      { value: "d", timestamp: 5000, partition: 1 },
    ]);
    const at = async (q: string) => {
      const res = await call("GET", `/api/v1/topics/timed/offsets${q}`);
      expect(res.status, res.text).toBe(200);
      return res.body;
    };
    expect(await at("?at=earliest")).toEqual({
      topic: "timed",
      at: "earliest",
      partitions: [0, 1, 2].map((partition) => ({ partition, offset: 0, timestamp: null })),
    });
    const latest = {
      topic: "timed",
      at: "latest",
      partitions: [
        { partition: 0, offset: 3, timestamp: null },
        { partition: 1, offset: 1, timestamp: null },
        { partition: 2, offset: 0, timestamp: null },
      ],
    };
    expect(await at("?at=latest")).toEqual(latest);
    expect(await at("")).toEqual(latest); // latest is the default
    expect((await at("?at=2000")).partitions).toEqual([
      { partition: 0, offset: 1, timestamp: 2000 },
      { partition: 1, offset: 0, timestamp: 5000 },
      { partition: 2, offset: null, timestamp: null },
    ]);
    expect((await at("?at=2500")).partitions[0]).toEqual({ partition: 0, offset: 2, timestamp: 3000 });
    expect((await at("?at=0")).partitions[0]).toEqual({ partition: 0, offset: 0, timestamp: 1000 });
    expect((await at("?at=6000")).partitions.map((p: { offset: number | null }) => p.offset)).toEqual([null, null, null]);
  });

  it("takes RecordBatch v2 bytes and serves them back to a Kafka decoder", async () => {
    await createTopic("binary", 2);
    const t0 = 1_700_000_000_000;
    const recs = (from: number, n: number): RecordInput[] =>
      Array.from({ length: n }, (_, i) => ({
        key: i % 2 ? Buffer.from(`key-${from + i}`) : null,
        value: i % 3 ? Buffer.from(`value-${from + i}`) : randomBytes(16),
        headers: [{ key: "seq", value: Buffer.from(String(from + i)) }],
        timestamp: t0 + from + i,
      }));
    const first = recs(0, 5);
    const batch1 = encodeRecordBatch({ baseOffset: 0, records: first });
    const post = (path: string, bytes: Buffer, headers: Record<string, string> = { "content-type": BATCH_TYPE }) =>
      call("POST", path, { body: new Uint8Array(bytes), headers });
    const r1 = await post("/api/v1/topics/binary/records?partition=1", batch1);
    expect(r1.status, r1.text).toBe(200);
    expect(r1.body).toEqual({ topic: "binary", partition: 1, baseOffset: 0, lastOffset: 4, recordCount: 5 });

    // two concatenated batches in one request; the client's base offsets are ignored
    const second = recs(5, 3);
    const third = recs(8, 4);
    const two = Buffer.concat([
      encodeRecordBatch({ baseOffset: 777, records: second }),
      encodeRecordBatch({ baseOffset: 0, records: third }),
    ]);
    const r2 = await post("/api/v1/topics/binary/records?partition=1", two, { "content-type": `${BATCH_TYPE}; charset=binary` });
    expect(r2.status, r2.text).toBe(200);
    expect(r2.body).toEqual({ topic: "binary", partition: 1, baseOffset: 5, lastOffset: 11, recordCount: 7 });

    const all = [...first, ...second, ...third];
    const res = await call("GET", "/api/v1/topics/binary/partitions/1/records?offset=0", { headers: { accept: BATCH_TYPE } });
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get("content-type")).toBe(BATCH_TYPE);
    expect(res.headers.get("x-high-watermark")).toBe("12");
    expect(res.headers.get("x-log-start-offset")).toBe("0");
    expect(res.headers.get("x-last-stable-offset")).toBe("12");
    expect(res.headers.get("x-next-offset")).toBe("12");
    const batches = splitBatches(res.bytes);
    expect(batches.map((b) => readBatchHeader(b).baseOffset)).toEqual([0, 5, 8]);
    const decoded = batches.flatMap((b) => {
      const h = readBatchHeader(b);
      expect(hasValidCrc(b, h)).toBe(true);
      expect(h.magic).toBe(2);
      return decodeRecords(b, h);
    });
    expect(decoded.map((r) => r.offset)).toEqual(all.map((_, i) => i));
    decoded.forEach((r, i) => {
      expect(r.key).toEqual(all[i].key);
      expect(r.value).toEqual(all[i].value);
      expect(r.timestamp).toBe(all[i].timestamp);
      expect(r.headers.map((h) => [h.key, h.value?.toString()])).toEqual([["seq", String(i)]]);
    });

    // from inside a batch: the containing batch comes whole, as in Kafka's fetch
    const mid = await call("GET", "/api/v1/topics/binary/partitions/1/records?offset=6&maxBytes=1", { headers: { accept: BATCH_TYPE } });
    expect(mid.status).toBe(200);
    expect(splitBatches(mid.bytes).map((b) => readBatchHeader(b).baseOffset)).toEqual([5]);
    expect(mid.headers.get("x-next-offset")).toBe("8");

    // at the high watermark: an empty body
    const empty = await call("GET", "/api/v1/topics/binary/partitions/1/records?offset=12", { headers: { accept: BATCH_TYPE } });
    expect(empty.status).toBe(200);
    expect(empty.bytes.length).toBe(0);
    expect(empty.headers.get("x-high-watermark")).toBe("12");

    // the JSON view of the same records
    const json = await fetchJson("binary", 1, "offset=0&maxRecords=100");
    expect(json.records.map((r: { offset: number }) => r.offset)).toEqual(all.map((_, i) => i));
    expect(json.records[1]).toMatchObject({ key: "key-1", value: "value-1", timestamp: t0 + 1 });

    // and JSON-produced records read back as batches too
    await produce("binary", [{ key: "j", value: "from json", partition: 0 }]);
    const fromJson = await call("GET", "/api/v1/topics/binary/partitions/0/records?offset=0", { headers: { accept: BATCH_TYPE } });
    const [only] = splitBatches(fromJson.bytes).flatMap((b) => decodeRecords(b));
    expect(only).toMatchObject({ offset: 0 });
    expect(only.key?.toString()).toBe("j");
    expect(only.value?.toString()).toBe("from json");
    expect(await watermarks("binary")).toEqual([1, 12]);
  });
});

describe("records API: JSON size bounds", () => {
  it("a JSON fetch returns at most 4 MiB of keys and values whatever maxBytes asks (the binary path up to 64 MiB)", async () => {
    expect(
      (await call("POST", "/api/v1/topics", { json: { name: "json-bound", partitions: 1, configs: { "max.message.bytes": 4194304 } } }))
        .status,
    ).toBe(201);
    const value = "x".repeat(1024 * 1024 - 100);
    for (let i = 0; i < 3; i++) {
      const r = await call("POST", "/api/v1/topics/json-bound/records", {
        json: { records: Array.from({ length: 6 }, () => ({ value, partition: 0 })) },
      });
      expect(r.status).toBe(200);
    }
    const json = await call("GET", "/api/v1/topics/json-bound/partitions/0/records?offset=0&maxRecords=100&maxBytes=67108864");
    expect(json.status).toBe(200);
    const body = json.body as { records: { value: string }[]; nextOffset: number; highWatermark: number };
    const bytes = body.records.reduce((n, r) => n + r.value.length, 0);
    expect(bytes).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(body.records.length).toBeGreaterThanOrEqual(3);
    expect(body.nextOffset).toBe(body.records.length);
    expect(body.highWatermark).toBe(18);
    const binary = await call("GET", "/api/v1/topics/json-bound/partitions/0/records?offset=0&maxBytes=67108864", {
      headers: { accept: BATCH_TYPE },
    });
    expect(binary.status).toBe(200);
    expect(binary.headers.get("x-next-offset")).toBe("18");
  });
});

describe("records API: bad input", () => {
  beforeAll(async () => {
    await createTopic("target", 3);
    await produce("target", [
      { value: "a", partition: 0 },
      { value: "b", partition: 0 },
      { value: "c", partition: 0 },
    ]);
    await createTopic("small", 2, { "max.message.bytes": 1000 });
    await createTopic("compacted", 1, { "cleanup.policy": "compact" });
  });

  const fetchPath = (q: string, partition: string | number = 0, topic = "target") =>
    `/api/v1/topics/${topic}/partitions/${partition}/records${q}`;

  it("answers 404 for an unknown topic or partition", async () => {
    expectError(
      await call("POST", "/api/v1/topics/ghost/records", { json: { records: [{ value: "x" }] } }),
      404,
      "UNKNOWN_TOPIC_OR_PARTITION",
      "ghost",
      "does not exist",
    );
    expectError(await call("GET", fetchPath("?offset=0", 0, "ghost")), 404, "UNKNOWN_TOPIC_OR_PARTITION", "ghost");
    expectError(await call("GET", "/api/v1/topics/ghost/offsets?at=latest"), 404, "UNKNOWN_TOPIC_OR_PARTITION", "ghost");
    expectError(
      await call("POST", "/api/v1/topics/ghost/records?partition=0", {
        body: new Uint8Array(
          encodeRecordBatch({ baseOffset: 0, records: [{ key: null, value: Buffer.from("x"), headers: [], timestamp: 1 }] }),
        ),
        headers: { "content-type": BATCH_TYPE },
      }),
      404,
      "UNKNOWN_TOPIC_OR_PARTITION",
      "ghost",
    );

    expectError(await call("GET", fetchPath("?offset=0", 3)), 404, "UNKNOWN_TOPIC_OR_PARTITION", "no partition 3", "0..2");
    expectError(await call("GET", fetchPath("?offset=0", 999_999_999)), 404, "UNKNOWN_TOPIC_OR_PARTITION", "no partition 999999999");
    expectError(
      await call("POST", "/api/v1/topics/target/records", {
        json: {
          records: [
            { value: "x", partition: 0 },
            { value: "y", partition: 3 },
          ],
        },
      }),
      404,
      "UNKNOWN_TOPIC_OR_PARTITION",
      "no partition 3",
    );
    expectError(
      await call("POST", "/api/v1/topics/target/records?partition=7", {
        body: new Uint8Array(
          encodeRecordBatch({ baseOffset: 0, records: [{ key: null, value: Buffer.from("x"), headers: [], timestamp: 1 }] }),
        ),
        headers: { "content-type": BATCH_TYPE },
      }),
      404,
      "UNKNOWN_TOPIC_OR_PARTITION",
      "no partition 7",
    );
    expect(await watermarks("target")).toEqual([3, 0, 0]);
  });

  it("refuses partitions that are not non-negative integers", async () => {
    for (const p of ["x", "-1", "1.5", "0x1", "1e2", "%20", "9999999999"]) {
      expectError(await call("GET", fetchPath("?offset=0", p)), 400, "VALIDATION_FAILED", "partition must be a non-negative integer");
    }
    expectError(
      await call("POST", "/api/v1/topics/target/records", { json: { records: [{ value: "x", partition: -1 }] } }),
      400,
      "VALIDATION_FAILED",
      "partition",
    );
    expectError(
      await call("POST", "/api/v1/topics/target/records", { json: { records: [{ value: "x", partition: 0.5 }] } }),
      400,
      "VALIDATION_FAILED",
      "partition",
    );
    expectError(
      await call("POST", "/api/v1/topics/target/records", { json: { records: [{ value: "x", partition: "0" }] } }),
      400,
      "VALIDATION_FAILED",
      "partition",
    );
    const batch = new Uint8Array(
      encodeRecordBatch({ baseOffset: 0, records: [{ key: null, value: Buffer.from("x"), headers: [], timestamp: 1 }] }),
    );
    for (const p of ["x", "-1", "1000"]) {
      expectError(
        await call("POST", `/api/v1/topics/target/records?partition=${p}`, { body: batch, headers: { "content-type": BATCH_TYPE } }),
        400,
        "VALIDATION_FAILED",
        "partition",
      );
    }
    expect(await watermarks("target")).toEqual([3, 0, 0]);
  });

  it("refuses bad offsets: 400 when malformed, 416 naming logStartOffset and highWatermark when out of range", async () => {
    expectError(await call("GET", fetchPath("?offset=-1")), 400, "VALIDATION_FAILED", "offset", ">= 0");
    expectError(await call("GET", fetchPath("?offset=abc")), 400, "VALIDATION_FAILED", "offset", "integer");
    expectError(await call("GET", fetchPath("?offset=1e3")), 400, "VALIDATION_FAILED", "offset", "integer");
    expectError(await call("GET", fetchPath("?offset=1.0")), 400, "VALIDATION_FAILED", "offset", "integer");
    expectError(await call("GET", fetchPath("?offset=")), 400, "VALIDATION_FAILED", "offset");
    expectError(await call("GET", fetchPath("")), 400, "VALIDATION_FAILED", "offset");
    expectError(await call("GET", fetchPath("?offset=9007199254740993")), 400, "VALIDATION_FAILED", "offset");
    expectError(await call("GET", fetchPath("?offset=123456789012345678901")), 400, "VALIDATION_FAILED", "offset");

    for (const offset of [4, 1_000_000, 9_007_199_254_740_991]) {
      const res = await call("GET", fetchPath(`?offset=${offset}`));
      expectError(res, 416, "OFFSET_OUT_OF_RANGE", String(offset), "log start", "high watermark", /\b0\b.*\b3\b/);
      expect(res.body.error.details).toMatchObject({ topic: "target", partition: 0, offset, logStartOffset: 0, highWatermark: 3 });
    }
    const batches = await call("GET", fetchPath("?offset=4"), { headers: { accept: BATCH_TYPE } });
    expectError(batches, 416, "OFFSET_OUT_OF_RANGE", "high watermark");
  });

  it("refuses bad fetch limits and unknown query parameters", async () => {
    expectError(await call("GET", fetchPath("?offset=0&maxRecords=0")), 400, "VALIDATION_FAILED", "maxRecords", ">= 1");
    expectError(await call("GET", fetchPath("?offset=0&maxRecords=100001")), 400, "VALIDATION_FAILED", "maxRecords", "<= 100000");
    expectError(await call("GET", fetchPath("?offset=0&maxRecords=ten")), 400, "VALIDATION_FAILED", "maxRecords");
    expectError(await call("GET", fetchPath("?offset=0&maxBytes=0")), 400, "VALIDATION_FAILED", "maxBytes", ">= 1");
    expectError(await call("GET", fetchPath("?offset=0&maxBytes=67108865")), 400, "VALIDATION_FAILED", "maxBytes");
    expectError(await call("GET", fetchPath("?offset=0&waitMs=999999")), 400, "VALIDATION_FAILED", "waitMs", "<= 60000");
    expectError(await call("GET", fetchPath("?offset=0&waitMs=-5")), 400, "VALIDATION_FAILED", "waitMs");
    expectError(await call("GET", fetchPath("?offset=0&encoding=hex")), 400, "VALIDATION_FAILED", "encoding", "base64");
    expectError(await call("GET", fetchPath("?offset=0&limit=5")), 400, "VALIDATION_FAILED", "Unrecognized key", "limit");
    expectError(await call("GET", fetchPath("?offset=0&offset=1")), 400, "VALIDATION_FAILED", "offset", "more than once");
    expectError(
      await call("POST", "/api/v1/topics/target/records?acks=all", { json: { records: [{ value: "x" }] } }),
      400,
      "VALIDATION_FAILED",
      "Unrecognized key",
      "acks",
    );
    expectError(
      await call("GET", "/api/v1/topics/target/offsets?at=latest&partition=0"),
      400,
      "VALIDATION_FAILED",
      "Unrecognized key",
      "partition",
    );
    expectError(
      await call("GET", "/api/v1/topics/target/offsets?at=yesterday"),
      400,
      "VALIDATION_FAILED",
      "at must be",
      "earliest",
      "latest",
    );
    expectError(await call("GET", "/api/v1/topics/target/offsets?at=-1"), 400, "VALIDATION_FAILED", "at must be");
    expectError(await call("GET", "/api/v1/topics/target/offsets?at=2024-01-01"), 400, "VALIDATION_FAILED", "at must be");
    expect(await watermarks("target")).toEqual([3, 0, 0]);
  });

  it("refuses a record over max.message.bytes (413) and writes nothing of the request", async () => {
    const res = await call("POST", "/api/v1/topics/small/records", {
      json: {
        records: [
          { value: "fine", partition: 0 },
          { value: "also fine", partition: 1 },
          { value: "x".repeat(2000), partition: 1 },
          { value: "after", partition: 0 },
        ],
      },
    });
    expectError(res, 413, "MESSAGE_TOO_LARGE", "max.message.bytes", "1000");
    expect(res.body.error.details).toMatchObject({ maxMessageBytes: 1000 });
    expect(res.body.error.details.sizeBytes).toBeGreaterThan(1000);
    expect(await watermarks("small")).toEqual([0, 0]);
    const offsets = await call("GET", "/api/v1/topics/small/offsets?at=latest");
    expect(offsets.body.partitions.map((p: { offset: number }) => p.offset)).toEqual([0, 0]);
    expect((await fetchJson("small", 1, "offset=0")).records).toEqual([]);

    // the same through the binary path
    const big = encodeRecordBatch({ baseOffset: 0, records: [{ key: null, value: Buffer.alloc(2000, 1), headers: [], timestamp: 1 }] });
    expectError(
      await call("POST", "/api/v1/topics/small/records?partition=0", {
        body: new Uint8Array(big),
        headers: { "content-type": BATCH_TYPE },
      }),
      413,
      "MESSAGE_TOO_LARGE",
      "max.message.bytes",
    );
    expect(await watermarks("small")).toEqual([0, 0]);

    // many small records that together exceed the limit are split, not refused; no offset was burnt
    const acks = await produce(
      "small",
      Array.from({ length: 50 }, (_, i) => ({ value: `r${i}-${"y".repeat(50)}`, partition: 0 })),
    );
    expect(acks.map((a) => a.offset)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect((await fetchAll("small", 0)).map((r) => r.value)).toEqual(Array.from({ length: 50 }, (_, i) => `r${i}-${"y".repeat(50)}`));
  });

  it("refuses malformed produce requests", async () => {
    const post = (json: unknown) => call("POST", "/api/v1/topics/target/records", { json });
    expectError(await post({ records: [] }), 400, "VALIDATION_FAILED", "records", "at least one record");
    expectError(await post({}), 400, "VALIDATION_FAILED", "records");
    expectError(await post({ records: {} }), 400, "VALIDATION_FAILED", "records");
    expectError(await post([{ value: "x" }]), 400, "VALIDATION_FAILED", "expected object");
    expectError(await post({ records: Array.from({ length: 100_001 }, () => ({})) }), 400, "VALIDATION_FAILED", "records", "100000");
    expectError(await post({ records: [{ valueBase64: "!!!not base64!!!" }] }), 400, "VALIDATION_FAILED", "valueBase64", "base64");
    expectError(await post({ records: [{ keyBase64: "abc" }] }), 400, "VALIDATION_FAILED", "keyBase64", "base64");
    expectError(
      await post({ records: [{ value: "x", headers: [{ key: "h", valueBase64: "%%%" }] }] }),
      400,
      "VALIDATION_FAILED",
      "valueBase64",
      "base64",
    );
    expectError(await post({ records: [{ key: "a", keyBase64: "YQ==" }] }), 400, "VALIDATION_FAILED", "key or keyBase64");
    expectError(await post({ records: [{ value: "a", valueBase64: "YQ==" }] }), 400, "VALIDATION_FAILED", "value or valueBase64");
    expectError(
      await post({ records: [{ value: "a", headers: [{ key: "h", value: "v", valueBase64: "dg==" }] }] }),
      400,
      "VALIDATION_FAILED",
      "value or valueBase64",
    );
    expectError(await post({ records: [{ key: 5 }] }), 400, "VALIDATION_FAILED", "key", "string");
    expectError(await post({ records: [{ value: "x", headers: "h=v" }] }), 400, "VALIDATION_FAILED", "headers");
    expectError(await post({ records: [{ value: "x", headers: { h: 5 } }] }), 400, "VALIDATION_FAILED", "headers");
    expectError(await post({ records: [{ value: "x", timestamp: "yesterday" }] }), 400, "VALIDATION_FAILED", "timestamp");
    expectError(await post({ records: [{ value: "x", timestamp: -1 }] }), 400, "VALIDATION_FAILED", "timestamp");
    expectError(await post({ records: [{ value: "x", topic: "other" }] }), 400, "VALIDATION_FAILED", "Unrecognized key", "topic");
    expectError(
      await call("POST", "/api/v1/topics/target/records", { body: '{"records": [', headers: { "content-type": "application/json" } }),
      400,
      "INVALID_JSON",
      "not valid JSON",
    );
    expectError(
      await call("POST", "/api/v1/topics/target/records", { body: "value=x", headers: { "content-type": "text/plain" } }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      "text/plain",
    );
    expectError(
      await call("POST", "/api/v1/topics/compacted/records", { json: { records: [{ key: "k", value: "ok" }, { value: "no key" }] } }),
      400,
      "INVALID_RECORD",
      "record 1",
      "key",
    );
    expect(await watermarks("target")).toEqual([3, 0, 0]);
    expect(await watermarks("compacted")).toEqual([0]);
  });

  it("refuses corrupt or unaddressed record-batch bytes and writes nothing", async () => {
    const good = encodeRecordBatch({
      baseOffset: 0,
      records: [
        { key: Buffer.from("k"), value: Buffer.from("some value"), headers: [], timestamp: 1_700_000_000_000 },
        { key: Buffer.from("k2"), value: Buffer.from("other"), headers: [], timestamp: 1_700_000_000_001 },
      ],
    });
    const send = (bytes: Buffer, q = "?partition=2") =>
      call("POST", `/api/v1/topics/target/records${q}`, { body: new Uint8Array(bytes), headers: { "content-type": BATCH_TYPE } });

    // one flipped bit in the CRC-covered region (a value byte, the attributes, the record count)
    for (const at of [good.length - 3, 22, 60]) {
      const bad = Buffer.from(good);
      bad[at] ^= 0x01;
      expectError(await send(bad), 400, "CORRUPT_MESSAGE", "CRC");
    }
    expectError(await send(good.subarray(0, good.length - 5)), 400, "CORRUPT_MESSAGE", "does not fit");
    expectError(await send(good.subarray(0, 30)), 400, "CORRUPT_MESSAGE", "truncated");
    const wrongMagic = Buffer.from(good);
    wrongMagic[16] = 1;
    expectError(await send(wrongMagic), 400, "CORRUPT_MESSAGE", "magic");
    expectError(await send(Buffer.concat([good, Buffer.from([1, 2, 3])])), 400, "CORRUPT_MESSAGE");
    expectError(await send(Buffer.from("definitely not a record batch")), 400, "CORRUPT_MESSAGE");
    expectError(await send(Buffer.alloc(0)), 400, "INVALID_REQUEST", "no record batch");
    // a good batch followed by a corrupt one: neither is written
    const tail = Buffer.from(good);
    tail[tail.length - 1] ^= 0xff;
    expectError(await send(Buffer.concat([good, tail])), 400, "CORRUPT_MESSAGE", "CRC");

    // intact (re-checksummed) batches that are compressed or claim to be control batches
    const withAttributes = (attributes: number) => {
      const b = Buffer.from(good);
      b.writeInt16BE(attributes, 21);
      b.writeUInt32BE(crc32c(b, 21, b.length), 17);
      expect(hasValidCrc(b)).toBe(true);
      return b;
    };
    expectError(await send(withAttributes(1)), 415, "UNSUPPORTED_COMPRESSION_TYPE", "codec 1", "uncompressed");
    expectError(await send(withAttributes(0x20)), 400, "INVALID_RECORD", "control");

    expectError(await send(good, ""), 400, "VALIDATION_FAILED", "partition");
    expect(await watermarks("target")).toEqual([3, 0, 0]);

    // the intact batch is accepted at offset 0: nothing before it consumed an offset
    const ok = await send(good);
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toMatchObject({ partition: 2, baseOffset: 0, lastOffset: 1, recordCount: 2 });
  });

  it("still serves afterwards", async () => {
    const res = await call("GET", "/api/v1/topics");
    expect(res.status).toBe(200);
    expect(res.body.topics.map((t: { name: string }) => t.name)).toEqual([
      "binary",
      "compacted",
      "json-bound",
      "keyed",
      "paged",
      "polled",
      "roundtrip",
      "small",
      "target",
      "timed",
    ]);
    expect((await fetchAll("target", 0)).map((r) => r.value)).toEqual(["a", "b", "c"]);
    expect(server.output()).not.toMatch(/unexpected error/);
    expect(server.child.exitCode).toBeNull();
  });
});
