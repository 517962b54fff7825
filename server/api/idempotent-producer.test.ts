/**
 * Idempotent producers (KIP-98) through the binary produce path of a real server on a real
 * PostgreSQL: retries get their original offsets and are stored once, gaps and old epochs are
 * refused, and the producer state survives a restart (rebuilt from the log).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { encodeRecordBatch } from "../broker/protocol/record-batch.ts";
import { useTestServer } from "../testing/test-server.ts";

const server = useTestServer();
const TOPIC = "idem";

beforeAll(async () => {
  const res = await fetch(`${server.url}/api/v1/topics`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: TOPIC, partitions: 2 }),
  });
  expect(res.status).toBe(201);
});

function batch(producerId: number, producerEpoch: number, baseSequence: number, n: number, tag: string, isTransactional = false): Buffer {
  return encodeRecordBatch({
    baseOffset: 0,
    producerId,
    producerEpoch,
    baseSequence,
    isTransactional,
    records: Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.from(`${tag}-${i}`), headers: [], timestamp: Date.now() })),
  });
}

async function send(
  body: Buffer,
  partition = 0,
): Promise<{ status: number; json: { baseOffset?: number; lastOffset?: number; error?: { code: string; message: string } } }> {
  const res = await fetch(`${server.url}/api/v1/topics/${TOPIC}/records?partition=${partition}`, {
    method: "POST",
    headers: { "content-type": "application/vnd.kafka.record-batch" },
    body: body as unknown as BodyInit,
  });
  return { status: res.status, json: await res.json() };
}

async function highWatermark(partition = 0): Promise<number> {
  const t = await (await fetch(`${server.url}/api/v1/topics/${TOPIC}`)).json();
  return t.partitions[partition].highWatermark;
}

async function values(partition = 0): Promise<string[]> {
  const r = await (await fetch(`${server.url}/api/v1/topics/${TOPIC}/partitions/${partition}/records?offset=0&maxRecords=10000`)).json();
  return r.records.map((x: { value: string }) => x.value);
}

async function initProducer(): Promise<{ producerId: number; producerEpoch: number }> {
  const res = await fetch(`${server.url}/api/v1/producers`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  expect(res.status).toBe(201);
  return res.json();
}

describe("idempotent producer", () => {
  it("hands out distinct producer ids at epoch 0", async () => {
    const a = await initProducer();
    const b = await initProducer();
    expect(a.producerEpoch).toBe(0);
    expect(b.producerId).not.toBe(a.producerId);
  });

  it("a retried batch gets its original offsets and is stored once, also under concurrent retries", async () => {
    const { producerId } = await initProducer();
    const first = batch(producerId, 0, 0, 5, "a");
    const r1 = await send(first);
    expect(r1.status).toBe(200);
    const hw = await highWatermark();
    const r2 = await send(first);
    expect(r2).toMatchObject({ status: 200, json: { baseOffset: r1.json.baseOffset, lastOffset: r1.json.lastOffset } });
    expect(await highWatermark()).toBe(hw);
    const second = batch(producerId, 0, 5, 3, "b");
    const all = await Promise.all(Array.from({ length: 5 }, () => send(second)));
    expect(new Set(all.map((r) => r.status))).toEqual(new Set([200]));
    expect(new Set(all.map((r) => r.json.baseOffset)).size).toBe(1);
    expect(await highWatermark()).toBe(hw + 3);
    const stored = await values();
    expect(stored.filter((v) => v.startsWith("a-"))).toHaveLength(5);
    expect(stored.filter((v) => v.startsWith("b-"))).toHaveLength(3);
  });

  it("refuses a gap in sequences and an old epoch, writing nothing", async () => {
    const { producerId } = await initProducer();
    expect((await send(batch(producerId, 0, 0, 2, "c"))).status).toBe(200);
    const hw = await highWatermark();
    const gap = await send(batch(producerId, 0, 7, 1, "gap"));
    expect(gap.status).toBe(409);
    expect(gap.json.error?.code).toBe("OUT_OF_ORDER_SEQUENCE_NUMBER");
    // a new epoch starts again at sequence 0; the old epoch is then fenced
    expect((await send(batch(producerId, 1, 0, 1, "e1"))).status).toBe(200);
    const old = await send(batch(producerId, 0, 2, 1, "old"));
    expect(old.status).toBe(409);
    expect(old.json.error?.code).toBe("INVALID_PRODUCER_EPOCH");
    expect(await highWatermark()).toBe(hw + 1);
    expect((await values()).some((v) => v.startsWith("gap-") || v.startsWith("old-"))).toBe(false);
  });

  it("a batch that overtook its predecessor (another connection) waits for it: both stored, in sequence order", async () => {
    const { producerId } = await initProducer();
    const hw = await highWatermark();
    // the producer's first two batches arrive second-first: the first one's sequence 0 is late
    const early = send(batch(producerId, 0, 3, 2, "second"));
    await new Promise((r) => setTimeout(r, 200));
    const late = await send(batch(producerId, 0, 0, 3, "first"));
    expect(late).toMatchObject({ status: 200, json: { baseOffset: hw, lastOffset: hw + 2 } });
    expect(await early).toMatchObject({ status: 200, json: { baseOffset: hw + 3, lastOffset: hw + 4 } });
    // five batches in flight at once, sent last-first
    const five = await Promise.all([4, 3, 2, 1, 0].map((k) => send(batch(producerId, 0, 5 + 2 * k, 2, `k${k}`))));
    expect(five.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(five.map((r) => r.json.baseOffset)).toEqual([4, 3, 2, 1, 0].map((k) => hw + 5 + 2 * k));
    expect((await values()).slice(hw)).toEqual([
      "first-0",
      "first-1",
      "first-2",
      "second-0",
      "second-1",
      ...[0, 1, 2, 3, 4].flatMap((k) => [`k${k}-0`, `k${k}-1`]),
    ]);
  });

  it("plain batches without a producer id are appended as before, between idempotent ones", async () => {
    const hw = await highWatermark(1);
    expect(
      (
        await send(
          encodeRecordBatch({ baseOffset: 0, records: [{ key: null, value: Buffer.from("plain"), headers: [], timestamp: Date.now() }] }),
          1,
        )
      ).status,
    ).toBe(200);
    expect(await highWatermark(1)).toBe(hw + 1);
  });

  it("remembers sequences across a restart (rebuilt from the log)", async () => {
    const { producerId } = await initProducer();
    const b0 = batch(producerId, 0, 0, 4, "r0");
    const b1 = batch(producerId, 0, 4, 4, "r1");
    expect((await send(b0)).status).toBe(200);
    const r1 = await send(b1);
    await server.restart();
    const retry = await send(b1);
    expect(retry).toMatchObject({ status: 200, json: { baseOffset: r1.json.baseOffset } });
    const gap = await send(batch(producerId, 0, 9, 1, "r-gap"));
    expect(gap.json.error?.code).toBe("OUT_OF_ORDER_SEQUENCE_NUMBER");
    expect((await send(batch(producerId, 0, 8, 1, "r2"))).status).toBe(200);
  });

  it("bad input: transactional batches without or with an unknown ?transactionalId, a producer id without epoch/sequence", async () => {
    const { producerId } = await initProducer();
    const hw = await highWatermark();
    const sendTo = async (body: Buffer, query: string) => {
      const res = await fetch(`${server.url}/api/v1/topics/${TOPIC}/records?partition=0${query}`, {
        method: "POST",
        headers: { "content-type": "application/vnd.kafka.record-batch" },
        body: body as unknown as BodyInit,
      });
      return { status: res.status, json: (await res.json()) as { error?: { code: string; message: string } } };
    };
    // a transactional batch must name its transactional id
    const noId = await sendTo(batch(producerId, 0, 0, 1, "t", true), "");
    expect(noId.status).toBe(400);
    expect(noId.json.error?.message).toMatch(/transactionalId/);
    // an id the broker does not know: refused (there is no transaction to add the partition to)
    const unknown = await sendTo(batch(producerId, 0, 0, 1, "t", true), "&transactionalId=no-such-txn");
    expect([404, 409]).toContain(unknown.status);
    expect(["INVALID_PRODUCER_ID_MAPPING", "TRANSACTIONAL_ID_NOT_FOUND"]).toContain(unknown.json.error?.code);
    expect(unknown.json.error?.message).toMatch(/no-such-txn/);
    expect(await highWatermark()).toBe(hw);
    expect((await values()).some((v) => v.startsWith("t-"))).toBe(false);
    const noSeq = await send(batch(producerId, 0, -1, 1, "n"));
    expect(noSeq.status).toBe(400);
    expect(noSeq.json.error?.message).toMatch(/sequence/);
  });
});
