/**
 * The TypeScript producer against a real server: batching on the binary path, per-record and
 * per-call acknowledgements with the offsets the broker assigned, Kafka's key partitioning,
 * and typed errors.
 */
import { describe, expect, it } from "vitest";
import { Producer } from "./producer.ts";
import { PartitionReader } from "./partition-reader.ts";
import { TributaryClientError } from "./http-client.ts";
import { partitionForKey } from "../broker/protocol/murmur2.ts";
import { readBatchHeader } from "../broker/protocol/record-batch.ts";
import { useTestServer } from "../testing/test-server.ts";

const server = useTestServer();

async function createTopic(name: string, partitions: number, configs: Record<string, unknown> = {}) {
  const res = await fetch(`${server.url}/api/v1/topics`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, partitions, configs }),
  });
  expect(res.status).toBe(201);
}

async function readAll(topic: string, partition: number): Promise<{ offset: number; key: string | null; value: string }[]> {
  const reader = new PartitionReader(server.url, topic, partition, 0);
  const out: { offset: number; key: string | null; value: string }[] = [];
  for (;;) {
    const r = await reader.fetch(4 << 20);
    for (const rec of r.records) out.push({ offset: rec.offset, key: rec.key?.toString() ?? null, value: rec.value?.toString() ?? "" });
    if (reader.offset >= r.highWatermark) return out;
  }
}

describe("Producer", () => {
  it("sendMany: batches many records and acknowledges each with the offset it was stored at", async () => {
    await createTopic("p-many", 3);
    const producer = new Producer({ baseUrl: server.url, batchBytes: 8192, lingerMs: 2 });
    const calls = Array.from({ length: 10 }, (_, c) =>
      producer.sendMany(
        "p-many",
        Array.from({ length: 500 }, (_, i) => ({ value: `c${c}-r${i}`, partition: (c * 500 + i) % 3 })),
      ),
    );
    const acks = (await Promise.all(calls)).flat();
    await producer.flush();
    for (let p = 0; p < 3; p++) {
      const mine = acks
        .filter((a) => a.partition === p)
        .map((a) => a.offset)
        .sort((a, b) => a - b);
      expect(mine).toEqual(Array.from({ length: mine.length }, (_, i) => i));
      const stored = await readAll("p-many", p);
      expect(stored.length).toBe(mine.length);
    }
    // every acknowledged offset holds exactly the value that was sent
    const stored = await Promise.all([0, 1, 2].map((p) => readAll("p-many", p)));
    let k = 0;
    for (let c = 0; c < 10; c++) {
      for (let i = 0; i < 500; i++, k++) {
        const a = acks[k];
        expect(stored[a.partition][a.offset].value).toBe(`c${c}-r${i}`);
      }
    }
  });

  it("send: keyed records go where Kafka's partitioner puts them; a lone record goes out after linger", async () => {
    await createTopic("p-keys", 5);
    const producer = new Producer({ baseUrl: server.url, lingerMs: 5 });
    const keys = Array.from({ length: 200 }, (_, i) => `user-${i * 7}`);
    const acks = await Promise.all(keys.map((key) => producer.send("p-keys", { key, value: `v-${key}` })));
    for (let i = 0; i < keys.length; i++) expect(acks[i].partition).toBe(partitionForKey(Buffer.from(keys[i]), 5));
    for (let p = 0; p < 5; p++) {
      const stored = await readAll("p-keys", p);
      for (const r of stored) expect(r.value).toBe(`v-${r.key}`);
    }
    const lone = await producer.send("p-keys", { key: "lone", value: "x" });
    expect(lone.partition).toBe(partitionForKey(Buffer.from("lone"), 5));
  });

  it("write: text keys and values stored as their UTF-8 bytes, keyed by Kafka's partitioner; resolves with nothing once all are stored", async () => {
    await createTopic("p-write", 3);
    const producer = new Producer({ baseUrl: server.url, batchBytes: 4096, lingerMs: 2 });
    const records = Array.from({ length: 300 }, (_, i) => ({ key: `ключ-${i}`, value: `значение ${i} — 🚀` }));
    await expect(producer.write("p-write", records)).resolves.toBeUndefined();
    const stored = (await Promise.all([0, 1, 2].map((p) => readAll("p-write", p).then((rs) => rs.map((r) => ({ ...r, p })))))).flat();
    expect(stored.length).toBe(records.length);
    for (const r of stored) {
      expect(r.p).toBe(partitionForKey(Buffer.from(r.key!, "utf8"), 3));
      expect(r.value).toBe(`значение ${r.key!.slice(5)} — 🚀`);
    }
  });

  it("rejects with the server's typed error: unknown topic, record over max.message.bytes", async () => {
    const producer = new Producer({ baseUrl: server.url });
    const unknown = await producer.send("p-none", { value: "x" }).catch((e) => e);
    expect(unknown).toBeInstanceOf(TributaryClientError);
    expect(unknown).toMatchObject({ status: 404, code: "UNKNOWN_TOPIC_OR_PARTITION" });
    await createTopic("p-small", 1, { "max.message.bytes": 1000 });
    const tooBig = await producer.send("p-small", { value: Buffer.alloc(5000) }).catch((e) => e);
    expect(tooBig).toMatchObject({ status: 413, code: "MESSAGE_TOO_LARGE" });
    expect(await readAll("p-small", 0)).toEqual([]);
  });

  it("idempotent by default: stamps producer id and contiguous sequences per partition; every record stored once, in send order", async () => {
    await createTopic("p-idem", 2);
    // no idempotent option: on by default (as in Kafka 3+), 5 requests in flight per partition
    const producer = new Producer({ baseUrl: server.url, batchBytes: 2048, lingerMs: 1 });
    const calls = Array.from({ length: 6 }, (_, c) =>
      producer.sendMany(
        "p-idem",
        Array.from({ length: 500 }, (_, i) => ({ value: `i${c}-${i}`, partition: i % 2 })),
      ),
    );
    const acks = (await Promise.all(calls)).flat();
    await producer.flush();
    for (let p = 0; p < 2; p++) {
      const mine = acks
        .filter((a) => a.partition === p)
        .map((a) => a.offset)
        .sort((a, b) => a - b);
      expect(mine).toEqual(Array.from({ length: 1500 }, (_, i) => i));
      // in flight on separate connections, batches still land in the order they were sent
      const sent = Array.from({ length: 6 }, (_, c) => Array.from({ length: 500 }, (_, i) => ({ c, i })))
        .flat()
        .filter(({ i }) => i % 2 === p);
      expect((await readAll("p-idem", p)).map((r) => r.value)).toEqual(sent.map(({ c, i }) => `i${c}-${i}`));
      // the stored batches carry one producer id and sequences that follow on from each other
      const reader = new PartitionReader(server.url, "p-idem", p, 0);
      let expectedSequence = 0;
      let producerId = -1;
      while (reader.offset < 1500) {
        const { payload } = await reader.fetchRaw(1 << 20);
        for (let at = 0; at < payload.length;) {
          const h = readBatchHeader(payload, at);
          if (producerId < 0) producerId = h.producerId;
          expect(h.producerId).toBe(producerId);
          expect(h.producerEpoch).toBe(0);
          expect(h.baseSequence).toBe(expectedSequence);
          expectedSequence += h.recordCount;
          at += h.sizeBytes;
        }
      }
      expect(producerId).toBeGreaterThanOrEqual(0);
      expect(expectedSequence).toBe(1500);
    }
  });

  it("refuses options Kafka refuses: a transactional producer without idempotence, more than 5 in flight with it", () => {
    expect(() => new Producer({ baseUrl: server.url, transactionalId: "t", idempotent: false })).toThrow(
      /transactional producer is idempotent/,
    );
    expect(() => new Producer({ baseUrl: server.url, maxInFlight: 6 })).toThrow(/at most 5 requests in flight/);
    expect(() => new Producer({ baseUrl: server.url, idempotent: false, maxInFlight: 6 })).not.toThrow();
  });
});
