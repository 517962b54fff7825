/**
 * Helpers for thin route handlers: bounded body reading, zod validation with clear messages,
 * and one wrapper that turns every thrown error into the JSON error body.
 */
import type { z } from "zod";
import { ApiError } from "./api-error.ts";
import { toErrorResponse } from "./error-status.ts";

/** Largest request body the API reads (a produce request of many records). */
export const MAX_REQUEST_BYTES = Number(process.env.TRIBUTARY_MAX_REQUEST_BYTES ?? 32 * 1024 * 1024);

export function json(data: unknown, status = 200, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(data), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers },
  });
}

/** A response of JSON text made already (e.g. within the JSON memory budget). */
export function jsonText(text: string, status = 200): Response {
  return new Response(text, { status, headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" } });
}

/** Runs a handler body; any error becomes `{error:{code,message,details?}}` with its status. */
export async function handle(fn: () => Promise<Response>): Promise<Response> {
  try {
    return await fn();
  } catch (e) {
    const { status, body } = toErrorResponse(e);
    // An oversized body is abandoned unread (Next's request stream ignores cancel), so the
    // connection cannot carry another request: close it instead of letting the client reuse it.
    return json(body, status, body.error.code === "REQUEST_TOO_LARGE" ? { connection: "close" } : undefined);
  }
}

/** Reads the body, refusing (413) past `limit` bytes without buffering the rest. */
export async function readBody(req: Request, limit = MAX_REQUEST_BYTES): Promise<Buffer> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(declared, limit);
  if (!req.body) return Buffer.alloc(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(size, limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}

function tooLarge(size: number, limit: number): ApiError {
  return new ApiError("REQUEST_TOO_LARGE", `request body of ${size}+ bytes exceeds the limit of ${limit} bytes`, {
    limitBytes: limit,
  });
}

export function validationError(error: z.ZodError, where: string): ApiError {
  const issues = error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  const first = issues[0];
  const at = first?.path ? `${where}.${first.path}` : where;
  return new ApiError("VALIDATION_FAILED", `invalid ${at}: ${first?.message ?? "invalid input"}`, { issues });
}

export function parseWith<S extends z.ZodType>(schema: S, data: unknown, where: string): z.output<S> {
  const r = schema.safeParse(data);
  if (!r.success) throw validationError(r.error, where);
  return r.data;
}

/** Reads and validates a JSON body. */
export async function readJson<S extends z.ZodType>(req: Request, schema: S, limit = MAX_REQUEST_BYTES): Promise<z.output<S>> {
  const type = req.headers.get("content-type") ?? "";
  if (type && !/^application\/(json|[\w.+-]+\+json)\b/i.test(type)) {
    throw new ApiError("UNSUPPORTED_MEDIA_TYPE", `expected Content-Type application/json, got '${type}'`);
  }
  const body = await readBody(req, limit);
  let data: unknown;
  try {
    data = JSON.parse(body.toString("utf8"));
  } catch (e) {
    throw new ApiError("INVALID_JSON", `request body is not valid JSON: ${(e as Error).message}`);
  }
  return parseWith(schema, data, "body");
}

/** Validates the query string (every parameter must be known to the schema). */
export function readQuery<S extends z.ZodType>(req: Request, schema: S): z.output<S> {
  const params = new URL(req.url).searchParams;
  const obj: Record<string, string> = {};
  for (const [k, v] of params) {
    if (k in obj) throw new ApiError("VALIDATION_FAILED", `query parameter '${k}' is given more than once`);
    obj[k] = v;
  }
  return parseWith(schema, obj, "query");
}

/** A path segment as a partition number. */
export function partitionParam(raw: string): number {
  if (!/^\d{1,9}$/.test(raw)) {
    throw new ApiError("VALIDATION_FAILED", `partition must be a non-negative integer, got '${raw}'`);
  }
  return Number(raw);
}

/** The client's address, as the server process saw the connection (see server/main.ts). */
export function clientHost(req: Request): string {
  return req.headers.get(CLIENT_HOST_HEADER) ?? "unknown";
}

/** Set by the server process from the socket; any value a client sends is replaced. */
export const CLIENT_HOST_HEADER = "x-tributary-client-host";
