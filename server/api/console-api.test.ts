/**
 * The console's endpoints through real HTTP against a real server process on a fresh database:
 * message search (NDJSON stream, bounds, filters, start positions, bad input as 4xx before
 * anything streams, cancellation) and the overview's metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScratchDatabase, type ScratchDatabase } from "../testing/databases.ts";
import { startServer, type ServerProcess } from "../testing/server-process.ts";
import { callApi } from "../testing/api-client.ts";

let db: ScratchDatabase;
let server: ServerProcess;

beforeAll(async () => {
  db = await createScratchDatabase("postgres");
  server = await startServer(db);
  await call("POST", "/api/v1/topics", { name: "s", partitions: 2 });
  const records = [];
  for (let i = 0; i < 40; i++) {
    records.push({
      key: `k${i}`,
      value: { n: i, kind: i % 4 === 0 ? "big" : "small" },
      partition: i % 2,
      headers: { src: i < 20 ? "web" : "app" },
      timestamp: 1_000_000 + i * 1000,
    });
  }
  expect((await call("POST", "/api/v1/topics/s/records", { records })).status).toBe(200);
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

const call = (method: string, path: string, json?: unknown, raw?: string) =>
  callApi(server.url, method, path, raw === undefined ? { json } : { raw });

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function search(body: unknown, topic = "s"): Promise<{ status: number; events: any[]; records: any[]; done: any; error: any }> {
  const r = await call("POST", `/api/v1/topics/${topic}/search`, body);
  if (r.status !== 200) return { status: r.status, events: [], records: [], done: null, error: JSON.parse(r.text).error };
  expect(r.headers.get("content-type")).toMatch(/application\/x-ndjson/);
  const events = r.text
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  return {
    status: 200,
    events,
    records: events.filter((e) => e.type === "records").flatMap((e) => e.records),
    done: events.find((e) => e.type === "done"),
    error: null,
  };
}

describe("POST /api/v1/topics/{topic}/search", () => {
  it("scans every partition from earliest and streams started, records, progress, done", async () => {
    const r = await search({});
    expect(r.events[0]).toEqual({
      type: "started",
      topic: "s",
      partitions: [
        { partition: 0, startOffset: 0, endOffset: 20 },
        { partition: 1, startOffset: 0, endOffset: 20 },
      ],
      toScan: 40,
    });
    expect(r.records).toHaveLength(40);
    expect(r.done).toMatchObject({ scanned: 40, matched: 40, reason: "end", celErrors: 0 });
    expect(r.records[0]).toMatchObject({ topic: "s", key: "k0", value: '{"n":0,"kind":"big"}', transaction: "committed" });
  });

  it("filters by CEL and text, server-side", async () => {
    const r = await search({ cel: 'value.kind == "big" && headers["src"] == "web" && partition == 0' });
    expect(r.records.map((x) => x.key).sort()).toEqual(["k0", "k12", "k16", "k4", "k8"]);
    expect(r.done).toMatchObject({ scanned: 40, matched: 5 });
    expect((await search({ keyContains: "K3" })).records.map((x) => x.key).sort()).toEqual([
      "k3",
      "k30",
      "k31",
      "k32",
      "k33",
      "k34",
      "k35",
      "k36",
      "k37",
      "k38",
      "k39",
    ]);
    expect((await search({ valueContains: '"n":7,' })).records.map((x) => x.key)).toEqual(["k7"]);
    expect((await search({ headerContains: "APP", partition: 1 })).records).toHaveLength(10);
  });

  it("starts at an offset, a timestamp or the latest records of one partition", async () => {
    const byOffset = await search({ partition: 1, from: "offset", offset: 15 });
    expect(byOffset.records.map((x) => x.offset)).toEqual([15, 16, 17, 18, 19]);
    const byTime = await search({ partition: 0, from: "timestamp", timestamp: new Date(1_000_000 + 34_000).toISOString() });
    expect(byTime.records.map((x) => x.key)).toEqual(["k34", "k36", "k38"]);
    const latest = await search({ partition: 0, from: "latest", maxMatches: 2 });
    expect(latest.records.map((x) => x.offset)).toEqual([18, 19]);
  });

  it("stops at maxScanned and at maxMatches", async () => {
    expect((await search({ maxScanned: 7 })).done).toMatchObject({ scanned: 7, reason: "maxScanned" });
    expect((await search({ maxMatches: 3 })).done).toMatchObject({ matched: 3, reason: "maxMatches" });
  });

  it("counts records the expression fails on as no match, with the first error", async () => {
    const r = await search({ cel: "value.missing == 1" });
    expect(r.done).toMatchObject({ matched: 0, celErrors: 40 });
    expect(r.done.firstCelError).toMatch(/missing/);
  });

  it("refuses an expression that does not return bool before scanning, with the caret under the mistake on its line", async () => {
    const dyn = await search({ cel: "value.n" });
    expect(dyn.status).toBe(400);
    expect(dyn.error.code).toBe("VALIDATION_FAILED");
    expect(dyn.error.message).toMatch(/must return bool, but its type is known only when it runs \(dyn\)/);
    expect(dyn.error.details).toEqual({ field: "cel" });
    const bad = await search({ cel: 'value.kind == "big" &&\n  offset == "x"' });
    expect(bad.status).toBe(400);
    const lines: string[] = bad.error.message.split("\n");
    const at = lines.findIndex((l) => l.startsWith(">    2 | "));
    expect(at, bad.error.message).toBeGreaterThan(0);
    expect(lines[at]).toBe('>    2 |   offset == "x"');
    expect(lines[at].slice(lines[at + 1].indexOf("^"))).toMatch(/^offset/);
  });

  it("refuses bad input with a 4xx before streaming", async () => {
    const bad: [unknown, number, RegExp][] = [
      [{ cel: "value.n >" }, 400, /invalid cel: Unexpected token/],
      [{ cel: "offset + 1" }, 400, /must return bool, not int/],
      [{ cel: "x".repeat(5000) }, 400, /at most 4096/],
      [{ partition: 9 }, 400, /has no partition 9/],
      [{ from: "offset" }, 400, /from=offset needs offset/],
      [{ from: "timestamp" }, 400, /from=timestamp needs timestamp/],
      [{ from: "yesterday" }, 400, /invalid body.from/],
      [{ maxScanned: 1_000_001 }, 400, /maxScanned must be <= 1000000/],
      [{ maxMatches: 0 }, 400, /maxMatches/],
      [{ nope: 1 }, 400, /Unrecognized key/],
      [{ timestamp: "not a date", from: "timestamp" }, 400, /timestamp/],
    ];
    for (const [body, status, msg] of bad) {
      const r = await search(body);
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(r.error.message, JSON.stringify(body)).toMatch(msg);
    }
    const notJson = await call("POST", "/api/v1/topics/s/search", undefined, "{");
    expect(notJson.status).toBe(400);
    expect(JSON.parse(notJson.text).error.code).toBe("INVALID_JSON");
    const missing = await call("POST", "/api/v1/topics/nope/search", {});
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.text).error.code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    const badName = await call("POST", "/api/v1/topics/bad%20name/search", {});
    expect(badName.status).toBe(400);
  });

  it("stops scanning when the client goes away", async () => {
    await call("POST", "/api/v1/topics", { name: "big", partitions: 1 });
    for (let i = 0; i < 4; i++) {
      await call("POST", "/api/v1/topics/big/records", {
        records: Array.from({ length: 25_000 }, (_, j) => ({ value: { n: i * 25_000 + j } })),
      });
    }
    const ctrl = new AbortController();
    const res = await fetch(server.url + "/api/v1/topics/big/search", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ cel: "value.n < 0", maxScanned: 100_000 }),
      signal: ctrl.signal,
    });
    const reader = res.body!.getReader();
    await reader.read(); // started
    ctrl.abort();
    await reader.read().catch(() => undefined);
    // the server is still serving, and the next search runs to the end
    const after = await call("POST", "/api/v1/topics/big/search", { maxScanned: 10 });
    expect(after.status).toBe(200);
    expect(after.text).toContain('"reason":"maxScanned"');
  });
});

describe("GET /api/v1/metrics", () => {
  it("reports storage, counts, and records/bytes per second in and out", async () => {
    // the meter runs from server start: earlier tests' traffic is in the window, so compare to a baseline
    const sums = (m: { byTopic: { topic: string; history: { inRecords: number; outRecords: number }[] }[] }) => {
      const s = m.byTopic.find((t) => t.topic === "s");
      return {
        in: s?.history.reduce((a, p) => a + p.inRecords, 0) ?? 0,
        out: s?.history.reduce((a, p) => a + p.outRecords, 0) ?? 0,
      };
    };
    await new Promise((r) => setTimeout(r, 1100)); // let the current second complete
    const before = sums(JSON.parse((await call("GET", "/api/v1/metrics")).text));
    await call("POST", "/api/v1/topics/s/records", { records: Array.from({ length: 30 }, (_, i) => ({ value: `v${i}`, partition: 0 })) });
    await call("GET", "/api/v1/topics/s/partitions/0/records?offset=0&maxRecords=50");
    await new Promise((r) => setTimeout(r, 1100));
    const m = JSON.parse((await call("GET", "/api/v1/metrics")).text);
    expect(m).toMatchObject({ topics: 2, partitions: 3, groups: 0, windowSeconds: 3 });
    expect(m.storage.recordCount).toBe(100_000 + 40 + 30);
    expect(m.storage.sizeBytes).toBeGreaterThan(0);
    expect(m.history).toHaveLength(59);
    const after = sums(m);
    expect(after.in - before.in).toBe(30);
    expect(after.out - before.out).toBe(50);
    // 30 records appended within the 3 s rate window
    expect(m.total.in.recordsPerSec).toBeGreaterThanOrEqual(10);
  });
});

// after the metrics test, which counts the topics the file created before it
describe("search and transactions", () => {
  it("searches as a read_committed reader, and labels aborted and open transactions' records", async () => {
    expect((await call("POST", "/api/v1/topics", { name: "st", partitions: 1 })).status).toBe(201);
    const json = (r: { text: string }) => JSON.parse(r.text);
    const init = json(await call("POST", "/api/v1/producers", { transactionalId: "search-txn" }));
    const as = (baseSequence: number) => ({
      producerId: init.producerId,
      producerEpoch: init.producerEpoch,
      baseSequence,
      transactionalId: "search-txn",
    });
    const commit = (path: string) =>
      call("POST", `/api/v1/transactions/search-txn/${path}`, { producerId: init.producerId, producerEpoch: init.producerEpoch });
    expect((await call("POST", "/api/v1/topics/st/records", { records: [{ key: "plain", value: 1, partition: 0 }] })).status).toBe(200);
    expect((await call("POST", "/api/v1/topics/st/records", { records: [{ key: "gone", value: 2, partition: 0 }], ...as(0) })).status).toBe(
      200,
    );
    expect((await commit("abort")).status).toBe(200);
    expect((await call("POST", "/api/v1/topics/st/records", { records: [{ key: "kept", value: 3, partition: 0 }], ...as(1) })).status).toBe(
      200,
    );
    expect((await commit("commit")).status).toBe(200);
    expect(
      (await call("POST", "/api/v1/topics/st/records", { records: [{ key: "pending", value: 4, partition: 0 }], ...as(2) })).status,
    ).toBe(200);

    const all = await search({ partition: 0 }, "st");
    expect(all.records.map((r) => `${r.key}:${r.transaction}`)).toEqual([
      "plain:committed",
      "gone:aborted",
      "kept:committed",
      "pending:uncommitted",
    ]);
    const committed = await search({ partition: 0, isolation: "read_committed" }, "st");
    expect(committed.records.map((r) => r.key)).toEqual(["plain", "kept"]);
    expect(committed.done).toBeTruthy();
    expect((await search({ isolation: "serializable" }, "st")).status).toBe(400);
    expect((await commit("commit")).status).toBe(200);
  });
});
