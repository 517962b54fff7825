/** JSON ⇄ bytes for records: how the REST and WebSocket APIs carry keys, values and headers. */
import type { FetchedRecord, ProduceRecord } from "../broker/broker.ts";
import type { TProduceRecord, TRecord } from "../schemas/record.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function valueBytes(value: unknown): Buffer | null {
  if (value === undefined || value === null) return null;
  return Buffer.from(typeof value === "string" ? value : JSON.stringify(value), "utf8");
}

/** Validated JSON record → broker record. `timestamp` may be an ISO date-time. */
export function toProduceRecord(r: TProduceRecord): ProduceRecord {
  const key = r.keyBase64 !== undefined ? Buffer.from(r.keyBase64, "base64") : r.key == null ? null : Buffer.from(r.key, "utf8");
  const value = r.valueBase64 !== undefined ? Buffer.from(r.valueBase64, "base64") : valueBytes(r.value);
  const headers = Array.isArray(r.headers)
    ? r.headers.map((h) => ({
        key: h.key,
        value: h.valueBase64 !== undefined ? Buffer.from(h.valueBase64, "base64") : h.value == null ? null : Buffer.from(h.value, "utf8"),
      }))
    : Object.entries(r.headers ?? {}).map(([k, v]) => ({ key: k, value: v === null ? null : Buffer.from(v, "utf8") }));
  const timestamp = typeof r.timestamp === "string" ? Date.parse(r.timestamp) : r.timestamp;
  return { key, value, headers, timestamp, partition: r.partition };
}

function text(b: Buffer | null, forceBase64: boolean): { v: string | null; enc: "utf8" | "base64" } {
  if (b === null) return { v: null, enc: "utf8" };
  if (!forceBase64) {
    try {
      const s = decoder.decode(b);
      // control characters (other than tab and newlines) mean binary data, not text
      if (!CONTROL.test(s)) return { v: s, enc: "utf8" };
    } catch {
      // not UTF-8: fall through to base64
    }
  }
  return { v: b.toString("base64"), enc: "base64" };
}

/** Broker record → JSON record: UTF-8 bytes as text, anything else as base64. */
export function toRecordJson(topic: string, partition: number, r: FetchedRecord, forceBase64 = false): TRecord {
  const key = text(r.key, forceBase64);
  const value = text(r.value, forceBase64);
  return {
    topic,
    partition,
    offset: r.offset,
    timestamp: r.timestamp,
    timestampType: r.timestampType,
    key: key.v,
    keyEncoding: key.enc,
    value: value.v,
    valueEncoding: value.enc,
    headers: r.headers.map((h) => {
      const t = text(h.value, forceBase64);
      return { key: h.key, value: t.v, valueEncoding: t.enc };
    }),
    sizeBytes: (r.key?.length ?? 0) + (r.value?.length ?? 0),
  };
}
