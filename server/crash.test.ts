/**
 * Crash safety with real processes: concurrent producers load a server, the server is killed
 * with SIGKILL mid-load, a new server process starts on the same database, and every record the
 * first one acknowledged must be there exactly once, at its acknowledged partition and offset,
 * in a dense, fully decodable log. Runs on a real PostgreSQL and on the embedded one (PGlite in
 * a data folder, which the restarted server reopens).
 */
import { describe, expect, it } from "vitest";
import { decodeRecords, hasValidCrc, readBatchHeader, splitBatches } from "./broker/protocol/record-batch.ts";
import { createScratchDatabase, type DatabaseKind } from "./testing/databases.ts";
import { startServer, type ServerProcess } from "./testing/server-process.ts";

const TOPIC = "crash";
const PARTITIONS = 4;
const LOOPS = 8;
const PER_REQUEST = 50;
const LOAD_MS = 3000;
const BATCH_TYPE = "application/vnd.kafka.record-batch";
const VALUE = /^w(\d+)-(\d+)-(\d+)$/;

interface Ack {
  partition: number;
  offset: number;
  value: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function getJson(url: string): Promise<any> {
  const res = await fetch(url);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status} ${text.slice(0, 500)}`);
  return JSON.parse(text);
}

/** Producer loops until the server dies; returns what was acknowledged and what was not. */
function startLoad(server: ServerProcess) {
  const acked: Ack[] = [];
  const unackedRequests = new Set<string>();
  const inFlight = new Set<string>();
  const badResponses: string[] = [];
  let requests = 0;
  let dead = false;
  const loop = async (l: number) => {
    for (let seq = 0; !dead; seq++) {
      const id = `${l}-${seq}`;
      const values = Array.from({ length: PER_REQUEST }, (_, i) => `w${l}-${seq}-${i}`);
      inFlight.add(id);
      requests++;
      try {
        const res = await fetch(`${server.url}/api/v1/topics/${TOPIC}/records`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ records: values.map((value) => ({ value })) }),
        });
        const text = await res.text();
        if (res.status !== 200) {
          badResponses.push(`${id}: HTTP ${res.status} ${text.slice(0, 300)}`);
          unackedRequests.add(id);
          return;
        }
        const body = JSON.parse(text) as { records: { partition: number; offset: number }[] };
        expect(body.records).toHaveLength(PER_REQUEST);
        body.records.forEach((r, i) => acked.push({ partition: r.partition, offset: r.offset, value: values[i] }));
      } catch {
        // the server died with this request in flight: not acknowledged
        unackedRequests.add(id);
        return;
      } finally {
        inFlight.delete(id);
      }
    }
  };
  const loops = Array.from({ length: LOOPS }, (_, l) => loop(l));
  return {
    acked,
    unackedRequests,
    inFlight,
    badResponses,
    requests: () => requests,
    async finish() {
      dead = true;
      await Promise.all(loops);
    },
  };
}

/** Every record of a partition as JSON, from the log start to the high watermark. */
async function readPartitionJson(url: string, partition: number) {
  const first = await getJson(`${url}/api/v1/topics/${TOPIC}/partitions/${partition}/records?offset=0&maxRecords=1`);
  const { logStartOffset, highWatermark } = first;
  const records: { offset: number; value: string; valueEncoding: string }[] = [];
  let offset = logStartOffset;
  while (offset < highWatermark) {
    const page = await getJson(
      `${url}/api/v1/topics/${TOPIC}/partitions/${partition}/records?offset=${offset}&maxRecords=100000&maxBytes=67108864`,
    );
    if (page.records.length === 0)
      throw new Error(`partition ${partition}: no records at ${offset} below the high watermark ${highWatermark}`);
    records.push(...page.records);
    offset = page.nextOffset;
  }
  return { logStartOffset, highWatermark, records };
}

/** Every stored batch of a partition, through the binary fetch, decoded and CRC-checked. */
async function readPartitionBatches(url: string, partition: number, from: number, to: number) {
  const offsets: number[] = [];
  const values: string[] = [];
  let offset = from;
  let batches = 0;
  while (offset < to) {
    const res = await fetch(`${url}/api/v1/topics/${TOPIC}/partitions/${partition}/records?offset=${offset}&maxBytes=67108864`, {
      headers: { accept: BATCH_TYPE },
    });
    expect(res.status).toBe(200);
    const bytes = Buffer.from(await res.arrayBuffer());
    const parts = splitBatches(bytes);
    expect(parts.length).toBeGreaterThan(0);
    for (const b of parts) {
      const h = readBatchHeader(b);
      expect(hasValidCrc(b, h), `partition ${partition} batch at ${h.baseOffset}: CRC`).toBe(true);
      const recs = decodeRecords(b, h);
      expect(recs).toHaveLength(h.recordCount);
      for (const r of recs) {
        if (r.offset < offset) continue;
        offsets.push(r.offset);
        values.push(r.value?.toString("utf8") ?? "<null>");
      }
      batches++;
    }
    offset = Number(res.headers.get("x-next-offset"));
  }
  return { offsets, values, batches };
}

async function crashAndRecover(kind: DatabaseKind): Promise<void> {
  const db = await createScratchDatabase(kind);
  let first: ServerProcess | undefined;
  let second: ServerProcess | undefined;
  try {
    first = await startServer(db);
    const created = await fetch(`${first.url}/api/v1/topics`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: TOPIC, partitions: PARTITIONS }),
    });
    expect(created.status).toBe(201);

    const load = startLoad(first);
    await new Promise((r) => setTimeout(r, LOAD_MS));
    const inFlightAtKill = load.inFlight.size;
    await first.kill();
    await load.finish();
    const firstOutput = first.output();

    // the load was real and the kill hit it mid-flight
    expect(load.badResponses, "non-200 answers before the crash").toEqual([]);
    expect(load.acked.length).toBeGreaterThanOrEqual(PER_REQUEST * LOOPS);
    expect(inFlightAtKill).toBeGreaterThan(0);
    expect(load.unackedRequests.size).toBeGreaterThan(0);
    expect(firstOutput).not.toMatch(/unexpected error/);

    second = await startServer(db);
    const url = second.url;
    const topic = await getJson(`${url}/api/v1/topics/${TOPIC}`);
    expect(topic.partitions).toHaveLength(PARTITIONS);

    const stored = new Map<string, { partition: number; offset: number }>();
    let storedCount = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      const { logStartOffset, highWatermark, records } = await readPartitionJson(url, p);
      expect(logStartOffset).toBe(0);
      // dense: exactly one record per offset from the log start to the high watermark
      expect(records.map((r) => r.offset)).toEqual(Array.from({ length: highWatermark - logStartOffset }, (_, i) => logStartOffset + i));
      expect(topic.partitions[p]).toMatchObject({
        partition: p,
        logStartOffset,
        highWatermark,
        recordCount: highWatermark - logStartOffset,
      });

      // every record is one of ours, seen once, and a request's records sit together in order
      let previous: RegExpExecArray | null = null;
      for (const r of records) {
        expect(r.valueEncoding).toBe("utf8");
        const m = VALUE.exec(r.value);
        expect(m, `unexpected value ${r.value} at ${p}/${r.offset}`).not.toBeNull();
        expect(stored.has(r.value), `duplicate ${r.value} at ${p}/${r.offset}`).toBe(false);
        stored.set(r.value, { partition: p, offset: r.offset });
        if (previous && previous[1] === m![1] && previous[2] === m![2]) expect(Number(m![3])).toBe(Number(previous[3]) + 1);
        previous = m;
      }
      storedCount += records.length;

      // the bytes: every batch passes its CRC and decodes to the same dense records
      const binary = await readPartitionBatches(url, p, logStartOffset, highWatermark);
      expect(binary.offsets).toEqual(records.map((r) => r.offset));
      expect(binary.values).toEqual(records.map((r) => r.value));
    }

    // every acknowledged record is stored exactly where the acknowledgement said
    for (const a of load.acked) {
      expect(stored.get(a.value), `acknowledged ${a.value} at ${a.partition}/${a.offset}`).toEqual({
        partition: a.partition,
        offset: a.offset,
      });
    }
    // anything else stored came from a request that was in flight when the server died
    const ackedValues = new Set(load.acked.map((a) => a.value));
    for (const value of stored.keys()) {
      if (ackedValues.has(value)) continue;
      const [, l, seq] = VALUE.exec(value)!;
      expect(load.unackedRequests.has(`${l}-${seq}`), `${value} was stored but its request was acknowledged or never sent`).toBe(true);
    }
    expect(storedCount).toBeGreaterThanOrEqual(load.acked.length);

    // the restarted server appends after the recovered high watermark; no offset is reused
    for (let p = 0; p < PARTITIONS; p++) {
      const res = await fetch(`${url}/api/v1/topics/${TOPIC}/records`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ records: [{ value: `after-${p}`, partition: p }] }),
      });
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body.records[0]).toMatchObject({ partition: p, offset: topic.partitions[p].highWatermark });
    }
    expect(second.output()).not.toMatch(/unexpected error/);
    console.log(
      `[${kind}] ${load.requests()} requests, ${load.acked.length} records acknowledged, ${storedCount} stored, ` +
        `${inFlightAtKill} requests in flight at SIGKILL, high watermarks ${topic.partitions.map((x: { highWatermark: number }) => x.highWatermark).join("/")}`,
    );
  } catch (e) {
    const logs = [
      first && `--- first server:\n${first.output().slice(-4000)}`,
      second && `--- restarted server:\n${second.output().slice(-4000)}`,
    ];
    console.error(logs.filter(Boolean).join("\n"));
    throw e;
  } finally {
    await first?.kill();
    await second?.stop();
    await db.drop();
  }
}

describe("crash safety", () => {
  it("PostgreSQL: after SIGKILL mid-load, every acknowledged record is there exactly once", () => crashAndRecover("postgres"), 120_000);
  it(
    "embedded: after SIGKILL mid-load, the restarted server on the same data folder has every acknowledged record exactly once",
    () => crashAndRecover("embedded"),
    120_000,
  );

  it("embedded: a second server on a data folder in use refuses to start, and nothing acknowledged is lost", async () => {
    const db = await createScratchDatabase("embedded");
    let first: ServerProcess | undefined;
    let third: ServerProcess | undefined;
    let wronglyStarted: ServerProcess | undefined;
    try {
      first = await startServer(db);
      const post = (url: string, path: string, body: unknown) =>
        fetch(url + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      expect((await post(first.url, "/api/v1/topics", { name: "kept", partitions: 1 })).status).toBe(201);
      expect((await post(first.url, "/api/v1/topics/kept/records", { records: [{ value: "v0" }] })).status).toBe(200);

      // PGlite takes no lock of its own: without one, both would run diverging copies of the database
      const refused = await startServer(db).then(
        (s) => ((wronglyStarted = s), null),
        (e: Error) => e,
      );
      expect(wronglyStarted, "a second server started on a data folder in use").toBeUndefined();
      expect(refused?.message).toMatch(new RegExp(`in use by process ${first.pid}`));

      expect((await post(first.url, "/api/v1/topics/kept/records", { records: [{ value: "v1" }] })).status).toBe(200);
      // a crash leaves the lock behind; the next server takes it over
      await first.kill();
      third = await startServer(db);
      const page = await getJson(`${third.url}/api/v1/topics/kept/partitions/0/records?offset=0`);
      expect(page.records.map((r: { value: string }) => r.value)).toEqual(["v0", "v1"]);
    } finally {
      await first?.kill();
      await wronglyStarted?.kill();
      await third?.stop();
      await db.drop();
    }
  }, 120_000);
});
