/**
 * Seeded fuzzing of what a client can send (issue 13): JSON produce bodies, RecordBatch v2 bytes
 * on the binary fast path and WebSocket messages, each random or a mutation of a valid one, a few
 * hundred of each against a real server on each kind of database. Whatever comes in, the server
 * answers 4xx (or 2xx) and never 5xx, a WebSocket error frame never says INTERNAL, nothing is
 * logged as an unexpected error, the other clients are never stalled, the acknowledged batches
 * account for every offset the partitions advanced, and a normal produce/fetch works at the end.
 * A failure names its seed and input, so it reproduces: TRIBUTARY_FUZZ_SEED (default 13) and
 * TRIBUTARY_FUZZ_COUNT (default 300 per input kind) choose another run of this test.
 */
import { beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { crc32c } from "../broker/protocol/crc32c.ts";
import { encodeRecordBatch, type RecordInput } from "../broker/protocol/record-batch.ts";
import { DATABASE_KINDS } from "../testing/databases.ts";
import { expectProduceFetchWorks, expectRssBounded, rawRequest, withoutStall, type RawResponse } from "../testing/hardening-kit.ts";
import { randomBytes, rng } from "../testing/prng.ts";
import { useTestServer } from "../testing/test-server.ts";

const SEED = Number(process.env.TRIBUTARY_FUZZ_SEED ?? 13);
const COUNT = Number(process.env.TRIBUTARY_FUZZ_COUNT ?? 300);
const JSON_TOPIC = "fz-json";
const BATCH_TOPIC = "fz-batch";
const WS_TOPIC = "fz-ws";
const RECORD_BATCH = "application/vnd.kafka.record-batch";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Random choices from one seeded stream. */
class Chooser {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = rng(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  bytes(n: number): Buffer {
    return randomBytes(this.next, n);
  }

  /** Strings that broke something somewhere, and random ones (any UTF-16 code unit). */
  string(): string {
    switch (this.int(4)) {
      case 0:
        return this.pick([
          "",
          " ",
          "a",
          "\u0000",
          "a\u0000b",
          "x\ud800y",
          "\udc00",
          "\ud83d",
          "\u0007",
          "\u009f",
          "\n",
          "é",
          "🙂",
          ".",
          "..",
          "%00",
          "%2e%2e",
          "__proto__",
          "constructor",
          "(a+)+",
          "a".repeat(300),
          "b".repeat(5000),
          JSON_TOPIC,
          BATCH_TOPIC,
          WS_TOPIC,
          "earliest",
          "latest",
          "fz-g",
          "g1",
          "s1",
        ]);
      case 1: {
        let s = "";
        for (let i = this.int(12); i > 0; i--) s += String.fromCharCode(32 + this.int(95));
        return s;
      }
      case 2: {
        let s = "";
        for (let i = this.int(8); i > 0; i--) s += String.fromCharCode(this.int(0x10000));
        return s;
      }
      default:
        return `fz-${this.int(5)}`;
    }
  }

  number(): number {
    return this.pick([
      0,
      1,
      -1,
      2,
      999,
      1000,
      2 ** 31 - 1,
      2 ** 31,
      -(2 ** 31),
      2 ** 53,
      Number.MAX_SAFE_INTEGER,
      -(2 ** 63),
      2 ** 63,
      1e308,
      -1e308,
      0.5,
      8.64e15,
      8.64e15 + 1,
      32767,
      32768,
      Date.now(),
    ]);
  }

  /** Any JSON value, nested at most `depth` deep. */
  value(depth = 2): Json {
    switch (this.int(depth > 0 ? 7 : 4)) {
      case 0:
        return null;
      case 1:
        return this.chance(0.5);
      case 2:
        return this.number();
      case 3:
        return this.string();
      case 4:
        return Array.from({ length: this.int(4) }, () => this.value(depth - 1));
      case 5: {
        const o: Record<string, Json> = {};
        for (let i = this.int(4); i > 0; i--) o[this.string()] = this.value(depth - 1);
        return o;
      }
      default:
        return this.pick<Json>([[], {}, "", [null], { "": null }]);
    }
  }

  /** A copy of `v` with 1..3 changes: a value replaced, a key dropped or added, an array grown or emptied. */
  mutate(v: Json): Json {
    let out = structuredClone(v);
    for (let n = 1 + this.int(3); n > 0; n--) out = this.mutateOnce(out);
    return out;
  }

  private mutateOnce(v: Json): Json {
    if (v === null || typeof v !== "object" || this.chance(0.15))
      return this.chance(0.5) ? this.value() : this.pick([this.string(), this.number(), null]);
    if (Array.isArray(v)) {
      if (v.length === 0 || this.chance(0.2)) return this.chance(0.5) ? [...v, this.value()] : [];
      const i = this.int(v.length);
      if (this.chance(0.15)) return [...v, ...v];
      v[i] = this.mutateOnce(v[i]);
      return v;
    }
    const keys = Object.keys(v);
    const r = this.next();
    if (keys.length === 0 || r < 0.1) v[this.chance(0.5) ? this.string() : "unknownField"] = this.value();
    else if (r < 0.25) delete v[this.pick(keys)];
    else {
      const k = this.pick(keys);
      v[k] = this.mutateOnce(v[k]);
    }
    return v;
  }
}

/** Every UTF-8 byte percent-encoded (encodeURIComponent throws on a lone surrogate; this sends U+FFFD). */
function percentEncoded(s: string): string {
  return [...Buffer.from(s, "utf8")].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("");
}

/** The server's log must not show a handler failing unexpectedly (that is what a 500 logs). */
function expectNoUnexpectedErrors(output: string): void {
  const lines = output.split("\n").filter((l) => /unexpected error|Uncaught|unhandled/i.test(l));
  expect(lines, "server log").toEqual([]);
}

describe.each(DATABASE_KINDS)(`fuzzing the inputs (%s database, seed ${SEED})`, (kind) => {
  const server = useTestServer({}, kind);

  beforeAll(async () => {
    for (const name of [JSON_TOPIC, BATCH_TOPIC, WS_TOPIC]) {
      const r = await rawRequest(server.url, "POST", "/api/v1/topics", {
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name, partitions: 2 }),
      });
      expect(r.status, r.text).toBe(201);
    }
    // Next loads a route's code on its first request, which can hold the event loop for a second
    // on a busy machine: load the routes the fuzzing reaches first, so the probe measures the fuzzing
    for (const [method, path] of [
      ["POST", `/api/v1/topics/${JSON_TOPIC}/records`],
      ["GET", `/api/v1/topics/${JSON_TOPIC}/partitions/0/records?offset=0`],
      ["GET", `/api/v1/topics/${JSON_TOPIC}`],
      ["GET", "/api/v1/warm"],
    ]) {
      const r = await rawRequest(server.url, method, path, {
        headers: { "content-type": "application/json" },
        body: method === "POST" ? '{"records":[{"value":"warm"}]}' : undefined,
      });
      expect(r.status, `${method} ${path}: ${r.text}`).toBeLessThan(500);
    }
  });

  const alive = async () => {
    expect(server.child.exitCode, "the server process exited").toBeNull();
    expect(server.child.signalCode, "the server process was killed").toBeNull();
    await expectRssBounded(server.pid);
    await expectProduceFetchWorks(server.url);
    expectNoUnexpectedErrors(server.output());
  };

  it(`JSON produce: ${COUNT} random and mutated bodies, never a 5xx`, async () => {
    const c = new Chooser(SEED);
    const template = (): Json => ({
      records: Array.from({ length: 1 + c.int(3) }, (_, i) => ({
        key: `k${i}`,
        value: c.pick<Json>(["v", { a: 1 }, [1, 2], 3]),
        headers: c.pick<Json>([
          [
            { key: "h", value: "x" },
            { key: "b", valueBase64: "AAE=" },
          ],
          { h: "x" },
        ]),
        timestamp: c.chance(0.5) ? Date.now() : new Date().toISOString(),
        partition: c.int(2),
      })),
      ...(c.chance(0.2) ? { producerId: 0, producerEpoch: 0, baseSequence: 0 } : {}),
    });
    const seen = new Map<number, number>();
    await withoutStall(server.url, async () => {
      for (let i = 0; i < COUNT; i++) {
        let body = JSON.stringify(c.chance(0.1) ? c.value(3) : c.mutate(template()));
        if (c.chance(0.1)) {
          // broken JSON: cut short, or a stray character inside
          const at = c.int(body.length + 1);
          body = c.chance(0.5) ? body.slice(0, at) : body.slice(0, at) + c.pick(["\u0000", "{", "]", '"', "\\", "\ud800"]) + body.slice(at);
        }
        const topic = c.chance(0.9) ? JSON_TOPIC : c.pick(["nope", "..", "%2e", "a%00", "x".repeat(250), "%ZZ"]);
        const res = await rawRequest(server.url, "POST", `/api/v1/topics/${topic}/records`, {
          headers: { "content-type": "application/json" },
          body,
        });
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
        expect(
          res.status,
          `seed ${SEED} #${i}: POST /topics/${topic}/records ${body.slice(0, 300)} → ${res.text.slice(0, 300)}`,
        ).toBeLessThan(500);
      }
    });
    // the fuzzing reached both sides: some bodies were taken, most refused
    expect(seen.get(200) ?? 0, JSON.stringify([...seen])).toBeGreaterThan(0);
    expect(
      [...seen.keys()].some((s) => s >= 400),
      JSON.stringify([...seen]),
    ).toBe(true);
    await alive();
  });

  it(`binary produce: ${COUNT} random and mutated RecordBatch v2 payloads, never a 5xx, no offset burnt`, async () => {
    const c = new Chooser(SEED + 1);
    const validBatch = (): Buffer => {
      const records: RecordInput[] = Array.from({ length: 1 + c.int(5) }, () => ({
        key: c.chance(0.3) ? null : c.bytes(c.int(10)),
        value: c.chance(0.1) ? null : c.bytes(c.int(40)),
        headers: c.chance(0.4) ? [{ key: c.pick(["h", "trace-id", "ü", "🙂"]), value: c.chance(0.5) ? null : c.bytes(3) }] : [],
        timestamp: 1_700_000_000_000 + c.int(1_000_000),
      }));
      return encodeRecordBatch({ baseOffset: 0, records });
    };
    const fixCrc = (b: Buffer) => {
      if (b.length >= 61 && b.readInt32BE(8) + 12 === b.length) b.writeUInt32BE(crc32c(b, 21, b.length), 17);
    };
    const FIELDS = [
      { at: 8, size: 4 }, // batchLength
      { at: 12, size: 4 }, // partitionLeaderEpoch
      { at: 16, size: 1 }, // magic
      { at: 21, size: 2 }, // attributes
      { at: 23, size: 4 }, // lastOffsetDelta
      { at: 27, size: 8 }, // baseTimestamp
      { at: 35, size: 8 }, // maxTimestamp
      { at: 43, size: 8 }, // producerId
      { at: 51, size: 2 }, // producerEpoch
      { at: 53, size: 4 }, // baseSequence
      { at: 57, size: 4 }, // recordCount
    ];
    const payload = (): Buffer => {
      const b = validBatch();
      switch (c.int(8)) {
        case 0:
          return b; // valid
        case 1: {
          // 1..4 bytes flipped anywhere; mostly with the CRC made right, so the lie reaches the record checks
          for (let n = 1 + c.int(4); n > 0; n--) b[c.int(b.length)] = c.int(256);
          if (c.chance(0.8)) fixCrc(b);
          return b;
        }
        case 2: {
          // a header field set to an extreme value
          const f = c.pick(FIELDS);
          const v = c.pick([0n, 1n, -1n, 2n ** 31n - 1n, -(2n ** 31n), 2n ** 63n - 1n, -(2n ** 63n), BigInt(c.int(256))]);
          if (f.size === 8) b.writeBigInt64BE(v, f.at);
          else b.writeIntBE(Number(BigInt.asIntN(f.size * 8, v)), f.at, f.size);
          fixCrc(b);
          return b;
        }
        case 3:
          return b.subarray(0, c.int(b.length)); // truncated
        case 4:
          return Buffer.concat([b, c.bytes(1 + c.int(20))]); // trailing garbage
        case 5:
          return Buffer.concat([b, validBatch()]); // two valid batches
        case 6: {
          // a varint inside a record rewritten as a long run of continuation bytes
          const at = 61 + c.int(Math.max(1, b.length - 61));
          for (let i = at; i < Math.min(b.length, at + 1 + c.int(12)); i++) b[i] = 0x80 | c.int(128);
          fixCrc(b);
          return b;
        }
        default:
          return c.bytes(c.int(200)); // noise
      }
    };
    let acknowledged = 0;
    const seen = new Map<number, number>();
    await withoutStall(server.url, async () => {
      for (let i = 0; i < COUNT; i++) {
        const body = payload();
        const query = c.pick([
          "?partition=0",
          "?partition=1",
          "?partition=0",
          "?partition=2",
          "?partition=-1",
          "",
          "?partition=0&transactionalId=" + percentEncoded(c.string()),
          "?partition=0&x=1",
        ]);
        const res: RawResponse = await rawRequest(server.url, "POST", `/api/v1/topics/${BATCH_TOPIC}/records${query}`, {
          headers: { "content-type": RECORD_BATCH },
          body,
        });
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
        const what = `seed ${SEED + 1} #${i}: ${query} ${body.toString("hex").slice(0, 400)} → ${res.status} ${res.text.slice(0, 300)}`;
        expect(res.status, what).toBeLessThan(500);
        expect(String(res.headers["content-type"]), what).toMatch(/^application\/json/);
        if (res.status === 200) {
          // a batch takes exactly the offsets of its records
          expect(res.body.lastOffset - res.body.baseOffset + 1, what).toBe(res.body.recordCount);
          acknowledged += res.body.recordCount;
        }
      }
    });
    expect(seen.get(200) ?? 0, JSON.stringify([...seen])).toBeGreaterThan(0);
    const topic = await rawRequest(server.url, "GET", `/api/v1/topics/${BATCH_TOPIC}`);
    const advanced = (topic.body.partitions as { highWatermark: number }[]).reduce((s, p) => s + p.highWatermark, 0);
    expect(advanced, "offsets handed out on the fuzzed topic = records acknowledged").toBe(acknowledged);
    await alive();
  });

  it(`WebSocket: ${COUNT} random and mutated messages of every type, never an INTERNAL error`, async () => {
    const c = new Chooser(SEED + 2);
    const templates: Record<string, () => Json> = {
      subscribe: () => ({
        type: "subscribe",
        id: "s1",
        topic: WS_TOPIC,
        partitions: [0, 1],
        from: c.pick<Json>(["earliest", "latest", { offset: 0 }, { timestamp: 0 }]),
      }),
      unsubscribe: () => ({ type: "unsubscribe", id: "s1" }),
      "subscribe-metrics": () => ({ type: "subscribe-metrics", id: "m1" }),
      "subscribe-topology": () => ({ type: "subscribe-topology", id: "t1" }),
      ping: () => ({ type: "ping" }),
      "join-group": () => ({
        type: "join-group",
        id: "g1",
        group: "fz-g",
        topics: [WS_TOPIC],
        autoOffsetReset: "earliest",
        autoCommit: c.chance(0.5),
      }),
      commit: () => ({ type: "commit", id: "g1", offsets: [{ topic: WS_TOPIC, partition: c.int(2), offset: c.int(3), metadata: "m" }] }),
      "leave-group": () => ({ type: "leave-group", id: "g1" }),
    };
    const types = Object.keys(templates);
    const r = await rawRequest(server.url, "POST", `/api/v1/topics/${WS_TOPIC}/records`, {
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        records: [
          { value: "a", partition: 0 },
          { value: "b", partition: 1 },
        ],
      }),
    });
    expect(r.status, r.text).toBe(200);

    const problems: string[] = [];
    const kinds = new Set<string>();
    let sent = 0;
    const PER_SOCKET = 25;
    await withoutStall(server.url, async () => {
      while (sent < COUNT) {
        const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
        await new Promise<void>((resolve, reject) => (ws.once("open", () => resolve()), ws.once("error", reject)));
        const frames: { type: string; error?: { code: string; message: string } }[] = [];
        let closed: number | null = null;
        let pong: (() => void) | null = null;
        ws.on("message", (d) => {
          const f = JSON.parse(d.toString());
          frames.push(f);
          kinds.add(f.type === "error" ? `error ${f.error?.code}` : f.type);
          if (f.type === "pong") pong?.();
        });
        const closing = new Promise<void>((resolve) => ws.once("close", (code) => ((closed = code), pong?.(), resolve())));
        ws.on("error", () => undefined);
        // each socket starts as a member and a subscriber, so later messages have something to act on
        const log: string[] = [JSON.stringify(templates["join-group"]()), JSON.stringify(templates.subscribe())];
        for (const m of log) ws.send(m);
        for (let n = 0; n < PER_SOCKET && sent < COUNT && closed === null; n++, sent++) {
          const type = types[sent % types.length];
          let text: string | Buffer;
          const roll = c.next();
          if (roll < 0.05) text = JSON.stringify(c.value(3));
          else if (roll < 0.08) text = c.bytes(c.int(30)).toString("latin1");
          else if (roll < 0.1)
            text = c.bytes(1 + c.int(30)); // a binary frame
          else text = JSON.stringify(c.chance(0.25) ? templates[type]() : c.mutate(templates[type]()));
          log.push(typeof text === "string" ? text.slice(0, 200) : `<binary ${text.length}>`);
          ws.send(text);
        }
        // messages are handled in order: the pong comes after every earlier one was dealt with
        if (closed === null) {
          const answered = new Promise<void>((resolve) => (pong = resolve));
          ws.send(JSON.stringify({ type: "ping" }));
          await answered;
        }
        const internal = frames.filter((f) => f.type === "error" && (f.error?.code === "INTERNAL" || !f.error?.code));
        if (internal.length > 0)
          problems.push(
            `seed ${SEED + 2}, socket ending at #${sent}: ${JSON.stringify(internal).slice(0, 500)} after ${JSON.stringify(log).slice(0, 3000)}`,
          );
        if (closed === 1011)
          problems.push(
            `seed ${SEED + 2}, socket ending at #${sent}: closed with 1011 (internal error) after ${JSON.stringify(log).slice(0, 3000)}`,
          );
        if (closed === null) ws.close();
        await closing;
      }
    });
    expect(problems).toEqual([]);
    expect(sent).toBe(COUNT);
    // the fuzzing reached past validation: subscriptions, memberships and commits happened
    for (const k of ["subscribed", "records", "group-joined", "assignment", "committed", "pong", "error VALIDATION_FAILED"])
      expect([...kinds], k).toContain(k);
    await alive();
  });
});
