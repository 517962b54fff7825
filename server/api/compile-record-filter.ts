import type { FetchedRecord } from "../broker/broker.ts";
import { CelCompileError, compileCel, type CelProgram, type CostMeter } from "../cel/index.ts";
import { ApiError } from "./api-error.ts";

/** What a search filter sees of a record. */
export interface RecordFilter {
  /**
   * true: the record matches; a CEL evaluation failure (including an expression over its cost
   * budget on this record) is reported as `error` (no match). `exhausted`: the request's whole
   * CEL budget is spent, the search must stop.
   */
  test(partition: number, r: FetchedRecord): { match: boolean; error?: string; exhausted?: boolean };
  usesCel: boolean;
}

export interface RecordFilterInput {
  keyContains?: string;
  valueContains?: string;
  headerContains?: string;
  cel?: string;
}

/** What one search's CEL expression may spend, per record and in total (cost units, see server/cel). */
export interface SearchCelBudget {
  unitsPerRecord: number;
  unitsPerRequest: number;
}

/**
 * Per record: measured here at 50–200 ns a unit on the worst expressions (a loaded 2-core
 * machine), so one record blocks for at most ~10–40 ms, and a 50 ms clock backstop holds the
 * rest. Per request: a few tens of seconds of CPU at most, spread over chunks that yield.
 */
export const DEFAULT_SEARCH_CEL_BUDGET: SearchCelBudget = { unitsPerRecord: 200_000, unitsPerRequest: 200_000_000 };

/** The variables a search expression sees. */
const SEARCH_VARIABLES = {
  key: "dyn",
  value: "dyn",
  headers: "map<string, string>",
  partition: "int",
  offset: "int",
  timestamp: "google.protobuf.Timestamp",
} as const;

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
 * type-check, is not statically bool or is statically too costly is a VALIDATION_FAILED (400)
 * carrying the reason, before any record is read: a `dyn` result (`value.amount`) is refused too,
 * as it would fail on every record; write `value.active == true` or `bool(value.active)`. The
 * message keeps cel-js's source line and caret, so a monospace display points at the mistake.
 * A literal `matches` pattern RE2 refuses is INVALID_REGULAR_EXPRESSION.
 */
export function compileRecordFilter(input: RecordFilterInput, budget: SearchCelBudget = DEFAULT_SEARCH_CEL_BUDGET): RecordFilter {
  const keyNeedle = input.keyContains ? input.keyContains.toLowerCase() : null;
  const valueNeedle = input.valueContains ? input.valueContains.toLowerCase() : null;
  const headerNeedle = input.headerContains ? input.headerContains.toLowerCase() : null;
  let program: CelProgram | null = null;
  let meter: CostMeter | null = null;
  let requestUnitsLeft = budget.unitsPerRequest;
  const cel = input.cel?.trim();
  if (cel) {
    program = compileSearchCel(cel, budget);
    meter = program.newMeter();
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
      if (!program || !meter) return { match: true };
      if (requestUnitsLeft <= 0) {
        return {
          match: false,
          exhausted: true,
          error: `search stopped: the CEL cost budget of the request (${budget.unitsPerRequest} units) is spent`,
        };
      }
      const headers: Record<string, string> = {};
      for (const h of r.headers) headers[h.key] = utf8(h.value) ?? "";
      try {
        const out = program.evaluate(
          {
            key,
            value: jsonOrText(value),
            headers,
            partition: BigInt(partition),
            offset: BigInt(r.offset),
            timestamp: new Date(r.timestamp),
          },
          meter,
          requestUnitsLeft,
        );
        if (typeof out !== "boolean") return { match: false, error: `expression returned ${typeof out}, not bool (offset ${r.offset})` };
        return { match: out };
      } catch (e) {
        return { match: false, error: `${(e as Error).message.split("\n")[0]} (partition ${partition}, offset ${r.offset})` };
      } finally {
        requestUnitsLeft -= meter.used;
      }
    },
  };
}

function compileSearchCel(cel: string, budget: SearchCelBudget): CelProgram {
  try {
    return compileCel(cel, {
      variables: SEARCH_VARIABLES,
      resultTypes: ["bool"],
      limits: { unitsPerEvaluation: budget.unitsPerRecord },
    });
  } catch (e) {
    if (!(e instanceof CelCompileError)) throw e;
    if (e.code === "INVALID_REGULAR_EXPRESSION")
      throw new ApiError("INVALID_REGULAR_EXPRESSION", `invalid cel: ${e.message}`, { field: "cel" });
    const what = e.code === "CEL_TOO_COSTLY" ? "cel too costly" : "invalid cel";
    throw new ApiError("VALIDATION_FAILED", `${what}: ${e.message}`, { field: "cel" });
  }
}
