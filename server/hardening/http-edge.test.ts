/**
 * The HTTP edge against a hostile client, on both databases: malformed percent-encoding in any
 * path parameter, unknown methods, deeply nested JSON, and request bodies trickled slowly.
 * Each answer is a 4xx with the JSON error body; the server keeps answering its other clients
 * (health probe), its memory stays bounded, and produce/fetch still work afterwards.
 */
import http from "node:http";
import { beforeAll, describe, expect, it } from "vitest";
import { DATABASE_KINDS } from "../testing/databases.ts";
import {
  expectJson4xx,
  expectProduceFetchWorks,
  expectRssBounded,
  rawRequest,
  readRawResponse,
  withoutStall,
  type RawResponse,
} from "../testing/hardening-kit.ts";
import { useTestServer } from "../testing/test-server.ts";

const BODY_TIMEOUT_MS = 4000;
const BATCH = "application/vnd.kafka.record-batch";
const JSON_TYPE = { "content-type": "application/json" };
const BAD_ENCODINGS = ["%", "%zz", "%FF", "%C0%AF", "%ED%A0%80", "a%2", "%E2%82"];

/** Every API path with a parameter, as [method, path template, headers, body]. */
const PARAM_PATHS: [string, string, Record<string, string>, string?][] = [
  ["GET", "/api/v1/topics/{x}", {}],
  ["PATCH", "/api/v1/topics/{x}", JSON_TYPE, '{"configs":{}}'],
  ["DELETE", "/api/v1/topics/{x}", {}],
  ["POST", "/api/v1/topics/{x}/partitions", JSON_TYPE, '{"partitions":3}'],
  ["POST", "/api/v1/topics/{x}/records", JSON_TYPE, '{"records":[{"value":"v"}]}'],
  ["POST", "/api/v1/topics/{x}/records?partition=0", { "content-type": BATCH }, "xxxx"],
  ["GET", "/api/v1/topics/{x}/partitions/0/records", {}],
  ["GET", "/api/v1/topics/{x}/partitions/0/records", { accept: BATCH }],
  ["GET", "/api/v1/topics/edge/partitions/{x}/records", {}],
  ["GET", "/api/v1/topics/{x}/offsets", {}],
  ["POST", "/api/v1/topics/{x}/search", JSON_TYPE, "{}"],
  ["GET", "/api/v1/transactions/{x}", {}],
  ["POST", "/api/v1/transactions/{x}/offsets", JSON_TYPE, "{}"],
  ["POST", "/api/v1/transactions/{x}/commit", JSON_TYPE, '{"producerId":1,"producerEpoch":0}'],
  ["POST", "/api/v1/transactions/{x}/abort", JSON_TYPE, '{"producerId":1,"producerEpoch":0}'],
  ["GET", "/api/v1/groups/{x}", {}],
  ["DELETE", "/api/v1/groups/{x}", {}],
  ["POST", "/api/v1/groups/{x}/members", JSON_TYPE, '{"topics":["edge"]}'],
  ["DELETE", "/api/v1/groups/g/members/{x}", {}],
  ["POST", "/api/v1/groups/{x}/members/m/heartbeat", JSON_TYPE, '{"memberEpoch":1}'],
  ["GET", "/api/v1/groups/g/members/{x}/records", {}],
  ["GET", "/api/v1/groups/{x}/members/m/records", { accept: BATCH }],
  ["POST", "/api/v1/groups/g/members/{x}/offsets", JSON_TYPE, '{"memberEpoch":1,"offsets":[]}'],
  ["POST", "/api/v1/groups/{x}/offsets/reset", JSON_TYPE, '{"to":{"to":"earliest"}}'],
  ["DELETE", "/api/v1/groups/{x}/offsets?topic=edge", {}],
  ["GET", "/api/v1/nothing/{x}", {}],
  ["GET", "/topics/{x}", {}],
  ["GET", "/groups/{x}", {}],
];

function nested(depth: number): string {
  return "[".repeat(depth) + "]".repeat(depth);
}

/**
 * Sends a `total`-byte JSON produce body a few bytes at a time (with a Content-Length, or
 * chunked) and resolves with the server's answer, or rejects when none came within `giveUpMs`.
 */
function trickle(
  baseUrl: string,
  path: string,
  opts: { total: number; chunked: boolean; type?: string; giveUpMs: number },
): Promise<RawResponse> {
  const u = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { "content-type": opts.type ?? "application/json", connection: "close" };
    if (!opts.chunked) headers["content-length"] = String(opts.total);
    const req = http.request({ host: u.hostname, port: u.port, method: "POST", path, headers, agent: false });
    // a valid start, so nothing refuses the body before it is complete
    const head = Buffer.from('{"records":[{"value":"');
    let sent = 0;
    const timer = setInterval(() => {
      if (req.destroyed) return;
      const piece = sent === 0 ? head : Buffer.alloc(16, "a");
      if (sent + piece.length >= opts.total) return;
      req.write(piece);
      sent += piece.length;
    }, 50);
    const giveUp = setTimeout(() => {
      req.destroy(new Error(`no answer to the trickled body within ${opts.giveUpMs} ms (${sent} bytes sent)`));
    }, opts.giveUpMs);
    const done = () => {
      clearInterval(timer);
      clearTimeout(giveUp);
    };
    req.on("response", (res) => {
      readRawResponse(res).then((answer) => {
        done();
        req.destroy();
        resolve(answer);
      }, reject);
    });
    req.on("error", (e) => {
      done();
      reject(e);
    });
    req.flushHeaders();
  });
}

/** A normal JSON produce and a JSON fetch; each must be answered while the trickle goes on. */
async function produceAndFetch(baseUrl: string, i: number): Promise<void> {
  const signal = AbortSignal.timeout(BODY_TIMEOUT_MS - 1000);
  const produced = await fetch(`${baseUrl}/api/v1/topics/edge/records`, {
    method: "POST",
    headers: JSON_TYPE,
    body: JSON.stringify({ records: [{ key: `k${i}`, value: `during trickle ${i}`, partition: 0 }] }),
    signal,
  });
  expect(produced.status, await produced.clone().text()).toBe(200);
  const { records } = (await produced.json()) as { records: { offset: number }[] };
  const fetched = await fetch(`${baseUrl}/api/v1/topics/edge/partitions/0/records?offset=${records[0].offset}&maxRecords=1`, { signal });
  expect(fetched.status).toBe(200);
  expect(((await fetched.json()) as { records: { value: string }[] }).records[0].value).toBe(`during trickle ${i}`);
}

describe.each(DATABASE_KINDS)("HTTP edge (%s database)", (kind) => {
  const server = useTestServer({ TRIBUTARY_BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS) }, kind);

  beforeAll(async () => {
    const res = await fetch(`${server.url}/api/v1/topics`, {
      method: "POST",
      headers: JSON_TYPE,
      body: JSON.stringify({ name: "edge", partitions: 1 }),
    });
    expect(res.status, await res.text()).toBe(201);
  });

  it("answers malformed percent-encoding in any path parameter with 400 and the JSON error", async () => {
    await withoutStall(server.url, async () => {
      for (const bad of BAD_ENCODINGS) {
        for (const [method, template, headers, body] of PARAM_PATHS) {
          const path = template.replace("{x}", bad);
          const res = await rawRequest(server.url, method, path, { headers, body });
          expectJson4xx(res, `${method} ${path}`);
          expect(res.status, `${method} ${path}: ${res.text.slice(0, 200)}`).toBe(400);
        }
      }
    });
    await expectRssBounded(server.pid);
    await expectProduceFetchWorks(server.url);
  });

  it("answers TRACE, unknown and unsupported methods with 405, an Allow header and the JSON error", async () => {
    await withoutStall(server.url, async () => {
      for (const [method, path] of [
        ["TRACE", "/api/v1/topics"],
        ["TRACE", "/api/v1/topics/edge/records"],
        ["PROPFIND", "/api/v1/topics"],
        ["PURGE", "/api/v1/groups"],
        ["MKCOL", "/api/v1/metrics"],
        ["PUT", "/api/v1/topics"],
        ["DELETE", "/api/v1/metrics"],
        ["PATCH", "/api/v1/groups"],
        ["GET", "/api/v1/topics/edge/records"],
        ["PUT", "/api/v1/topics/edge/partitions/0/records"],
        ["TRACE", "/"],
        ["DELETE", "/topics"],
      ]) {
        const res = await rawRequest(
          server.url,
          method,
          path,
          method === "PUT" || method === "PATCH" ? { headers: JSON_TYPE, body: "{}" } : {},
        );
        expectJson4xx(res, `${method} ${path}`);
        expect(res.status, `${method} ${path}`).toBe(405);
        expect(res.body.error.code).toBe("METHOD_NOT_ALLOWED");
        expect(String(res.headers.allow ?? ""), `${method} ${path}: Allow`).toMatch(/GET|POST/);
        expect(String(res.headers.allow)).not.toContain(method);
      }
      const topics = await rawRequest(server.url, "PUT", "/api/v1/topics", { headers: JSON_TYPE, body: "{}" });
      expect(topics.headers.allow).toBe("GET, POST, HEAD, OPTIONS");
      // the methods a path does answer still work
      expect((await rawRequest(server.url, "GET", "/api/v1/topics")).status).toBe(200);
      expect((await rawRequest(server.url, "HEAD", "/api/v1/topics")).status).toBe(200);
    });
    await expectRssBounded(server.pid);
    await expectProduceFetchWorks(server.url);
  });

  it("refuses JSON nested deeper than 64 levels with 400 naming the limit", async () => {
    await withoutStall(server.url, async () => {
      for (const [path, body] of [
        ["/api/v1/topics/edge/records", `{"records":[{"value":${nested(3000)}}]}`],
        ["/api/v1/topics/edge/records", `{"records":[{"value":${nested(100_000)}}]}`],
        ["/api/v1/topics", `{"name":"deep","configs":${"{".repeat(5000)}`],
        ["/api/v1/producers", `{"x":${nested(3000)}}`],
        ["/api/v1/groups/g/offsets/reset", `{"to":${nested(3000)}}`],
        ["/api/v1/topics/edge/search", `{"filters":${nested(3000)}}`],
      ]) {
        const res = await rawRequest(server.url, "POST", path, { headers: JSON_TYPE, body });
        expectJson4xx(res, path);
        expect(res.status, path).toBe(400);
        expect(res.body.error.message, path).toContain("64");
      }
      // 64 levels are fine (a value of nested arrays is stored as its JSON text)
      const ok = await rawRequest(server.url, "POST", "/api/v1/topics/edge/records", {
        headers: JSON_TYPE,
        body: `{"records":[{"value":${nested(60)}}]}`,
      });
      expect(ok.status, ok.text).toBe(200);
      // brackets inside strings are not nesting
      const text = await rawRequest(server.url, "POST", "/api/v1/topics/edge/records", {
        headers: JSON_TYPE,
        body: JSON.stringify({ records: [{ value: "[{".repeat(5000) + '\\"' }] }),
      });
      expect(text.status, text.text).toBe(200);
    });
    await expectRssBounded(server.pid);
    await expectProduceFetchWorks(server.url);
  });

  for (const chunked of [false, true]) {
    it(`a trickled 30 MB JSON body (${chunked ? "chunked" : "Content-Length"}) blocks no other produce or fetch and times out with 408`, async () => {
      await withoutStall(server.url, async () => {
        const slow = trickle(server.url, "/api/v1/topics/edge/records", {
          total: 30 * 1024 * 1024,
          chunked,
          giveUpMs: BODY_TIMEOUT_MS + 10_000,
        });
        slow.catch(() => undefined);
        await new Promise((r) => setTimeout(r, 300));
        for (let i = 0; i < 5; i++) await produceAndFetch(server.url, i);
        const res = await slow;
        expectJson4xx(res, "trickled body");
        expect(res.status).toBe(408);
        expect(res.body.error.code).toBe("REQUEST_TIMEOUT");
      });
      await expectRssBounded(server.pid);
      await expectProduceFetchWorks(server.url);
    }, 60_000);
  }

  it("a trickled record batch on the binary fast path times out with 408 and blocks nothing", async () => {
    await withoutStall(server.url, async () => {
      const slow = trickle(server.url, "/api/v1/topics/edge/records?partition=0", {
        total: 30 * 1024 * 1024,
        chunked: false,
        type: BATCH,
        giveUpMs: BODY_TIMEOUT_MS + 10_000,
      });
      slow.catch(() => undefined);
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 0; i < 3; i++) await produceAndFetch(server.url, 100 + i);
      const res = await slow;
      expectJson4xx(res, "trickled batch");
      expect(res.status).toBe(408);
    });
    await expectRssBounded(server.pid);
    await expectProduceFetchWorks(server.url);
  }, 60_000);
});
