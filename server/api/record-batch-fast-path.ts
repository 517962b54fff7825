/**
 * The binary record-batch endpoints served straight from the Node HTTP server, before Next.js:
 * `POST /api/v1/topics/{topic}/records` with Content-Type application/vnd.kafka.record-batch and
 * `GET /api/v1/topics/{topic}/partitions/{p}/records` with Accept of that type, and a group
 * member's poll `GET /api/v1/groups/{g}/members/{m}/records` with that Accept. Same paths, same
 * zod schemas, same services and error bodies as the route handlers in app/api (which still
 * serve everything else); measured, Next's routing cost ~1.5-3 ms of server CPU per request,
 * which capped producers that send many small batches and added to consumers' latency.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";
import { ApiError } from "./api-error.ts";
import { toErrorResponse } from "../errors/error-response.ts";
import { fetchRecordBatches } from "./fetch-record-batches.ts";
import { ABANDONS_BODY, collectBody, MAX_REQUEST_BYTES, partitionParam, validationError, type ReservedBody } from "./http.ts";
import { pollGroupRecordBatches } from "./poll-group-record-batches.ts";
import { produceRecordBatches } from "./produce-record-batches.ts";
import { ZGroupId, ZMemberId, ZPollQuery } from "../schemas/group.ts";
import { ZFetchQuery, ZProduceQuery } from "../schemas/record.ts";
import { RECORD_BATCH_CONTENT_TYPE } from "../schemas/limits.ts";
import { ZTopicName } from "../schemas/topic.ts";

const PRODUCE = /^\/api\/v1\/topics\/([^/]+)\/records$/;
const FETCH = /^\/api\/v1\/topics\/([^/]+)\/partitions\/([^/]+)\/records$/;
const GROUP_POLL = /^\/api\/v1\/groups\/([^/]+)\/members\/([^/]+)\/records$/;

/**
 * The path exactly as sent, for matching here and in the handler alike: a URL parser would
 * resolve the dot segments of `/topics/../records` (`%2e%2e` too) into a path that no longer
 * matches, while the topic `..` deserves the same 400 as any other invalid topic name.
 */
function pathOf(req: IncomingMessage): string {
  return (req.url ?? "").split("?")[0];
}

/** True when the request is one of the binary endpoints (then it is answered here). */
export function isRecordBatchRequest(req: IncomingMessage): boolean {
  const path = pathOf(req);
  if (req.method === "POST") return (req.headers["content-type"] ?? "").startsWith(RECORD_BATCH_CONTENT_TYPE) && PRODUCE.test(path);
  if (req.method === "GET")
    return (req.headers.accept ?? "").includes(RECORD_BATCH_CONTENT_TYPE) && (FETCH.test(path) || GROUP_POLL.test(path));
  return false;
}

function parse<S extends z.ZodType>(schema: S, data: unknown, where: string): z.output<S> {
  const r = schema.safeParse(data);
  if (!r.success) throw validationError(r.error, where);
  return r.data;
}

function query(url: URL): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of url.searchParams) {
    if (k in out) throw new ApiError("VALIDATION_FAILED", `query parameter '${k}' is given more than once`);
    out[k] = v;
  }
  return out;
}

/** The stored batches go out as they are, one write each in a single corked flush (no concatenation). */
function sendParts(res: ServerResponse, parts: Buffer[], headers: Record<string, string>): void {
  let length = 0;
  for (const p of parts) length += p.length;
  res.writeHead(200, {
    "cache-control": "no-store",
    "content-length": String(length),
    "content-type": RECORD_BATCH_CONTENT_TYPE,
    ...headers,
  });
  res.cork();
  for (const p of parts) res.write(p);
  res.uncork();
  res.end();
}

function decoded(raw: string, what: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new ApiError("VALIDATION_FAILED", `${what} is not validly URL-encoded`);
  }
}

function topicOf(raw: string): string {
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    throw new ApiError("VALIDATION_FAILED", "topic is not a valid URL-encoded name");
  }
  return parse(ZTopicName, name, "topic");
}

/**
 * The body within the limit, the body timeout and the request-body memory budget (reserved as
 * it arrives; see collectBody), released by the caller once the batch is stored.
 */
function readBody(req: IncomingMessage, signal: AbortSignal): Promise<ReservedBody> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (Number.isFinite(declared) && declared > MAX_REQUEST_BYTES) {
    return Promise.reject(
      new ApiError("REQUEST_TOO_LARGE", `request body of ${declared} bytes exceeds the limit of ${MAX_REQUEST_BYTES} bytes`),
    );
  }
  const chunks = req[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  return collectBody({ next: () => chunks.next(), cancel: () => req.pause() }, MAX_REQUEST_BYTES, signal).then((body) => {
    if (Number.isFinite(declared) && body.bytes.length !== declared) {
      body.release();
      throw new ApiError("VALIDATION_FAILED", `the body has ${body.bytes.length} bytes, its Content-Length says ${declared}`);
    }
    return body;
  });
}

/** isRecordBatchRequest matched the same path; a miss here would be a bug, answered as a 404 all the same. */
function matchOf(pattern: RegExp, path: string): RegExpExecArray {
  const m = pattern.exec(path);
  if (!m) throw new ApiError("NOT_FOUND", `no API endpoint ${path}; see /api/v1/openapi.json`);
  return m;
}

function send(res: ServerResponse, status: number, body: Buffer | string, headers: Record<string, string>): void {
  res.writeHead(status, { "cache-control": "no-store", "content-length": String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

/** Answers a request for which isRecordBatchRequest() was true. Never throws. */
export async function handleRecordBatchRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const aborted = new AbortController();
  // only a client gone while the request is served matters (an abort makes a DOMException, with
  // its stack: ~2% of the server's CPU when every request's close aborted)
  let served = false;
  res.once("close", () => {
    if (!served) aborted.abort();
  });
  try {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method === "POST") {
      const [, rawTopic] = matchOf(PRODUCE, pathOf(req));
      const topic = topicOf(rawTopic);
      const q = parse(ZProduceQuery, query(url), "query");
      const body = await readBody(req, aborted.signal);
      try {
        send(res, 200, JSON.stringify(await produceRecordBatches(topic, q.partition, body.bytes, q.transactionalId, q.clientId)), {
          "content-type": "application/json; charset=utf-8",
        });
      } finally {
        body.release();
      }
      return;
    }
    const poll = GROUP_POLL.exec(pathOf(req));
    if (poll) {
      const groupId = parse(ZGroupId, decoded(poll[1], "group"), "group");
      const memberId = parse(ZMemberId, decoded(poll[2], "member"), "member");
      const q = parse(ZPollQuery, query(url), "query");
      sendParts(res, await pollGroupRecordBatches(groupId, memberId, { ...q, signal: aborted.signal }), {});
      return;
    }
    const [, rawTopic, rawPartition] = matchOf(FETCH, pathOf(req));
    const topic = topicOf(rawTopic);
    const partition = partitionParam(rawPartition);
    const q = parse(ZFetchQuery, query(url), "query");
    const r = await fetchRecordBatches(topic, partition, { ...q, signal: aborted.signal });
    sendParts(res, r.parts, r.headers);
  } catch (e) {
    const { status, body } = toErrorResponse(e);
    // an oversized body is left unread: the connection cannot carry another request
    const close: Record<string, string> = ABANDONS_BODY.has(body.error.code) ? { connection: "close" } : {};
    if (!res.headersSent) send(res, status, JSON.stringify(body), { "content-type": "application/json; charset=utf-8", ...close });
    else res.destroy();
  } finally {
    served = true;
  }
}
