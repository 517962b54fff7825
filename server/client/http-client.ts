/** Minimal HTTP plumbing for the TypeScript client: JSON calls, the binary hot path, typed errors. */
import http from "node:http";
import https from "node:https";

export class TributaryClientError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "TributaryClientError";
  }
}

export async function raiseFor(res: Response): Promise<never> {
  let code = "HTTP_" + res.status;
  let message = res.statusText;
  let details: Record<string, unknown> | undefined;
  try {
    const body = (await res.json()) as { error?: { code: string; message: string; details?: Record<string, unknown> } };
    if (body.error) ({ code, message, details } = body.error);
  } catch {
    // not a JSON error body
  }
  throw new TributaryClientError(res.status, code, message, details);
}

export async function callJson<T>(baseUrl: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(baseUrl + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) await raiseFor(res);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

/** A response read whole: status, lower-case headers, body bytes. */
export interface BytesResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

const agents = new Map<string, http.Agent>();

/** One keep-alive agent per origin, shared by every producer and reader of the process. */
function agentFor(url: URL): http.Agent {
  let a = agents.get(url.origin);
  if (!a) {
    a =
      url.protocol === "https:"
        ? new https.Agent({ keepAlive: true, maxSockets: 256 })
        : new http.Agent({ keepAlive: true, maxSockets: 256 });
    agents.set(url.origin, a);
  }
  return a;
}

/**
 * The binary hot path's HTTP: node:http with keep-alive, the request body written as it is and
 * the response read into one buffer sized by its Content-Length (undici's fetch copies request
 * bodies through web streams and collects responses in chunks: measured as client CPU and GC).
 * Network failures reject with a TypeError, as fetch does, so callers treat both alike.
 */
export function requestBytes(
  target: string,
  method: string,
  headers: Record<string, string>,
  body?: Buffer,
  signal?: AbortSignal,
  scratch?: Scratch,
): Promise<BytesResponse> {
  return attempt(new URL(target), method, headers, body, signal, true, scratch);
}

/**
 * A response buffer a caller reuses from one request to the next (grown to the largest response
 * seen): the body is then a view of it, valid until the caller's next request with it.
 */
export interface Scratch {
  buffer: Buffer | null;
}

/**
 * A keep-alive socket may be closed by the server (its idle timeout) just as a request is
 * written to it: the request then fails with EPIPE or ECONNRESET before any response, and the
 * server never read it. Such a request is sent once more on a new socket (as Node's
 * documentation advises, `req.reusedSocket`); any other failure is the caller's.
 */
const STALE_SOCKET = new Set(["EPIPE", "ECONNRESET"]);

function attempt(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
  signal: AbortSignal | undefined,
  mayRetry: boolean,
  scratch?: Scratch,
): Promise<BytesResponse> {
  const mod = url.protocol === "https:" ? https : http;
  if (signal?.aborted) return Promise.reject(abortError());
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = mod.request(
      url,
      { method, agent: agentFor(url), headers: body ? { ...headers, "content-length": String(body.length) } : headers },
      (res) => {
        answered = true;
        const declared = Number(res.headers["content-length"]);
        let into: Buffer | null = null;
        if (Number.isFinite(declared) && declared >= 0) {
          if (scratch) {
            if (!scratch.buffer || scratch.buffer.length < declared) scratch.buffer = Buffer.allocUnsafe(declared);
            into = scratch.buffer.subarray(0, declared);
          } else into = Buffer.allocUnsafe(declared);
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          if (into && size + c.length <= into.length) into.set(c, size);
          else chunks.push(c);
          size += c.length;
        });
        res.once("end", () => {
          const out =
            into && chunks.length === 0 && size === into.length
              ? into
              : Buffer.concat(into ? [into.subarray(0, Math.min(size, into.length)), ...chunks] : chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: out });
        });
        res.once("error", (e) => reject(new TypeError(`response failed: ${e.message}`, { cause: e })));
      },
    );
    req.once("error", (e: NodeJS.ErrnoException) => {
      if (signal?.aborted) return reject(abortError());
      if (mayRetry && !answered && req.reusedSocket && STALE_SOCKET.has(e.code ?? "")) {
        attempt(url, method, headers, body, signal, false, scratch).then(resolve, reject);
        return;
      }
      reject(new TypeError(`request failed: ${e.message}`, { cause: e }));
    });
    if (signal) {
      const onAbort = () => req.destroy();
      signal.addEventListener("abort", onAbort, { once: true });
      req.once("close", () => signal.removeEventListener("abort", onAbort));
    }
    req.end(body);
  });
}

function abortError(): Error {
  const e = new Error("the request was aborted");
  e.name = "AbortError";
  return e;
}

/** Throws the server's error (`{error:{code,message,details}}`) of a non-2xx BytesResponse. */
export function raiseForBytes(res: BytesResponse): never {
  let code = "HTTP_" + res.status;
  let message = http.STATUS_CODES[res.status] ?? "";
  let details: Record<string, unknown> | undefined;
  try {
    const parsed = JSON.parse(res.body.toString("utf8")) as {
      error?: { code: string; message: string; details?: Record<string, unknown> };
    };
    if (parsed.error) ({ code, message, details } = parsed.error);
  } catch {
    // not a JSON error body
  }
  throw new TributaryClientError(res.status, code, message, details);
}
