/**
 * The record type at each port of a pipeline, and every expression type-checked against the
 * records that reach it (issue #15: "type-checked at validation against the declared or inferred
 * record type of each port").
 *
 * A source's (or table's) formats give its records' types — JSON `dyn`, text `string`, bytes
 * `bytes` for key and value — and each node passes them on: filters, branches, dedupes and merges
 * as they came (a merge of different types is `dyn`), a map or selectKey with its expressions'
 * result types, a flatMap with its list's element type, an aggregate with a `map<string, dyn>`
 * of its results, a join with its value expression's type (or the `map<string, dyn>` of
 * `left`/`right`). Headers are always `map<string, string>` and the timestamp a timestamp.
 *
 * The programs that run still declare key and value `dyn` (server/stream/expression.ts): a
 * record without a key must reach them. So this check is what says, before anything runs, that
 * `value.amount` cannot work on a text value or `key + 1` on a text key; `key == null` passes
 * (string and bytes may be null here).
 */
import { CelCompileError, checkCel, declarableType } from "../cel/index.ts";
import type { PipelineProblem, TNodeConfig, TPipelineEdge, TPipelineNode } from "../schemas/pipeline.ts";
import { PIPELINE_VARIABLES, RESULT_TYPES } from "./expression.ts";
import type { RecordFormat } from "./record.ts";

/** The CEL types of a record's key and value at a port. */
export interface RecordType {
  key: string;
  value: string;
}

/** What a record read in each format is to CEL. */
export const FORMAT_TYPES: Readonly<Record<RecordFormat, string>> = { json: "dyn", text: "string", bytes: "bytes" };

const UNKNOWN: RecordType = { key: "dyn", value: "dyn" };
/** An aggregate's result value, and a join's without a value expression. */
const RESULT_MAP = "map<string, dyn>";
/** What `sum`, `min`, `max` and `avg` add up. */
const NUMBERS = ["int", "double", "uint", "dyn"];

export interface RecordTypes {
  /** the record type at each output port, by "node:port" */
  outputs: Map<string, RecordType>;
  /** expressions that do not type-check against their node's input records, each at its node and field */
  problems: PipelineProblem[];
}

/**
 * Infers the record type of every output port, each node once, asking its inputs' types first,
 * and checks each node's expressions against the type of its input on the way.
 */
export function inferRecordTypes(def: { nodes: readonly TPipelineNode[]; edges: readonly TPipelineEdge[] }): RecordTypes {
  const outputs = new Map<string, RecordType>();
  const problems: PipelineProblem[] = [];
  const byId = new Map(def.nodes.map((n) => [n.id, n]));
  const seen = new Set<string>(); // visited or being visited (a cycle is refused by the graph rules)
  const visit = (id: string): void => {
    const n = byId.get(id);
    if (!n || seen.has(id)) return;
    seen.add(id);
    const inputOf = (port: string): RecordType => {
      const from = def.edges.filter((e) => e.to.node === id && e.to.port === port);
      for (const e of from) visit(e.from.node);
      return unify(from.map((e) => outputs.get(`${e.from.node}:${e.from.port}`)));
    };
    const check: Check = (field, source, accepts, input, extra = {}) =>
      source === undefined ? undefined : checked(id, field, source, accepts, input, extra, problems);
    for (const [port, type] of outputsOf(n.config, inputOf, check)) outputs.set(`${id}:${port}`, type);
  };
  for (const n of def.nodes) visit(n.id);
  return { outputs, problems };
}

type Check = (
  field: string,
  source: string | undefined,
  accepts: readonly string[],
  input: RecordType,
  extra?: Record<string, string>,
) => string | undefined;

/** A node's output ports and their record types, its expressions checked with `check`. */
function outputsOf(c: TNodeConfig, input: (port: string) => RecordType, check: Check): [string, RecordType][] {
  switch (c.kind) {
    case "source": {
      const out = { key: FORMAT_TYPES[c.keyFormat], value: FORMAT_TYPES[c.valueFormat] };
      check("eventTime", c.eventTime, RESULT_TYPES.time, out);
      return [["out", out]];
    }
    case "table":
      return [["out", { key: FORMAT_TYPES[c.keyFormat], value: FORMAT_TYPES[c.valueFormat] }]];
    case "filter":
      check("condition", c.condition, RESULT_TYPES.condition, input("in"));
      return [["out", input("in")]];
    case "map": {
      const r = input("in");
      const key = check("key", c.key, RESULT_TYPES.any, r);
      const value = check("value", c.value, RESULT_TYPES.any, r);
      check("headers", c.headers, RESULT_TYPES.headers, r);
      return [["out", { key: key ?? r.key, value: value ?? r.value }]];
    }
    case "flatMap": {
      const r = input("in");
      const list = check("values", c.values, RESULT_TYPES.list, r);
      const element = list?.match(/^list<(.+)>$/)?.[1] ?? "dyn";
      return [["out", { key: r.key, value: element }]];
    }
    case "selectKey": {
      const r = input("in");
      return [["out", { key: check("key", c.key, RESULT_TYPES.any, r) ?? "dyn", value: r.value }]];
    }
    case "branch": {
      const r = input("in");
      c.branches.forEach((b, i) => check(`branches.${i}.condition`, b.condition, RESULT_TYPES.condition, r));
      return [...c.branches.map((b) => [b.name, r] as [string, RecordType]), ["default", r]];
    }
    case "aggregate": {
      const r = input("in");
      c.aggregations.forEach((a, i) => {
        if (a.fn === "reduce") {
          check(`aggregations.${i}.init`, a.init, RESULT_TYPES.any, r);
          check(`aggregations.${i}.add`, a.add, RESULT_TYPES.any, r, { acc: "dyn" });
        } else if (a.fn !== "count") check(`aggregations.${i}.of`, a.of, a.fn === "distinctCount" ? RESULT_TYPES.any : NUMBERS, r);
      });
      return [
        ["out", { key: r.key, value: RESULT_MAP }],
        ["late", r],
      ];
    }
    case "join": {
      const left = input("left");
      const right = input("right");
      // either side's record may trigger the join; a side a left or outer join may lack is null
      const extra = {
        left: c.type === "outer" ? "dyn" : left.value,
        right: c.type === "inner" ? right.value : "dyn",
      };
      const value = check("value", c.value, RESULT_TYPES.any, unify([left, right]), extra);
      const out: [string, RecordType] = ["out", { key: unify([left, right]).key, value: value ?? RESULT_MAP }];
      return c.windowMs === undefined ? [out] : [out, ["late", unify([left, right])]];
    }
    case "dedupe":
      check("by", c.by, RESULT_TYPES.any, input("in"));
      return [
        ["out", input("in")],
        ["late", input("in")],
      ];
    case "merge":
      return [["out", input("in")]];
    case "sink":
    case "deadLetter":
      return [];
  }
}

/**
 * Type-checks one expression against `input`: its result type as a variable type (for the
 * next node), or undefined with a problem when it does not check.
 */
function checked(
  node: string,
  field: string,
  source: string,
  accepts: readonly string[],
  input: RecordType,
  extra: Record<string, string>,
  problems: PipelineProblem[],
): string | undefined {
  try {
    const variables = { ...PIPELINE_VARIABLES, key: input.key, value: input.value, ...extra };
    const { resultType } = checkCel(source, { variables, resultTypes: accepts, mixedLiterals: true, nullableScalars: true });
    return declarableType(resultType);
  } catch (e) {
    if (!(e instanceof CelCompileError)) throw e;
    const [first, ...rest] = e.message.split("\n");
    const where = Object.entries({ key: input.key, value: input.value, ...extra })
      .map(([name, type]) => `${name} is ${type}`)
      .join(", ");
    const message = accepts === NUMBERS ? first.replace("must return int,", "must return a number,") : first;
    problems.push({ node, field: `config.${field}`, message: [`${message} (records here: ${where})`, ...rest].join("\n") });
    return undefined;
  }
}

/** One type for records from several edges: theirs if they agree, else dyn (key and value apart). */
function unify(types: (RecordType | undefined)[]): RecordType {
  const known = types.filter((t): t is RecordType => t !== undefined);
  if (known.length === 0) return UNKNOWN;
  const one = (part: keyof RecordType) => (known.every((t) => t[part] === known[0][part]) ? known[0][part] : "dyn");
  return { key: one("key"), value: one("value") };
}
