/**
 * Issue 13, "every input validated at the edge": each hostile input found (a NUL byte, a lone
 * surrogate or a control character in an id, a name or commit metadata; topics `.`/`..` on the
 * binary fast path; record batches that lie about their offsets, timestamps or header keys) is
 * sent to a real server on each kind of database and must get a 4xx JSON error naming what is
 * wrong, without stalling the other clients, and leave the server working: a NUL in a group id
 * used to break the embedded database until restart (every produce then answered 500).
 */
import { beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { crc32c } from "../broker/protocol/crc32c.ts";
import { encodeRecordBatch, type RecordInput } from "../broker/protocol/record-batch.ts";
import { DATABASE_KINDS } from "../testing/databases.ts";
import {
  expectJson4xx,
  expectProduceFetchWorks,
  expectRssBounded,
  rawRequest,
  withoutStall,
  type RawResponse,
} from "../testing/hardening-kit.ts";
import { useTestServer } from "../testing/test-server.ts";

const TOPIC = "input-t";
const GROUP = "input-g";
const TXN = "input-tx";
const RECORD_BATCH = "application/vnd.kafka.record-batch";

/** A valid batch of `n` small records, as the TypeScript client would send it. */
function batch(n = 2, overrides: Partial<RecordInput> = {}): Buffer {
  const records: RecordInput[] = [];
  for (let i = 0; i < n; i++)
    records.push({ key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`), headers: [], timestamp: 1_700_000_000_000 + i, ...overrides });
  return encodeRecordBatch({ baseOffset: 0, records });
}

/** A copy of `b` changed by `edit`, with its CRC-32C made right again (so only the lie is left). */
function patched(b: Buffer, edit: (c: Buffer) => void): Buffer {
  const c = Buffer.from(b);
  edit(c);
  c.writeUInt32BE(crc32c(c, 21, c.length), 17);
  return c;
}

/** Where a record's fields start in a batch made by `batch()` (keys and values of 2 bytes). */
const FIRST_RECORD = 61;

interface Case {
  name: string;
  send: (url: string) => Promise<RawResponse>;
  /** The error message must name the field (or what is wrong). */
  names: RegExp;
  codes?: string[];
  /** Nothing may have been appended to TOPIC. */
  appendsNothing?: boolean;
  /** The same request on the JSON path (not the binary fast path): the answer must be the same. */
  jsonPath?: (url: string) => Promise<RawResponse>;
}

const json = (url: string, method: string, path: string, body: unknown) =>
  rawRequest(url, method, path, {
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
const produceBatch = (url: string, body: Buffer, path = `/api/v1/topics/${TOPIC}/records?partition=0`) =>
  rawRequest(url, "POST", path, { headers: { "content-type": RECORD_BATCH }, body });

describe.each(DATABASE_KINDS)("input validated at the edge (%s database)", (kind) => {
  // members here heartbeat by hand, if at all: a long session keeps them in their group
  const server = useTestServer({ TRIBUTARY_GROUP_SESSION_TIMEOUT_MS: "300000" }, kind);
  let member: { memberId: string; memberEpoch: number };
  let producer: { producerId: number; producerEpoch: number };

  beforeAll(async () => {
    expect((await json(server.url, "POST", "/api/v1/topics", { name: TOPIC, partitions: 1 })).status).toBe(201);
    expect((await json(server.url, "POST", `/api/v1/topics/${TOPIC}/records`, { records: [{ value: "first" }] })).status).toBe(200);
    const joined = await json(server.url, "POST", `/api/v1/groups/${GROUP}/members`, { topics: [TOPIC] });
    expect(joined.status, joined.text).toBe(201);
    member = joined.body;
    const init = await json(server.url, "POST", "/api/v1/producers", { transactionalId: TXN });
    expect(init.status, init.text).toBe(201);
    producer = init.body;
    // Next loads a route's code on its first request, which can hold the event loop for a second
    // on a busy machine: load every route the cases use first, so the probe measures the cases
    const memberRoute = `/api/v1/groups/${GROUP}/members/${encodeURIComponent(joined.body.memberId)}`;
    for (const [method, path] of [
      ["GET", "/api/v1/groups/warm"],
      ["DELETE", "/api/v1/groups/warm"],
      ["POST", "/api/v1/groups/warm/offsets/reset"],
      ["DELETE", `/api/v1/groups/warm/offsets?topic=${TOPIC}`],
      ["POST", "/api/v1/groups/warm/members"],
      ["POST", `${memberRoute}/heartbeat`],
      ["POST", `${memberRoute}/offsets`],
      ["DELETE", "/api/v1/groups/warm/members/nobody"],
      ["GET", "/api/v1/transactions/warm"],
      ["POST", "/api/v1/transactions/warm/abort"],
      ["POST", `/api/v1/transactions/${TXN}/offsets`],
      ["GET", `/api/v1/topics/${TOPIC}`],
      ["GET", `/api/v1/topics/${TOPIC}/partitions/0/records?offset=0`],
      ["GET", "/api/v1/warm"],
    ]) {
      const r = method === "POST" ? await json(server.url, method, path, {}) : await rawRequest(server.url, method, path);
      expect(r.status, `${method} ${path}: ${r.text}`).toBeLessThan(500);
    }
  });

  const highWatermark = async (): Promise<number> => {
    const r = await rawRequest(server.url, "GET", `/api/v1/topics/${TOPIC}`);
    expect(r.status, r.text).toBe(200);
    return r.body.partitions[0].highWatermark;
  };

  const memberPath = () => `/api/v1/groups/${GROUP}/members/${encodeURIComponent(member.memberId)}`;
  const commit = (metadata: string) => (url: string) =>
    json(url, "POST", `${memberPath()}/offsets`, {
      memberEpoch: member.memberEpoch,
      offsets: [{ topic: TOPIC, partition: 0, offset: 0, metadata }],
    });
  const txnOffsets =
    (fields: Record<string, unknown>, metadata: string | null = null) =>
    (url: string) =>
      json(url, "POST", `/api/v1/transactions/${TXN}/offsets`, {
        ...producer,
        groupId: GROUP,
        memberId: member.memberId,
        memberEpoch: member.memberEpoch,
        offsets: [{ topic: TOPIC, partition: 0, offset: 0, metadata }],
        ...fields,
      });

  const cases: Case[] = [
    // ids and names: NUL, lone surrogates, control characters
    { name: "GET /groups/%00", send: (u) => rawRequest(u, "GET", "/api/v1/groups/%00"), names: /group/ },
    { name: "GET /groups/a%01b (a control character)", send: (u) => rawRequest(u, "GET", "/api/v1/groups/a%01b"), names: /group/ },
    { name: "DELETE /groups/a%00b", send: (u) => rawRequest(u, "DELETE", "/api/v1/groups/a%00b"), names: /group/ },
    {
      name: "POST /groups/a%00b/offsets/reset",
      send: (u) =>
        json(u, "POST", "/api/v1/groups/a%00b/offsets/reset", { to: { to: "earliest" }, topics: [{ topic: TOPIC }], dryRun: false }),
      names: /group/,
    },
    {
      name: "DELETE /groups/a%00b/offsets?topic=",
      send: (u) => rawRequest(u, "DELETE", `/api/v1/groups/a%00b/offsets?topic=${TOPIC}`),
      names: /group/,
    },
    {
      name: "join /groups/a%00b/members",
      send: (u) => json(u, "POST", "/api/v1/groups/a%00b/members", { topics: [TOPIC] }),
      names: /group/,
    },
    {
      name: "join with a control character in clientId",
      send: (u) => json(u, "POST", `/api/v1/groups/${GROUP}x/members`, { topics: [TOPIC], clientId: "c\u0007" }),
      names: /clientId/,
    },
    {
      name: "join with a NUL in topicPattern",
      send: (u) => json(u, "POST", `/api/v1/groups/${GROUP}y/members`, { topicPattern: "in\u0000put.*" }),
      names: /topicPattern/,
    },
    {
      name: "heartbeat of member a%00b",
      send: (u) => json(u, "POST", `/api/v1/groups/${GROUP}/members/a%00b/heartbeat`, { memberEpoch: 1 }),
      names: /member/,
    },
    { name: "leave of member a%00b", send: (u) => rawRequest(u, "DELETE", `/api/v1/groups/${GROUP}/members/a%00b`), names: /member/ },
    {
      name: "POST /producers transactionalId a\\u0000b",
      send: (u) => json(u, "POST", "/api/v1/producers", { transactionalId: "a\u0000b" }),
      names: /transactionalId/,
    },
    // JSON.stringify would escape the lone surrogate as \ud800 too; written out to be sure of what is sent
    {
      name: "POST /producers transactionalId x\\ud800y",
      send: (u) => json(u, "POST", "/api/v1/producers", '{"transactionalId":"x\\ud800y"}'),
      names: /transactionalId/,
    },
    {
      name: "POST /producers transactionalId with a lone low surrogate",
      send: (u) => json(u, "POST", "/api/v1/producers", '{"transactionalId":"\\udc00"}'),
      names: /transactionalId/,
    },
    { name: "GET /transactions/a%00b", send: (u) => rawRequest(u, "GET", "/api/v1/transactions/a%00b"), names: /transactionalId/ },
    {
      name: "POST /transactions/a%00b/abort",
      send: (u) => json(u, "POST", "/api/v1/transactions/a%00b/abort", { producerId: 0, producerEpoch: 0 }),
      names: /transactionalId/,
    },
    { name: "commit with metadata m\\u0000", send: (u) => commit("m\u0000")(u), names: /metadata/ },
    { name: "commit with metadata holding a lone surrogate", send: (u) => commit("m\ud800")(u), names: /metadata/ },
    { name: "transaction offsets with metadata m\\u0000", send: (u) => txnOffsets({}, "m\u0000")(u), names: /metadata/ },
    { name: "transaction offsets for group g\\u0000", send: (u) => txnOffsets({ groupId: "g\u0000" })(u), names: /groupId/ },
    { name: "transaction offsets for member m\\u0000", send: (u) => txnOffsets({ memberId: "m\u0000" })(u), names: /memberId/ },
    {
      name: "JSON produce with a NUL in a header key",
      send: (u) =>
        json(u, "POST", `/api/v1/topics/${TOPIC}/records`, { records: [{ value: "v", headers: [{ key: "k\u0000", value: "v" }] }] }),
      names: /key/,
      appendsNothing: true,
    },
    {
      name: "JSON produce with a lone surrogate in a header key (map form)",
      send: (u) => json(u, "POST", `/api/v1/topics/${TOPIC}/records`, '{"records":[{"value":"v","headers":{"k\\ud800":"v"}}]}'),
      names: /headers/,
      appendsNothing: true,
    },
    {
      name: "JSON produce with transactionalId a\\u0000",
      send: (u) =>
        json(u, "POST", `/api/v1/topics/${TOPIC}/records`, {
          records: [{ value: "v" }],
          ...producer,
          baseSequence: 0,
          transactionalId: "a\u0000",
        }),
      names: /transactionalId/,
      appendsNothing: true,
    },
    {
      name: "record batch with ?transactionalId=a%00b",
      send: (u) => produceBatch(u, batch(), `/api/v1/topics/${TOPIC}/records?partition=0&transactionalId=a%00b`),
      names: /transactionalId/,
      appendsNothing: true,
    },

    // topic names on the binary fast path: the dot segments are the topic the client named (a URL
    // parser would resolve them away: Next routes `/topics/../records` elsewhere, 404 or 405)
    ...[".", "..", "%2e%2e", "%2E"].map((t): Case => ({
      name: `record batch to topic '${t}'`,
      send: (u) => produceBatch(u, batch(), `/api/v1/topics/${t}/records?partition=0`),
      names: /topic name cannot be '\.' or '\.\.'/,
      codes: ["VALIDATION_FAILED"],
      appendsNothing: true,
    })),
    ...[".", "..", "%2e%2e"].map((t): Case => ({
      name: `binary fetch from topic '${t}'`,
      send: (u) => rawRequest(u, "GET", `/api/v1/topics/${t}/partitions/0/records?offset=0`, { headers: { accept: RECORD_BATCH } }),
      names: /topic name cannot be '\.' or '\.\.'/,
      codes: ["VALIDATION_FAILED"],
    })),
    // other invalid names: the same answer as the JSON path gives
    ...["a%00b", "a%2Fb", "a%20b", "x".repeat(250)].map((t): Case => ({
      name: `record batch to topic '${t.slice(0, 12)}'`,
      send: (u) => produceBatch(u, batch(), `/api/v1/topics/${t}/records?partition=0`),
      jsonPath: (u) => json(u, "POST", `/api/v1/topics/${t}/records`, { records: [{ value: "v" }] }),
      names: /topic/,
      codes: ["VALIDATION_FAILED"],
      appendsNothing: true,
    })),

    // record batches that are well formed but lie
    {
      name: "batch with baseTimestamp 2^63-1",
      send: (u) =>
        produceBatch(
          u,
          patched(batch(), (c) => c.writeBigInt64BE(2n ** 63n - 1n, 27)),
        ),
      names: /timestamp/i,
      codes: ["INVALID_TIMESTAMP"],
      appendsNothing: true,
    },
    {
      name: "batch with baseTimestamp -2^63",
      send: (u) =>
        produceBatch(
          u,
          patched(batch(), (c) => c.writeBigInt64BE(-(2n ** 63n), 27)),
        ),
      names: /timestamp/i,
      codes: ["INVALID_TIMESTAMP"],
      appendsNothing: true,
    },
    {
      name: "batch with maxTimestamp 2^63-1",
      send: (u) =>
        produceBatch(
          u,
          patched(batch(), (c) => c.writeBigInt64BE(2n ** 63n - 1n, 35)),
        ),
      names: /timestamp/i,
      codes: ["INVALID_TIMESTAMP"],
      appendsNothing: true,
    },
    {
      name: "batch whose record timestamps (base + delta) pass the year 275760",
      // records at max - 1000 and max (both fine), then the base moved up by 500: the second is past max
      send: (u) =>
        produceBatch(
          u,
          patched(
            encodeRecordBatch({
              baseOffset: 0,
              records: [8.64e15 - 1000, 8.64e15].map((timestamp) => ({ key: null, value: Buffer.from("v"), headers: [], timestamp })),
            }),
            (c) => c.writeBigInt64BE(8_640_000_000_000_000n - 500n, 27),
          ),
        ),
      names: /timestamp/i,
      codes: ["INVALID_TIMESTAMP"],
      appendsNothing: true,
    },
    {
      name: "2-record batch with lastOffsetDelta 2^31-1",
      send: (u) =>
        produceBatch(
          u,
          patched(batch(), (c) => c.writeInt32BE(2 ** 31 - 1, 23)),
        ),
      names: /lastOffsetDelta/,
      codes: ["INVALID_RECORD", "CORRUPT_MESSAGE"],
      appendsNothing: true,
    },
    {
      name: "batch whose second record has offset delta 5 (lastOffsetDelta 5)",
      send: (u) =>
        produceBatch(
          u,
          encodeRecordBatch({
            baseOffset: 0,
            records: [0, 5].map((d) => ({ key: null, value: Buffer.from("v"), headers: [], timestamp: 1_700_000_000_000, offsetDelta: d })),
          }),
        ),
      names: /offset delta|lastOffsetDelta/,
      codes: ["INVALID_RECORD", "CORRUPT_MESSAGE"],
      appendsNothing: true,
    },
    {
      name: "batch with a header key that is not UTF-8",
      send: (u) =>
        produceBatch(
          u,
          patched(batch(1, { headers: [{ key: "kk", value: null }] }), (c) => {
            // record: length, attributes, ts delta, offset delta, key (len + 2), value (len + 2), header count, key length, key
            const keyAt = FIRST_RECORD + 1 + 1 + 1 + 1 + 3 + 3 + 1 + 1;
            expect(c.toString("latin1", keyAt, keyAt + 2)).toBe("kk");
            c[keyAt] = 0xc3; // a lead byte followed by 'k': invalid
          }),
        ),
      names: /header key/,
      codes: ["INVALID_RECORD", "CORRUPT_MESSAGE"],
      appendsNothing: true,
    },
    {
      name: "batch whose recordCount says 3 for 2 records",
      send: (u) =>
        produceBatch(
          u,
          patched(batch(), (c) => c.writeInt32BE(3, 57)),
        ),
      names: /record/,
      codes: ["CORRUPT_MESSAGE", "INVALID_RECORD"],
      appendsNothing: true,
    },
  ];

  it.each(cases)("$name: 4xx naming the field, no stall, server still works", async (c) => {
    const before = c.appendsNothing ? await highWatermark() : 0;
    const res = await withoutStall(server.url, () => c.send(server.url));
    expectJson4xx(res, c.name);
    expect(res.body.error.message, res.text).toMatch(c.names);
    if (c.codes) expect(c.codes, res.text).toContain(res.body.error.code);
    if (c.appendsNothing) expect(await highWatermark()).toBe(before);
    if (c.jsonPath) {
      const viaJson = await c.jsonPath(server.url);
      expect([viaJson.status, viaJson.body?.error?.code], `the JSON path answered ${viaJson.status} ${viaJson.text}`).toEqual([
        res.status,
        res.body.error.code,
      ]);
    }
    await expectRssBounded(server.pid);
    await expectProduceFetchWorks(server.url);
  });

  it("a WebSocket join-group with a NUL in the group id, then closing the socket: an error frame, server still works", async () => {
    await withoutStall(server.url, async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
      const frames: { type: string; id?: string; error?: { code: string; message: string } }[] = [];
      const next = () => new Promise<void>((resolve) => ws.once("message", (d) => (frames.push(JSON.parse(d.toString())), resolve())));
      await new Promise<void>((resolve, reject) => (ws.once("open", () => resolve()), ws.once("error", reject)));
      let got = next();
      ws.send(JSON.stringify({ type: "join-group", id: "m1", group: "a\u0000b", topics: [TOPIC], autoOffsetReset: "earliest" }));
      await got;
      // a ping behind it: every effect of the join (assignment, offset fetch) has been handled
      got = next();
      ws.send(JSON.stringify({ type: "ping" }));
      await got;
      ws.close();
      await new Promise((resolve) => ws.once("close", resolve));
      expect(frames[0], JSON.stringify(frames)).toMatchObject({ type: "error", id: "m1", error: { code: "VALIDATION_FAILED" } });
      expect(frames[0].error?.message).toMatch(/group/);
    });
    await expectRssBounded(server.pid);
    await expectProduceFetchWorks(server.url);
  });

  it("a WebSocket commit with a NUL in its metadata: an error frame naming it, server still works", async () => {
    await withoutStall(server.url, async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
      const frames: { type: string; id?: string; error?: { code: string; message: string } }[] = [];
      const waiters: [(f: (typeof frames)[number]) => boolean, () => void][] = [];
      ws.on("message", (d) => {
        const f = JSON.parse(d.toString());
        frames.push(f);
        for (const [match, done] of waiters) if (match(f)) done();
      });
      const until = (match: (f: (typeof frames)[number]) => boolean) => new Promise<void>((resolve) => waiters.push([match, resolve]));
      await new Promise<void>((resolve, reject) => (ws.once("open", () => resolve()), ws.once("error", reject)));
      const assigned = until((f) => f.type === "assignment" || f.type === "error");
      ws.send(JSON.stringify({ type: "join-group", id: "m2", group: `${GROUP}-ws`, topics: [TOPIC], autoCommit: false }));
      await assigned;
      const answered = until((f) => f.type === "committed" || f.type === "error");
      ws.send(JSON.stringify({ type: "commit", id: "m2", offsets: [{ topic: TOPIC, partition: 0, offset: 0, metadata: "m\u0000" }] }));
      await answered;
      ws.close();
      await new Promise((resolve) => ws.once("close", resolve));
      const error = frames.find((f) => f.type === "error");
      expect(error, JSON.stringify(frames)).toBeDefined();
      expect(["VALIDATION_FAILED", "INVALID_REQUEST"], JSON.stringify(frames)).toContain(error?.error?.code);
      expect(error?.error?.message).toMatch(/metadata/);
    });
    await expectRssBounded(server.pid);
    await expectProduceFetchWorks(server.url);
  });

  it("valid ids with spaces, punctuation and non-ASCII letters still work", async () => {
    const group = "équipe paie/2026 ✓";
    const joined = await json(server.url, "POST", `/api/v1/groups/${encodeURIComponent(group)}/members`, {
      topics: [TOPIC],
      clientId: "client 1 (ü)",
    });
    expect(joined.status, joined.text).toBe(201);
    const committed = await json(
      server.url,
      "POST",
      `/api/v1/groups/${encodeURIComponent(group)}/members/${encodeURIComponent(joined.body.memberId)}/offsets`,
      {
        memberEpoch: joined.body.memberEpoch,
        offsets: [{ topic: TOPIC, partition: 0, offset: 1, metadata: "line 1\nline 2\ttabbed 🙂" }],
      },
    );
    expect(committed.status, committed.text).toBe(200);
    const described = await rawRequest(server.url, "GET", `/api/v1/groups/${encodeURIComponent(group)}`);
    expect(described.status, described.text).toBe(200);
    expect(described.body.offsets[0]).toMatchObject({ committedOffset: 1, metadata: "line 1\nline 2\ttabbed 🙂" });
    const init = await json(server.url, "POST", "/api/v1/producers", { transactionalId: "pay-ments ü 🙂" });
    expect(init.status, init.text).toBe(201);
    const ok = await produceBatch(server.url, batch(3, { headers: [{ key: "trace-id ü", value: Buffer.from("x") }] }));
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toMatchObject({ recordCount: 3, lastOffset: ok.body.baseOffset + 2 });
  });
});
