import { Environment } from "@marcbachmann/cel-js";
import type { FetchedRecord } from "../broker/broker.ts";
import { ApiError } from "./api-error.ts";

/** What a search filter sees of a record. */
export interface RecordFilter {
  /** true: the record matches; a CEL evaluation failure is reported as `error` (no match). */
  test(partition: number, r: FetchedRecord): { match: boolean; error?: string };
  usesCel: boolean;
}

export interface RecordFilterInput {
  keyContains?: string;
  valueContains?: string;
  headerContains?: string;
  cel?: string;
}

/**
 * The CEL environment of message search. Expressions are parsed and type-checked by cel-js
 * (no loops, no host code): user text is never handed to eval/Function/vm.
 */
function celEnvironment(): Environment {
  return new Environment({ limits: { maxAstNodes: 2000, maxDepth: 64, maxListElements: 1000, maxMapEntries: 1000, maxCallArguments: 32 } })
    .registerVariable("key", "dyn")
    .registerVariable("value", "dyn")
    .registerVariable("headers", "map<string, string>")
    .registerVariable("partition", "int")
    .registerVariable("offset", "int")
    .registerVariable("timestamp", "google.protobuf.Timestamp");
}

const utf8 = (b: Buffer | null): string | null => (b === null ? null : b.toString("utf8"));

/** JSON when the text is a JSON document, else the text itself (CEL sees `value` either way). */
function jsonOrText(s: string | null): unknown {
  if (s === null) return null;
  const c = s.trimStart()[0];
  if (c === "{" || c === "[" || c === '"' || c === "-" || (c >= "0" && c <= "9") || c === "t" || c === "f" || c === "n") {
    try {
      return JSON.parse(s);
    } catch {
      // plain text that merely starts like JSON
    }
  }
  return s;
}

/**
 * Compiles the text and CEL filters of a search once. A CEL expression that does not parse or
 * type-check, or does not return bool, is a VALIDATION_FAILED (400) carrying cel-js's message.
 */
export function compileRecordFilter(input: RecordFilterInput): RecordFilter {
  const keyNeedle = input.keyContains ? input.keyContains.toLowerCase() : null;
  const valueNeedle = input.valueContains ? input.valueContains.toLowerCase() : null;
  const headerNeedle = input.headerContains ? input.headerContains.toLowerCase() : null;
  let program: ((ctx: Record<string, unknown>) => unknown) | null = null;
  const cel = input.cel?.trim();
  if (cel) {
    const env = celEnvironment();
    let check: { valid: boolean; type?: string; error?: { message: string } };
    try {
      check = env.check(cel) as typeof check;
    } catch (e) {
      check = { valid: false, error: { message: (e as Error).message } };
    }
    if (!check.valid) {
      throw new ApiError("VALIDATION_FAILED", `invalid cel: ${check.error?.message ?? "the expression does not compile"}`, {
        field: "cel",
      });
    }
    if (check.type !== "bool" && check.type !== "dyn") {
      throw new ApiError("VALIDATION_FAILED", `invalid cel: the expression must return bool, not ${check.type}`, { field: "cel" });
    }
    program = env.parse(cel) as unknown as (ctx: Record<string, unknown>) => unknown;
  }
  return {
    usesCel: program !== null,
    test(partition, r) {
      const key = keyNeedle !== null || program ? utf8(r.key) : null;
      if (keyNeedle !== null && !(key ?? "").toLowerCase().includes(keyNeedle)) return { match: false };
      const value = valueNeedle !== null || program ? utf8(r.value) : null;
      if (valueNeedle !== null && !(value ?? "").toLowerCase().includes(valueNeedle)) return { match: false };
      if (headerNeedle !== null) {
        const hit = r.headers.some(
          (h) => h.key.toLowerCase().includes(headerNeedle) || (utf8(h.value) ?? "").toLowerCase().includes(headerNeedle),
        );
        if (!hit) return { match: false };
      }
      if (!program) return { match: true };
      const headers: Record<string, string> = {};
      for (const h of r.headers) headers[h.key] = utf8(h.value) ?? "";
      try {
        const out = program({
          key,
          value: jsonOrText(value),
          headers,
          partition: BigInt(partition),
          offset: BigInt(r.offset),
          timestamp: new Date(r.timestamp),
        });
        if (typeof out !== "boolean") return { match: false, error: `expression returned ${typeof out}, not bool (offset ${r.offset})` };
        return { match: out };
      } catch (e) {
        return { match: false, error: `${(e as Error).message.split("\n")[0]} (partition ${partition}, offset ${r.offset})` };
      }
    },
  };
}
