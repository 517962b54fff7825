/**
 * Helpers for thin route handlers: bounded body reading, zod validation with clear messages,
 * and one wrapper that turns every thrown error into the JSON error body.
 */
import type { z } from "zod";
import { ApiError } from "./api-error.ts";
import { toErrorResponse } from "../errors/error-response.ts";
import type { ErrorCode } from "../errors/error-codes.ts";
import { Reservation, requestBodyMemory } from "./memory-budget.ts";
import { bodyLimits } from "../config.ts";

/** Largest request body the API reads (a produce request of many records). */
export const MAX_REQUEST_BYTES = bodyLimits().maxRequestBytes;

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

/** Errors that leave the request body unread: the connection cannot carry another request. */
export const ABANDONS_BODY: ReadonlySet<string> = new Set(["REQUEST_TOO_LARGE", "REQUEST_TIMEOUT"] satisfies ErrorCode[]);

/** Runs a handler body; any error becomes `{error:{code,message,details?}}` with its status. */
export async function handle(fn: () => Promise<Response>): Promise<Response> {
  try {
    return await fn();
  } catch (e) {
    const { status, body } = toErrorResponse(e);
    // An oversized body is abandoned unread (Next's request stream ignores cancel), so the
    // connection cannot carry another request: close it instead of letting the client reuse it.
    return json(body, status, ABANDONS_BODY.has(body.error.code) ? { connection: "close" } : undefined);
  }
}

/** A request body and its share of the body memory budget, to give back once it is used. */
export interface ReservedBody {
  bytes: Buffer;
  release(): void;
}

/** Source of a body's chunks: a Web stream's reader or a Node request's async iterator. */
export interface BodySource {
  next(): Promise<IteratorResult<Uint8Array>>;
  /** Stops reading (the rest of the body is abandoned). */
  cancel(): void;
}

/**
 * Collects a body of at most `limit` bytes within TRIBUTARY_BODY_TIMEOUT_MS, reserving each
 * chunk's bytes in the request-body budget as it arrives. A body that is too slow gets 408 and
 * gives back what it held, so a trickling client cannot hold memory others need.
 */
export async function collectBody(source: BodySource, limit: number, signal?: AbortSignal): Promise<ReservedBody> {
  const { bodyTimeoutMs, bodyMemoryBytes } = bodyLimits();
  const reservation = new Reservation(requestBodyMemory(bodyMemoryBytes));
  // One controller ends the wait for a chunk or for memory, on the deadline or when the client
  // goes away. (No Promise.race against a long-lived promise: each race would leave a reaction
  // on it holding that chunk until the request's signals are collected.)
  const stop = new AbortController();
  let failure: ApiError | null = null;
  let interrupt: ((e: Error) => void) | null = null;
  const end = (e: ApiError) => {
    failure ??= e;
    stop.abort();
    interrupt?.(failure);
  };
  const timer = setTimeout(() => end(timedOut(bodyTimeoutMs)), bodyTimeoutMs);
  const onClientGone = () => end(new ApiError("VALIDATION_FAILED", "the request body ended early"));
  if (signal?.aborted) onClientGone();
  signal?.addEventListener("abort", onClientGone, { once: true });
  const interruptible = <T>(p: Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      if (failure) return reject(failure);
      interrupt = reject;
      p.then(resolve, reject);
    });
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reading = bodiesBeingRead();
  const me = {};
  reading.add(me);
  try {
    for (;;) {
      const { done, value } = await interruptible(source.next());
      if (done) break;
      size += value.byteLength;
      if (size > limit) throw tooLarge(size, limit);
      // The oldest body being read never waits for memory: bodies that are all half-read when
      // the budget runs out would otherwise each wait for the others until they time out. The
      // oldest finishes and gives its share back; the budget is exceeded by one body at most.
      if (reading.values().next().value === me) reservation.take(value.byteLength);
      else await interruptible(reservation.grow(value.byteLength, stop.signal));
      chunks.push(value);
    }
  } catch (e) {
    reservation.release();
    source.cancel();
    throw failure ?? e;
  } finally {
    reading.delete(me);
    interrupt = null;
    clearTimeout(timer);
    signal?.removeEventListener("abort", onClientGone);
  }
  // one buffer of its own (stored batches must not pin a larger shared chunk)
  const bytes = Buffer.allocUnsafeSlow(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  chunks.length = 0;
  return { bytes, release: () => reservation.release() };
}

/** Bodies being read now, oldest first; on globalThis, as every bundled copy of this module shares it. */
function bodiesBeingRead(): Set<object> {
  const g = globalThis as { __tributaryBodiesBeingRead?: Set<object> };
  return (g.__tributaryBodiesBeingRead ??= new Set());
}

function timedOut(ms: number): ApiError {
  return new ApiError("REQUEST_TIMEOUT", `the request body did not arrive within ${ms} ms (TRIBUTARY_BODY_TIMEOUT_MS)`, { timeoutMs: ms });
}

/** Reads the body within the body budget and timeout; the caller releases it when done. */
export async function readBodyReserved(req: Request, limit = MAX_REQUEST_BYTES): Promise<ReservedBody> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(declared, limit);
  if (!req.body) return { bytes: Buffer.alloc(0), release: () => undefined };
  const reader = req.body.getReader();
  return collectBody(
    { next: () => reader.read() as Promise<IteratorResult<Uint8Array>>, cancel: () => void reader.cancel().catch(() => undefined) },
    limit,
    req.signal,
  );
}

/** Reads the body, refusing (413) past `limit` bytes without buffering the rest. */
export async function readBody(req: Request, limit = MAX_REQUEST_BYTES): Promise<Buffer> {
  const body = await readBodyReserved(req, limit);
  body.release();
  return body.bytes;
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

/** JSON nested deeper than this is refused before parsing (deep values overflow the stack later). */
export const MAX_JSON_DEPTH = 64;

/** Refuses JSON text nested deeper than MAX_JSON_DEPTH: one linear scan, strings skipped. */
export function checkJsonDepth(text: Uint8Array): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: the next byte is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_JSON_DEPTH) {
        throw new ApiError("INVALID_JSON", `request body is nested deeper than ${MAX_JSON_DEPTH} levels`, { maxDepth: MAX_JSON_DEPTH });
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}

/** The Content-Type check of JSON bodies (no type is taken as JSON; the edge refused others). */
export function checkJsonType(req: Request): void {
  const type = req.headers.get("content-type") ?? "";
  if (type && !/^application\/(json|[\w.+-]+\+json)\b/i.test(type)) {
    throw new ApiError("UNSUPPORTED_MEDIA_TYPE", `expected Content-Type application/json, got '${type}'`);
  }
}

/** Parses and validates JSON bytes, depth-checked first. */
export function parseJsonBody<S extends z.ZodType>(body: Uint8Array, schema: S): z.output<S> {
  checkJsonDepth(body);
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"));
  } catch (e) {
    throw new ApiError("INVALID_JSON", `request body is not valid JSON: ${(e as Error).message}`);
  }
  return parseWith(schema, data, "body");
}

/** Reads and validates a JSON body. */
export async function readJson<S extends z.ZodType>(req: Request, schema: S, limit = MAX_REQUEST_BYTES): Promise<z.output<S>> {
  checkJsonType(req);
  return parseJsonBody(await readBody(req, limit), schema);
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
