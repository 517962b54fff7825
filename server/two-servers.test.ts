/**
 * Two server processes on one PostgreSQL database, both producing to the same partition at
 * once: offsets must be assigned exactly once across processes (0..N-1, no gap, no duplicate),
 * and each process must serve the whole log, including what the other one wrote.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScratchDatabase, type ScratchDatabase } from "./testing/databases.ts";
import { startServer, type ServerProcess } from "./testing/server-process.ts";

const TOPIC = "shared";
const REQUESTS = 40;
const PER_REQUEST = 100;
const TOTAL = 2 * REQUESTS * PER_REQUEST;

let db: ScratchDatabase;
let servers: ServerProcess[] = [];

beforeAll(async () => {
  db = await createScratchDatabase("postgres");
  servers = await Promise.all([startServer(db), startServer(db)]);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await db?.drop();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function request(url: string, init?: RequestInit): Promise<any> {
  const res = await fetch(url, init);
  const text = await res.text();
  if (res.status < 200 || res.status > 299) throw new Error(`${init?.method ?? "GET"} ${url}: HTTP ${res.status} ${text.slice(0, 500)}`);
  return JSON.parse(text);
}

const post = (url: string, body: unknown) =>
  request(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

interface Ack {
  offset: number;
  value: string;
}

/** Every record of partition 0 through one server, paging from 0 until its high watermark. */
async function readAll(server: ServerProcess, pageSize: number) {
  const records: { offset: number; value: string }[] = [];
  let offset = 0;
  let highWatermark = -1;
  for (let i = 0; i < 10_000; i++) {
    const page = await request(`${server.url}/api/v1/topics/${TOPIC}/partitions/0/records?offset=${offset}&maxRecords=${pageSize}`);
    records.push(...page.records);
    highWatermark = page.highWatermark;
    if (page.records.length === 0) break;
    offset = page.nextOffset;
  }
  return { records, highWatermark, nextOffset: offset };
}

describe("two server processes on one database", () => {
  const acked: Ack[][] = [[], []];

  it("assign every offset exactly once while both produce to one partition", async () => {
    // the topic is created through one server; the other learns of it from the database
    await post(`${servers[0].url}/api/v1/topics`, { name: TOPIC, partitions: 2 });
    // both have loaded the topic before either produces, so neither starts late by a metadata read
    for (const srv of servers) expect((await fetch(`${srv.url}/api/v1/topics/${TOPIC}`)).status).toBe(200);

    const produce = async (s: number) => {
      // four concurrent producers per server, five requests each
      await Promise.all(
        Array.from({ length: 4 }, async (_, worker) => {
          for (let r = worker; r < REQUESTS; r += 4) {
            const values = Array.from({ length: PER_REQUEST }, (_, i) => `s${s}-r${r}-i${i}`);
            const body = await post(`${servers[s].url}/api/v1/topics/${TOPIC}/records`, {
              records: values.map((value) => ({ value, partition: 0 })),
            });
            expect(body.records).toHaveLength(PER_REQUEST);
            const offsets = body.records.map((x: { partition: number; offset: number }) => {
              expect(x.partition).toBe(0);
              return x.offset;
            });
            // one request's records are one batch: consecutive offsets
            expect(offsets).toEqual(Array.from({ length: PER_REQUEST }, (_, i) => offsets[0] + i));
            values.forEach((value, i) => acked[s].push({ offset: offsets[i], value }));
          }
        }),
      );
    };
    await Promise.all([produce(0), produce(1)]);

    const all = [...acked[0], ...acked[1]].map((a) => a.offset).sort((a, b) => a - b);
    expect(all).toHaveLength(TOTAL);
    expect(new Set(all).size).toBe(TOTAL);
    expect(all).toEqual(Array.from({ length: TOTAL }, (_, i) => i));
    // both servers' writes are interleaved in the log, not one after the other
    const firstOf = (s: number) => Math.min(...acked[s].map((a) => a.offset));
    const lastOf = (s: number) => Math.max(...acked[s].map((a) => a.offset));
    expect(firstOf(0) < lastOf(1) && firstOf(1) < lastOf(0)).toBe(true);
  });

  it("each server fetches the whole log, including the other's writes", async () => {
    const expected = new Map<number, string>();
    for (const a of [...acked[0], ...acked[1]]) expected.set(a.offset, a.value);
    for (const [i, server] of servers.entries()) {
      // one consumer in large pages, one in small pages that cross the other server's batches
      for (const pageSize of [100_000, 37]) {
        const { records, highWatermark, nextOffset } = await readAll(server, pageSize);
        expect(highWatermark, `server ${i} high watermark (pages of ${pageSize})`).toBe(TOTAL);
        expect(nextOffset).toBe(TOTAL);
        expect(records.map((r) => r.offset)).toEqual(Array.from({ length: TOTAL }, (_, k) => k));
        for (const r of records) expect(r.value).toBe(expected.get(r.offset));
      }
    }
  });

  it("after a fetch, describe and list offsets on each server agree on the high watermark", async () => {
    for (const server of servers) {
      const topic = await request(`${server.url}/api/v1/topics/${TOPIC}`);
      expect(topic.partitions[0]).toMatchObject({ partition: 0, logStartOffset: 0, highWatermark: TOTAL, recordCount: TOTAL });
      expect(topic.partitions[1]).toMatchObject({ partition: 1, highWatermark: 0, recordCount: 0 });
      const latest = await request(`${server.url}/api/v1/topics/${TOPIC}/offsets?at=latest`);
      expect(latest.partitions.map((p: { offset: number }) => p.offset)).toEqual([TOTAL, 0]);
    }
  });

  it("a write through one server is visible through the other at once, and a long-poll there sees it", async () => {
    const [a, b] = servers;
    // B consumes at the head (without waiting) after A appended: it must not report an empty log
    await post(`${a.url}/api/v1/topics/${TOPIC}/records`, { records: [{ value: "from-a", partition: 0 }] });
    const tail = await request(`${b.url}/api/v1/topics/${TOPIC}/partitions/0/records?offset=${TOTAL}`);
    expect(tail.records.map((r: { offset: number; value: string }) => [r.offset, r.value])).toEqual([[TOTAL, "from-a"]]);
    expect(tail.highWatermark).toBe(TOTAL + 1);
    const latest = await request(`${b.url}/api/v1/topics/${TOPIC}/offsets?at=latest`);
    expect(latest.partitions[0].offset).toBe(TOTAL + 1);

    // a long-poll on A at the head returns B's later record (within its wait; no timing claim)
    const poll = request(`${a.url}/api/v1/topics/${TOPIC}/partitions/0/records?offset=${TOTAL + 1}&waitMs=2000`);
    await new Promise((r) => setTimeout(r, 200));
    await post(`${b.url}/api/v1/topics/${TOPIC}/records`, { records: [{ value: "from-b", partition: 0 }] });
    const polled = await poll;
    expect(polled.records.map((r: { offset: number; value: string }) => [r.offset, r.value])).toEqual([[TOTAL + 1, "from-b"]]);

    // a topic deleted through one server is gone through the other
    await post(`${b.url}/api/v1/topics`, { name: "ephemeral", partitions: 1 });
    expect((await request(`${a.url}/api/v1/topics/ephemeral`)).name).toBe("ephemeral");
    expect((await fetch(`${b.url}/api/v1/topics/ephemeral`, { method: "DELETE" })).status).toBe(204);
    expect((await request(`${a.url}/api/v1/topics`)).topics.map((t: { name: string }) => t.name)).toEqual([TOPIC]);

    for (const s of servers) expect(s.output()).not.toMatch(/unexpected error/);
  });
});
