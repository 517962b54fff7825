/**
 * What every hardening test checks around a hostile request: the server's other clients keep
 * being answered (a health probe in parallel records its slowest answer), its memory stays
 * bounded, and a normal produce/fetch still works afterwards.
 */
import http from "node:http";
import { expect } from "vitest";
import { rssBytes } from "./server-process.ts";

/** A stall is what the probe must never see. The hostile requests found stalled the loop for
 * 2.8–14.7 s; a healthy probe answers in milliseconds. The margin over the issue's 200 ms
 * absorbs other test files' servers sharing the machine's two cores: at 500 ms, probes of
 * correct code answered in 710–750 ms once while the machine's load average was near 20. */
export const STALL_MS = 1000;
export const RSS_LIMIT_BYTES = 512 * 1024 * 1024;

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/**
 * One HTTP request with nothing normalised: the path is sent as written (malformed
 * percent-encoding included), any method and headers. `body` is sent as it is.
 */
export function rawRequest(
  baseUrl: string,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number } = {},
): Promise<RawResponse> {
  const u = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, method, path, headers: { connection: "close", ...opts.headers }, agent: false },
      (res) => {
        readRawResponse(res).then(resolve, reject);
      },
    );
    req.setTimeout(opts.timeoutMs ?? 20_000, () =>
      req.destroy(new Error(`${method} ${path}: no answer in ${opts.timeoutMs ?? 20_000} ms`)),
    );
    req.on("error", reject);
    if (opts.body !== undefined) req.end(opts.body);
    else req.end();
  });
}

/** Reads a whole answer; a JSON body is parsed into `body` (undefined when it is not JSON). */
export function readRawResponse(res: http.IncomingMessage): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
    });
    res.on("error", reject);
  });
}

/** A 4xx answer with the JSON error body (and a code). */
export function expectJson4xx(res: RawResponse, context = ""): void {
  const ctx = `${context} HTTP ${res.status} ${res.text.slice(0, 400)}`;
  expect(res.status, ctx).toBeGreaterThanOrEqual(400);
  expect(res.status, ctx).toBeLessThan(500);
  expect(String(res.headers["content-type"] ?? ""), ctx).toMatch(/^application\/json/);
  expect(typeof res.body?.error?.code, ctx).toBe("string");
  expect(typeof res.body?.error?.message, ctx).toBe("string");
}

export interface HealthProbe {
  /** Stops probing; resolves with the slowest answer seen (ms) and how many answers came. */
  stop(): Promise<{ maxMs: number; answers: number; failures: string[] }>;
}

/**
 * Asks `GET /api/v1/topics` every `everyMs` on a connection of its own while the hostile work
 * runs; each answer's time is measured from when it was asked.
 */
export function startHealthProbe(baseUrl: string, everyMs = 25): HealthProbe {
  let running = true;
  let maxMs = 0;
  let answers = 0;
  const failures: string[] = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const u = new URL(baseUrl);
  const once = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const req = http.get({ host: u.hostname, port: u.port, path: "/api/v1/topics", agent }, (res) => {
        res.resume();
        res.on("end", () => {
          const ms = performance.now() - t0;
          maxMs = Math.max(maxMs, ms);
          answers++;
          if (res.statusCode !== 200) failures.push(`status ${res.statusCode}`);
          resolve();
        });
      });
      req.setTimeout(30_000, () => req.destroy(new Error("probe: no answer in 30 s")));
      req.on("error", (e) => {
        maxMs = Math.max(maxMs, performance.now() - t0);
        failures.push(e.message);
        resolve();
      });
    });
  const loop = (async () => {
    while (running) {
      await once();
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      agent.destroy();
      return { maxMs, answers, failures };
    },
  };
}

/** Runs `hostile` with a health probe beside it and asserts the server never stalled. */
export async function withoutStall<T>(baseUrl: string, hostile: () => Promise<T>): Promise<T> {
  const probe = startHealthProbe(baseUrl);
  let result: T;
  try {
    result = await hostile();
  } finally {
    const seen = await probe.stop();
    expect(seen.failures, "health probe failures").toEqual([]);
    expect(seen.answers, "health probe answers").toBeGreaterThan(0);
    expect(seen.maxMs, `slowest health probe answer (ms), limit ${STALL_MS}`).toBeLessThan(STALL_MS);
  }
  return result!;
}

/** The server process's resident memory stays under the limit. */
export async function expectRssBounded(pid: number): Promise<void> {
  const rss = await rssBytes(pid);
  expect(rss, `server RSS ${Math.round(rss / 1048576)} MB`).toBeLessThan(RSS_LIMIT_BYTES);
}

/** A normal JSON produce and fetch on a fresh topic still work (the server is not left broken). */
export async function expectProduceFetchWorks(baseUrl: string): Promise<void> {
  const topic = `after-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  const post = (path: string, body: unknown) =>
    fetch(`${baseUrl}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const created = await post("/api/v1/topics", { name: topic, partitions: 1 });
  expect(created.status, await created.clone().text()).toBe(201);
  const produced = await post(`/api/v1/topics/${topic}/records`, { records: [{ key: "k", value: "still works" }] });
  expect(produced.status, await produced.clone().text()).toBe(200);
  const fetched = await fetch(`${baseUrl}/api/v1/topics/${topic}/partitions/0/records?offset=0`);
  expect(fetched.status).toBe(200);
  const body = (await fetched.json()) as { records: { value: string }[] };
  expect(body.records.map((r) => r.value)).toEqual(["still works"]);
}
