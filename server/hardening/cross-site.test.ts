/**
 * A local Tributary must not be drivable by a web page the user happens to visit: a WebSocket
 * from a foreign Origin, a POST without a JSON Content-Type (what no-cors fetches and forms
 * send), a change a browser marks cross-site, or a request under a foreign Host name (DNS
 * rebinding) are refused with the JSON error; same-origin browsers and clients without an
 * Origin (curl, the TypeScript client) keep working. The acceptance case drives Debian's
 * Chromium on a page of another origin (a second local HTTP server) and checks on the server
 * afterwards that nothing changed. On both databases.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { chromium } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
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
import { CHROMIUM_LAUNCH } from "../testing/chromium.ts";

const JSON_TYPE = "application/json";
const EVIL = "http://evil.example";

/** The state-changing requests a hostile page would send, with valid JSON bodies. */
const CHANGES: [string, string, unknown][] = [
  ["create topic", "/api/v1/topics", { name: "evil-topic", partitions: 1 }],
  ["produce", "/api/v1/topics/held/records", { records: [{ value: "evil" }] }],
  ["init producer", "/api/v1/producers", { transactionalId: "evil-txn" }],
  ["offsets reset", "/api/v1/groups/held-group/offsets/reset", { to: { to: "earliest" }, dryRun: false }],
];

/** What a page could change, read back from the server. */
async function snapshot(url: string): Promise<unknown> {
  const get = async (path: string) => {
    const res = await fetch(url + path);
    expect(res.status, path).toBe(200);
    return res.json();
  };
  const topics = (await get("/api/v1/topics")) as { topics: { name: string }[] };
  const held = (await get("/api/v1/topics/held")) as { partitions: { highWatermark: number }[] };
  const group = (await get("/api/v1/groups/held-group")) as {
    offsets: { topic: string; partition: number; committedOffset: number | null }[];
  };
  const txns = (await get("/api/v1/transactions")) as { transactions: { transactionalId: string }[] };
  return {
    topics: topics.topics.map((t) => t.name).filter((n) => !n.startsWith("after-")),
    highWatermarks: held.partitions.map((p) => p.highWatermark),
    committed: group.offsets.map((o) => `${o.topic}/${o.partition}=${o.committedOffset}`),
    transactionalIds: txns.transactions.map((t) => t.transactionalId),
  };
}

function post(url: string, path: string, body: unknown, headers: Record<string, string>): Promise<RawResponse> {
  return rawRequest(url, "POST", path, { headers, body: JSON.stringify(body) });
}

/** Opens a WebSocket to /ws; resolves with "open" or the HTTP status that refused it. */
function tryWebSocket(url: string, headers: Record<string, string>): Promise<"open" | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, "ws") + "/ws", { headers });
    ws.once("open", () => {
      ws.close();
      resolve("open");
    });
    ws.once("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        expect(String(res.headers["content-type"])).toMatch(/^application\/json/);
        expect(typeof JSON.parse(text).error.code).toBe("string");
        resolve(res.statusCode ?? 0);
      });
    });
    ws.once("error", (e) => reject(e));
  });
}

/** The page of another origin: tries the WebSocket and every change it can send without a preflight. */
function evilPage(target: string): string {
  const changes = JSON.stringify(CHANGES.map(([, path, body]) => [path, JSON.stringify(body)]));
  return `<!doctype html><html><body><form id="f" method="POST" enctype="text/plain" target="sink"><input name='{"records":[{"value":"x","y":"' value='"}]}'></form>
<iframe name="sink"></iframe><script>
const target = ${JSON.stringify(target)};
const results = { ws: "pending", fetches: [] };
const ws = new WebSocket(target.replace(/^http/, "ws") + "/ws");
const wsDone = new Promise((resolve) => {
  ws.onopen = () => { results.ws = "open"; ws.send(JSON.stringify({ type: "subscribe", id: "a", topic: "held", partitions: [0], from: "earliest" })); setTimeout(resolve, 500); };
  ws.onerror = () => { results.ws = "refused"; resolve(); };
  ws.onclose = () => { if (results.ws === "pending") results.ws = "refused"; resolve(); };
});
(async () => {
  for (const [path, body] of ${changes}) {
    // a Blob without a type: the request goes out with no Content-Type and no preflight
    for (const b of [new Blob([body]), body]) {
      try { await fetch(target + path, { method: "POST", mode: "no-cors", body: b }); results.fetches.push("sent"); }
      catch (e) { results.fetches.push("failed: " + e.message); }
    }
    // with a JSON type the browser asks first (preflight) and the server grants nothing
    try { await fetch(target + path, { method: "POST", headers: { "content-type": "application/json" }, body }); results.fetches.push("read"); }
    catch (e) { results.fetches.push("blocked"); }
  }
  const f = document.getElementById("f");
  f.action = target + "/api/v1/topics/held/records";
  f.submit();
  await new Promise((r) => setTimeout(r, 500));
  await wsDone;
  window.done = results;
})();
</script></body></html>`;
}

describe.each(DATABASE_KINDS)("cross-site protection (%s database)", (kind) => {
  const server = useTestServer({}, kind);
  let before: unknown;

  beforeAll(async () => {
    const json = { "content-type": JSON_TYPE };
    expect((await post(server.url, "/api/v1/topics", { name: "held", partitions: 1 }, json)).status).toBe(201);
    expect((await post(server.url, "/api/v1/topics/held/records", { records: [{ value: "a" }, { value: "b" }] }, json)).status).toBe(200);
    const reset = await post(
      server.url,
      "/api/v1/groups/held-group/offsets/reset",
      { to: { to: "offset", offset: 1 }, topics: [{ topic: "held" }], dryRun: false },
      json,
    );
    expect(reset.status, reset.text).toBe(200);
    before = await snapshot(server.url);
    expect(before).toMatchObject({ committed: ["held/0=1"], highWatermarks: [2] });
  });

  it("refuses a WebSocket upgrade from a foreign Origin before the handshake, and one under a foreign Host", async () => {
    const host = `127.0.0.1:${server.port}`;
    await withoutStall(server.url, async () => {
      expect(await tryWebSocket(server.url, { origin: EVIL })).toBe(403);
      expect(await tryWebSocket(server.url, { origin: "null" })).toBe(403);
      expect(await tryWebSocket(server.url, { origin: `http://localhost:${server.port + 1}` })).toBe(403);
      expect(await tryWebSocket(server.url, { host: `evil.example:${server.port}`, origin: `http://evil.example:${server.port}` })).toBe(
        421,
      );
      // the console's own origin and clients that send none still connect
      expect(await tryWebSocket(server.url, { origin: `http://${host}` })).toBe("open");
      expect(await tryWebSocket(server.url, { host: `localhost:${server.port}`, origin: `http://localhost:${server.port}` })).toBe("open");
      expect(await tryWebSocket(server.url, {})).toBe("open");
    });
    await expectRssBounded(server.pid);
  });

  it("refuses changes with a body that is not JSON or a record batch (415), whatever the Origin", async () => {
    await withoutStall(server.url, async () => {
      for (const [what, path, body] of CHANGES) {
        for (const headers of [
          {},
          { origin: EVIL },
          { "content-type": "text/plain" },
          { "content-type": "application/x-www-form-urlencoded" },
          { "content-type": "multipart/form-data; boundary=x" },
        ] as Record<string, string>[]) {
          const res = await post(server.url, path, body, headers);
          expectJson4xx(res, `${what} ${JSON.stringify(headers)}`);
          expect([403, 415], `${what} ${JSON.stringify(headers)}`).toContain(res.status);
          if (!("origin" in headers)) expect(res.status, what).toBe(415);
        }
      }
    });
    expect(await snapshot(server.url)).toEqual(before);
  });

  it("refuses changes a browser marks cross-site: a foreign Origin or Sec-Fetch-Site (403)", async () => {
    const json = { "content-type": JSON_TYPE };
    await withoutStall(server.url, async () => {
      for (const [what, path, body] of CHANGES) {
        for (const extra of [
          { origin: EVIL },
          { origin: "null" },
          { origin: `http://127.0.0.1:${server.port + 1}` },
          { origin: `http://127.0.0.1.evil.example:${server.port}` },
          { "sec-fetch-site": "cross-site" },
          { "sec-fetch-site": "same-site" },
          { origin: `http://127.0.0.1:${server.port}`, "sec-fetch-site": "cross-site" },
        ] as Record<string, string>[]) {
          const res = await post(server.url, path, body, { ...json, ...extra });
          expectJson4xx(res, `${what} ${JSON.stringify(extra)}`);
          expect(res.status, `${what} ${JSON.stringify(extra)}`).toBe(403);
          expect(res.body.error.code).toBe("CROSS_SITE_REQUEST");
        }
      }
      for (const method of ["DELETE", "PATCH"]) {
        const res = await rawRequest(server.url, method, "/api/v1/topics/held", {
          headers: { origin: EVIL, ...(method === "PATCH" ? json : {}) },
          body: method === "PATCH" ? '{"configs":{}}' : undefined,
        });
        expect(res.status, method).toBe(403);
      }
    });
    expect(await snapshot(server.url)).toEqual(before);
  });

  it("refuses a foreign Host name (DNS rebinding) with 421 and the JSON error; loopback names are served", async () => {
    for (const host of [
      "evil.example",
      `evil.example:${server.port}`,
      `192.168.1.7:${server.port}`,
      `localhost.evil.example:${server.port}`,
      `127.0.0.1.nip.io:${server.port}`,
    ]) {
      for (const [method, path] of [
        ["GET", "/api/v1/topics"],
        ["GET", "/api/v1/topics/held/partitions/0/records"],
        ["GET", "/"],
      ]) {
        const res = await rawRequest(server.url, method, path, { headers: { host } });
        expectJson4xx(res, `${host} ${path}`);
        expect(res.status, `${host} ${path}`).toBe(421);
      }
    }
    const batch = await rawRequest(server.url, "GET", "/api/v1/topics/held/partitions/0/records", {
      headers: { host: "evil.example", accept: "application/vnd.kafka.record-batch" },
    });
    expect(batch.status).toBe(421);
    for (const host of [`localhost:${server.port}`, `127.0.0.1:${server.port}`, `[::1]:${server.port}`, `app.localhost:${server.port}`]) {
      expect((await rawRequest(server.url, "GET", "/api/v1/topics", { headers: { host } })).status, host).toBe(200);
    }
  });

  it("serves same-origin browsers and clients without an Origin", async () => {
    const own = { "content-type": JSON_TYPE, origin: `http://127.0.0.1:${server.port}`, "sec-fetch-site": "same-origin" };
    const created = await post(server.url, "/api/v1/topics", { name: "same-origin", partitions: 1 }, own);
    expect(created.status, created.text).toBe(201);
    const produced = await post(
      server.url,
      "/api/v1/topics/same-origin/records",
      { records: [{ value: "v" }] },
      { ...own, origin: `http://localhost:${server.port}`, host: `localhost:${server.port}` },
    );
    expect(produced.status, produced.text).toBe(200);
    // a bodiless change needs no Content-Type
    const deleted = await rawRequest(server.url, "DELETE", "/api/v1/topics/same-origin", { headers: { origin: own.origin } });
    expect(deleted.status, deleted.text).toBeLessThan(300);
    await expectProduceFetchWorks(server.url);
    await expectRssBounded(server.pid);
  });

  it("a page of another origin in Chromium can neither open the WebSocket nor change anything", async () => {
    const page = http.createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(evilPage(server.url));
    });
    await new Promise<void>((r) => page.listen(0, "127.0.0.1", () => r()));
    const pageUrl = `http://localhost:${(page.address() as AddressInfo).port}/`;
    const browser = await chromium.launch(CHROMIUM_LAUNCH);
    try {
      const tab = await browser.newPage();
      await tab.goto(pageUrl);
      await tab.waitForFunction(() => (window as unknown as { done?: unknown }).done !== undefined, undefined, { timeout: 30_000 });
      const results = (await tab.evaluate(() => (window as unknown as { done: unknown }).done)) as { ws: string; fetches: string[] };
      expect(results.ws).toBe("refused");
      expect(results.fetches).not.toContain("read");
    } finally {
      await browser.close();
      await new Promise((r) => page.close(r));
    }
    expect(await snapshot(server.url)).toEqual(before);
    await expectRssBounded(server.pid);
  }, 60_000);
});
