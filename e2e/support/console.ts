/**
 * Helpers shared by the console's end-to-end tests: REST calls against the test server,
 * a background producer process, and screenshots in both themes.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, type Page } from "@playwright/test";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const BASE_URL = `http://127.0.0.1:${process.env.TRIBUTARY_E2E_PORT}`;
export const SCREENSHOTS = path.join(ROOT, "test-results", "screenshots");

/** A name no other test (or earlier run on a reused database) has used. */
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
}

export async function rest<T = unknown>(method: string, p: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(BASE_URL + p, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export async function createTopic(name: string, partitions = 1, configs?: Record<string, string | number>): Promise<void> {
  const r = await rest("POST", "/api/v1/topics", { name, partitions, configs });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
}

export async function produce(topic: string, records: unknown[]): Promise<{ partition: number; offset: number }[]> {
  const r = await rest<{ records: { partition: number; offset: number }[] }>("POST", `/api/v1/topics/${topic}/records`, { records });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.records;
}

export interface TopicInfo {
  partitions: { partition: number; logStartOffset: number; highWatermark: number }[];
  configs: Record<string, unknown>;
  recordCount: number;
}

export async function describeTopic(topic: string): Promise<TopicInfo> {
  const r = await rest<TopicInfo>("GET", `/api/v1/topics/${topic}`);
  expect(r.status).toBe(200);
  return r.body;
}

export interface ProducerProcess {
  child: ChildProcess;
  /** Resolves with what the script reports when it ends: records sent and seconds taken. */
  done: Promise<{ sent: number; seconds: number; errors: number }>;
  stop(): void;
}

/**
 * Produces in a separate Node process (so the test runner stays idle): `rate` records/s for
 * `seconds`, in requests of `batch` records, values `{"n":i,"pad":...}` with key `${prefix}-i`.
 */
export function startProducer(opts: { topic: string; rate: number; seconds: number; batch?: number; prefix?: string }): ProducerProcess {
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, "e2e", "support", "produce-script.mjs"),
      BASE_URL,
      opts.topic,
      String(opts.rate),
      String(opts.seconds),
      String(opts.batch ?? 250),
      opts.prefix ?? "rec",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  child.stdout?.on("data", (d) => (out += d));
  const done = new Promise<{ sent: number; seconds: number; errors: number }>((resolve, reject) => {
    child.once("exit", () => {
      try {
        resolve(JSON.parse(out.trim().split("\n").pop() as string));
      } catch {
        reject(new Error(`producer script printed no summary: ${out}`));
      }
    });
  });
  return { child, done, stop: () => child.kill("SIGTERM") };
}

/** Saves the page in the light and the dark theme (the console follows the system's by default). */
export async function snap(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.waitForTimeout(50);
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${scheme}.png`), fullPage: true });
  }
  await page.emulateMedia({ colorScheme: "light" });
}
