/** HTTP requests the API tests send to a real test server, and what they keep of the answers. */
import type { ApiResponse } from "./api-assertions.ts";

export interface CallOptions {
  /** A JSON body; content-type application/json unless `headers` name another. */
  json?: unknown;
  /** A text body sent as is, with `contentType` (default application/json). */
  raw?: string;
  contentType?: string;
  /** A body sent as is, with only the given `headers`. */
  body?: BodyInit;
  headers?: Record<string, string>;
  redirect?: RequestRedirect;
}

/** A response with its bytes too (binary bodies). */
export interface CallResponse extends ApiResponse {
  bytes: Buffer;
}

/**
 * Sends `method base+path` and reads the whole answer; a JSON answer is parsed into `body`.
 * `onServerError` hears of every 5xx (tests collect them to assert there were none).
 */
export async function callApi(
  base: string,
  method: string,
  path: string,
  opts: CallOptions = {},
  onServerError?: (line: string) => void,
): Promise<CallResponse> {
  const headers: Record<string, string> = { ...opts.headers };
  let body = opts.body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers["content-type"] ??= opts.contentType ?? "application/json";
  }
  if (opts.raw !== undefined) {
    body = opts.raw;
    headers["content-type"] ??= opts.contentType ?? "application/json";
  }
  const init: RequestInit & { duplex?: "half" } = { method, headers, body, redirect: opts.redirect ?? "follow" };
  if (body instanceof ReadableStream) init.duplex = "half";
  const res = await fetch(base + path, init);
  const bytes = Buffer.from(await res.arrayBuffer());
  const text = new TextDecoder().decode(bytes);
  let parsed: unknown = null;
  if ((res.headers.get("content-type") ?? "").startsWith("application/json") && text) parsed = JSON.parse(text);
  if (res.status >= 500) onServerError?.(`${method} ${path} -> ${res.status} ${text.slice(0, 300)}`);
  return { status: res.status, headers: res.headers, text, bytes, body: parsed };
}

/** `callApi` bound to a server whose address is known only once it runs (`() => server.url`). */
export function apiCaller(base: () => string, onServerError?: (line: string) => void) {
  return (method: string, path: string, opts: CallOptions = {}) => callApi(base(), method, path, opts, onServerError);
}

/** Sends a request that must succeed (throws otherwise) and returns its JSON answer. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function apiJson(base: string, method: string, path: string, json?: unknown): Promise<any> {
  const res = await callApi(base, method, path, json === undefined ? {} : { json });
  if (res.status < 200 || res.status > 299) throw new Error(`${method} ${path} -> ${res.status}: ${res.text.slice(0, 300)}`);
  return res.text ? JSON.parse(res.text) : undefined;
}
