/** Assertions shared by the HTTP API tests. */
import { expect } from "vitest";

/** What the API tests keep of a response. */
export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** A 4xx JSON error with this code and a non-empty message mentioning every `words` entry. */
export function expectError(res: ApiResponse, status: number, code: string, ...words: (string | RegExp)[]): void {
  const ctx = `HTTP ${res.status} ${res.text.slice(0, 600)}`;
  expect(res.status, ctx).toBe(status);
  expect(res.headers.get("content-type"), ctx).toMatch(/^application\/json/);
  expect(res.body?.error?.code, ctx).toBe(code);
  const message = res.body.error.message;
  expect(typeof message, ctx).toBe("string");
  expect(message.trim().length, ctx).toBeGreaterThan(10);
  for (const w of words) {
    const re = typeof w === "string" ? new RegExp(w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "i") : w;
    expect(message, ctx).toMatch(re);
  }
}
