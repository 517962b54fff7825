import type { TSearchRecord } from "@/server/schemas/console";

/** Messages as pretty JSON (the array shown in the table). */
export function toJson(rows: readonly TSearchRecord[]): string {
  return JSON.stringify(rows, null, 2);
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? "" : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Messages as CSV (RFC 4180): one row per record, headers as a JSON cell. */
export function toCsv(rows: readonly TSearchRecord[]): string {
  const head = [
    "topic",
    "partition",
    "offset",
    "timestamp",
    "timestampType",
    "key",
    "keyEncoding",
    "value",
    "valueEncoding",
    "headers",
    "transaction",
  ];
  const lines = [head.join(",")];
  for (const r of rows) {
    lines.push(
      [
        r.topic,
        r.partition,
        r.offset,
        new Date(r.timestamp).toISOString(),
        r.timestampType,
        r.key,
        r.keyEncoding,
        r.value,
        r.valueEncoding,
        JSON.stringify(r.headers),
        r.transaction,
      ]
        .map(csvCell)
        .join(","),
    );
  }
  return lines.join("\r\n") + "\r\n";
}

export function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function bytesOf(value: string, encoding: "utf8" | "base64"): Uint8Array {
  if (encoding === "utf8") return new TextEncoder().encode(value);
  const bin = atob(value);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** A hex dump: offset, 16 bytes in hex, and their printable ASCII. */
export function hexDump(value: string, encoding: "utf8" | "base64", limit = 64 * 1024): string {
  const b = bytesOf(value, encoding);
  const lines: string[] = [];
  for (let i = 0; i < Math.min(b.length, limit); i += 16) {
    const chunk = b.subarray(i, i + 16);
    const hex = Array.from(chunk, (x) => x.toString(16).padStart(2, "0")).join(" ");
    const ascii = Array.from(chunk, (x) => (x >= 32 && x < 127 ? String.fromCharCode(x) : ".")).join("");
    lines.push(`${i.toString(16).padStart(8, "0")}  ${hex.padEnd(47)}  ${ascii}`);
  }
  if (b.length > limit) lines.push(`… ${b.length - limit} more bytes`);
  return lines.join("\n");
}

export function prettyJson(value: string): string | null {
  try {
    return JSON.stringify(JSON.parse(value), null, 2);
  } catch {
    return null;
  }
}
