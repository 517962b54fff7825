/**
 * State values to and from changelog bytes, keeping the types CEL works with: JSON cannot tell
 * an int (BigInt) from a double, nor hold a timestamp, bytes, a set or a map with non-string
 * keys, and a restored reducer must see exactly the accumulator it left (`acc + 1` on an int
 * must not become a double). Tagged objects carry those: `{"$b": "12"}` a BigInt,
 * `{"$d": ms}` a Date, `{"$y": base64}` bytes, `{"$s": [...]}` a Set, `{"$m": [[k, v]...]}` a
 * Map, and `{"$o": {...}}` a plain object whose own keys start with `$`.
 */

const MAX_DEPTH = 64;

function tag(v: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new Error("state value nests deeper than 64 levels");
  if (v === null || typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number") return Number.isFinite(v) ? v : { $n: String(v) };
  if (typeof v === "bigint") return { $b: v.toString() };
  if (v === undefined) return null;
  if (v instanceof Date) return { $d: v.getTime() };
  if (v instanceof Uint8Array) return { $y: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") };
  if (Array.isArray(v)) return v.map((x) => tag(x, depth + 1));
  if (v instanceof Set) return { $s: [...v].map((x) => tag(x, depth + 1)) };
  if (v instanceof Map) return { $m: [...v].map(([k, x]) => [tag(k, depth + 1), tag(x, depth + 1)]) };
  if (typeof v === "object") {
    const out: Record<string, unknown> = {};
    let dollar = false;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (k.startsWith("$")) dollar = true;
      out[k] = tag(x, depth + 1);
    }
    return dollar ? { $o: out } : out;
  }
  throw new Error(`cannot keep a ${typeof v} in state`);
}

function untag(v: unknown): unknown {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(untag);
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1) {
    const [k] = keys;
    const x = o[k];
    switch (k) {
      case "$b":
        return BigInt(x as string);
      case "$n":
        return Number(x);
      case "$d":
        return new Date(x as number);
      case "$y":
        return new Uint8Array(Buffer.from(x as string, "base64"));
      case "$s":
        return new Set((x as unknown[]).map(untag));
      case "$m":
        return new Map((x as [unknown, unknown][]).map(([a, b]) => [untag(a), untag(b)]));
      case "$o": {
        const out: Record<string, unknown> = {};
        for (const [kk, xx] of Object.entries(x as Record<string, unknown>)) out[kk] = untag(xx);
        return out;
      }
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) out[k] = untag(x);
  return out;
}

/** A state value as changelog bytes. */
export function encodeState(v: unknown): Buffer {
  return Buffer.from(JSON.stringify(tag(v, 0)), "utf8");
}

/** Changelog bytes back to the state value, types and all. */
export function decodeState(bytes: Uint8Array): unknown {
  return untag(JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8")));
}
