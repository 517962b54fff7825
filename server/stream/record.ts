/**
 * A record as a pipeline sees it: key and value decoded by the source's formats (JSON, text or
 * bytes), headers as text, the event time in ms, and where it came from (for dead letters and
 * offsets). Encoding back to bytes for a sink turns CEL's values into JSON: ints (BigInt) as
 * numbers when they fit a double exactly, else as decimal strings; timestamps as ISO text;
 * bytes as base64.
 */

import { isUtf8 } from "node:buffer";

export type RecordFormat = "json" | "text" | "bytes";

export interface StreamRecord {
  key: unknown;
  value: unknown;
  headers: Record<string, string>;
  /** event time, ms since the epoch */
  timestamp: number;
  /** the input record it derives from: topic, partition and offset */
  origin: { topic: string; partition: number; offset: number };
}

/** Why bytes could not be decoded in the declared format. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DecodeError";
  }
}

/** Bytes (or null) → the value a pipeline sees, per `format`. Throws DecodeError. */
export function decode(bytes: Uint8Array | null, format: RecordFormat, what: "key" | "value"): unknown {
  if (bytes === null) return null;
  if (format === "bytes") return bytes;
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return decodeRange(b, 0, b.length, format, what);
}

/** Buffer's own UTF-8 decoder of a range (`toString("utf8", …)` without its argument handling). */
type Utf8Slicing = Buffer & { utf8Slice(start: number, end: number): string };

/**
 * `decode` of the `length` bytes of `buf` from `start` (length -1: null), text read straight from
 * `buf` (no view of the range made). As TextDecoder's fatal mode: bytes that are not UTF-8 are
 * refused (the decoder would put U+FFFD for them, so only text holding one is checked), and a
 * leading byte order mark is dropped.
 */
export function decodeRange(buf: Buffer, start: number, length: number, format: RecordFormat, what: "key" | "value"): unknown {
  if (length < 0) return null;
  if (format === "bytes") return buf.subarray(start, start + length);
  let text = (buf as Utf8Slicing).utf8Slice(start, start + length);
  if (text.includes("\uFFFD") && !isUtf8(buf.subarray(start, start + length))) throw new DecodeError(`${what} is not UTF-8 text`);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (format === "text") return text;
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new DecodeError(`${what} is not JSON: ${(e as Error).message}`);
  }
}

/** A CEL result as plain JSON data (BigInt, Date, bytes and Map made JSON-safe). */
export function toJsonData(v: unknown, depth = 0): unknown {
  if (depth > 64) throw new DecodeError("value nests deeper than 64 levels");
  if (v === null || typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number") return Number.isFinite(v) ? v : String(v);
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64");
  if (Array.isArray(v)) return v.map((x) => toJsonData(x, depth + 1));
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), toJsonData(x, depth + 1)]));
  if (typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = toJsonData(x, depth + 1);
    return out;
  }
  if (v === undefined) return null;
  throw new DecodeError(`cannot encode a ${typeof v}`);
}

/**
 * Whether JSON.stringify writes `v` exactly as `toJsonData` would make it: only null, text,
 * booleans, finite numbers, arrays and plain objects (no BigInt, Date, bytes, Map, undefined),
 * nested at most 64 deep. Checked without copying, so most values are written without the copy.
 */
function plainJson(v: unknown, depth: number): boolean {
  if (v === null || typeof v === "string" || typeof v === "boolean") return true;
  if (typeof v === "number") return Number.isFinite(v);
  if (typeof v !== "object" || depth > 64) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!plainJson(v[i], depth + 1)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  for (const k in v) if (!plainJson((v as Record<string, unknown>)[k], depth + 1)) return false;
  return true;
}

/**
 * A key or value → bytes for a sink: text as UTF-8, bytes as they are, anything else as JSON.
 * Text is encoded straight into a Buffer (Node's pool for short ones), which a producer takes
 * as it is: one copy of a record's bytes, not two.
 */
export function encode(v: unknown): Uint8Array | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Uint8Array) return v;
  if (typeof v === "string") return Buffer.from(v, "utf8");
  return Buffer.from(jsonText(v), "utf8");
}

/**
 * A sink value as the producer takes it: bytes as a Buffer (a view of the same memory), text and
 * JSON as their text, which the producer writes into its batch as UTF-8 (no Buffer of its own
 * per record: `encode`'s copy cost the stateless benchmark ~5% of its CPU and a third of its
 * output's allocations).
 */
export function encodeForProducer(v: unknown): Buffer | string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Uint8Array) return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (typeof v === "string") return v;
  return jsonText(v);
}

/** A CEL value as JSON text: written as it is when it holds only plain JSON data, else as its `toJsonData`. */
export function jsonText(v: unknown): string {
  if (typeof v === "string") return quoted(v);
  return JSON.stringify(plainJson(v, 0) ? v : toJsonData(v));
}

/**
 * A string as JSON text, as JSON.stringify writes it: quoted as it is when it holds only
 * printable ASCII other than a quote or a backslash (a key, mostly: an aggregate's group, a
 * table's lookup, for every record), else by JSON.stringify (escapes, lone surrogates).
 */
function quoted(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return JSON.stringify(s);
  }
  return `"${s}"`;
}
