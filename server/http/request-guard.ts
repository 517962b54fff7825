/**
 * The edge every request passes before anything else answers it (Next's pages and API, the
 * binary fast path, the WebSocket upgrade). It refuses, with the JSON error body:
 * - a Host header that is not a loopback address or a configured name (DNS rebinding: a page
 *   whose name now resolves to 127.0.0.1 would otherwise read the whole API under its own origin);
 * - a change (POST/PUT/PATCH/DELETE) that a browser marks as coming from another site: a foreign
 *   Origin, or Sec-Fetch-Site other than same-origin/none. Browsers send "simple" cross-site
 *   requests without a preflight, so CORS alone would not stop them;
 * - a change with a body that is neither JSON nor a record batch (what forms and no-cors
 *   fetches can send);
 * - a path whose percent-encoding does not decode (400, instead of the router's plain 500);
 * - a method the API path does not answer (405 with Allow).
 * No CORS headers are ever sent: pages of other origins get nothing they can read.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { allowedMethods } from "./api-methods.ts";
import type { OriginPolicy } from "./origin-policy.ts";
import { ERROR_CODES, type ErrorCode } from "../errors/error-codes.ts";

export interface Refusal {
  status: number;
  /** One of the table's codes; "" for the 204 answer to OPTIONS, which is not an error. */
  code: ErrorCode | "";
  message: string;
  details?: Record<string, unknown>;
  headers?: Record<string, string>;
}

const CHANGES = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const PAGE_METHODS = ["GET", "HEAD"];
/** Pages under /api: the interactive API reference (app/api/docs/page.tsx). */
const API_PAGES = new Set(["/api/docs"]);
/** Bodies a change may carry: JSON (any +json type) or Kafka record batches. */
const BODY_TYPE = /^application\/(json|[\w.+-]+\+json|vnd\.kafka\.record-batch)\s*(;|$)/i;

function refusal(code: ErrorCode, message: string, extra: Partial<Refusal> = {}): Refusal {
  return { status: ERROR_CODES[code].httpStatus, code, message, ...extra };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A request whose headers say a body follows (a declared length above 0, or chunked). */
function hasBody(req: IncomingMessage): boolean {
  if (req.headers["transfer-encoding"] !== undefined) return true;
  const len = header(req, "content-length");
  return len !== undefined && len.trim() !== "0";
}

/** Every path segment must decode as UTF-8 percent-encoding (what the router will decode). */
function checkPath(pathname: string): Refusal | null {
  if (!pathname.includes("%")) return null;
  const segments = pathname.split("/");
  for (let i = 0; i < segments.length; i++) {
    try {
      decodeURIComponent(segments[i]);
    } catch {
      return refusal("VALIDATION_FAILED", `path segment ${i} ('${segments[i].slice(0, 100)}') is not valid percent-encoded UTF-8`, {
        details: { field: "path", segment: segments[i].slice(0, 100) },
      });
    }
  }
  return null;
}

/** No trailing slash, empty, `.` or `..` segment (plain or percent-encoded). */
function isCanonical(pathname: string): boolean {
  if (pathname === "/") return true;
  const segments = pathname.split("/");
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i].toLowerCase();
    if (seg === "" || seg === "." || seg === ".." || seg === "%2e" || seg === "%2e%2e" || seg === ".%2e" || seg === "%2e.") return false;
  }
  return true;
}

/** Host and cross-site checks shared by requests and WebSocket upgrades. */
function checkOrigin(req: IncomingMessage, policy: OriginPolicy, acting: boolean): Refusal | null {
  const host = header(req, "host");
  if (!policy.allowsHost(host)) {
    return refusal(
      "HOST_NOT_ALLOWED",
      `this server does not answer for Host '${(host ?? "").slice(0, 200)}'; allow it with TRIBUTARY_ALLOWED_HOSTS`,
      {
        details: { field: "host" },
      },
    );
  }
  if (!acting) return null;
  const origin = header(req, "origin");
  if (!policy.allowsOrigin(origin, host)) {
    return refusal(
      "CROSS_SITE_REQUEST",
      `requests from origin '${(origin ?? "").slice(0, 200)}' are refused; allow it with TRIBUTARY_ALLOWED_ORIGINS`,
      {
        details: { field: "origin" },
      },
    );
  }
  const site = header(req, "sec-fetch-site");
  // an Origin the operator allowed explicitly is cross-site by nature
  if (site !== undefined && site !== "same-origin" && site !== "none" && !(origin !== undefined && policy.isConfiguredOrigin(origin))) {
    return refusal("CROSS_SITE_REQUEST", `requests a browser marks Sec-Fetch-Site: ${site.slice(0, 50)} are refused`, {
      details: { field: "sec-fetch-site" },
    });
  }
  return null;
}

/** What to refuse about this request, or null to serve it. */
export function checkRequest(req: IncomingMessage, policy: OriginPolicy): Refusal | null {
  const method = (req.method ?? "GET").toUpperCase();
  const changes = CHANGES.has(method);
  const denied = checkOrigin(req, policy, changes);
  if (denied) return denied;
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const pathname = q < 0 ? url : url.slice(0, q);
  const badPath = checkPath(pathname);
  if (badPath) return badPath;
  if (!isCanonical(pathname)) {
    // Next answers a trailing slash or a dot segment with a 308 to the normalised path, where
    // the method is checked
  } else if ((pathname === "/api" || pathname.startsWith("/api/")) && !API_PAGES.has(pathname)) {
    const allow = allowedMethods(pathname);
    if (allow === null) {
      // the API's catch-all route answers unknown paths with a JSON 404 for the usual methods
      if (!changes && method !== "GET" && method !== "HEAD") {
        return refusal("NOT_FOUND", `no API endpoint ${method} ${pathname.slice(0, 200)}; see /api/v1/openapi.json`);
      }
    } else if (!allow.includes(method)) {
      return refusal("METHOD_NOT_ALLOWED", `${pathname.slice(0, 200)} answers ${allow.join(", ")}, not ${method.slice(0, 20)}`, {
        details: { allow },
        headers: { allow: allow.join(", ") },
      });
    } else if (method === "OPTIONS") {
      // no CORS: the answer names the methods and nothing a foreign page could use
      return { status: 204, code: "", message: "", headers: { allow: allow.join(", ") } };
    }
  } else if (!PAGE_METHODS.includes(method)) {
    return refusal("METHOD_NOT_ALLOWED", `pages answer ${PAGE_METHODS.join(", ")}, not ${method.slice(0, 20)}`, {
      details: { allow: PAGE_METHODS },
      headers: { allow: PAGE_METHODS.join(", ") },
    });
  }
  if (changes && hasBody(req)) {
    const type = header(req, "content-type") ?? "";
    if (!BODY_TYPE.test(type)) {
      return refusal(
        "UNSUPPORTED_MEDIA_TYPE",
        `a ${method} body must be application/json or application/vnd.kafka.record-batch, got '${type.slice(0, 100)}'`,
        {
          details: { field: "content-type" },
        },
      );
    }
  }
  return null;
}

/** What to refuse about a WebSocket upgrade (Host, and Origin for any browser), or null. */
export function checkUpgrade(req: IncomingMessage, policy: OriginPolicy): Refusal | null {
  return checkOrigin(req, policy, true);
}

function body(r: Refusal): string {
  const error: Record<string, unknown> = { code: r.code, message: r.message };
  if (r.details) error.details = r.details;
  return JSON.stringify({ error });
}

/** Sends a refusal; the rest of the request (a body nobody will read) ends the connection. */
export function sendRefusal(req: IncomingMessage, res: ServerResponse, r: Refusal): void {
  const close = hasBody(req) ? { connection: "close" } : {};
  if (r.status === 204) {
    res.writeHead(204, { "cache-control": "no-store", ...r.headers, ...close });
    res.end();
    return;
  }
  const text = body(r);
  res.writeHead(r.status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
    "cache-control": "no-store",
    ...r.headers,
    ...close,
  });
  res.end(text);
}

/** Answers a refused upgrade with a plain HTTP response before any WebSocket handshake. */
export function refuseUpgrade(socket: Duplex, r: Refusal): void {
  const text = body(r);
  const reason = r.status === 421 ? "Misdirected Request" : "Forbidden";
  socket.end(
    `HTTP/1.1 ${r.status} ${reason}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Cache-Control: no-store\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}
