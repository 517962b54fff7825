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
import { CelCompileError, checkCel, declarableType, type CelField } from "../cel/index.ts";
import type { PipelineProblem, TNodeConfig, TPipelineEdge, TPipelineNode } from "../schemas/pipeline.ts";
import { PIPELINE_VARIABLES, RESULT_TYPES } from "./expression.ts";
import type { RecordFormat } from "./record.ts";

/** The CEL types of a record's key and value at a port. */
export interface RecordType {
  key: string;
  value: string;
  /** the value's fields known before anything runs (an aggregate's results, a map literal's keys), if any */
  fields?: readonly CelField[];
}

/** What a record read in each format is to CEL. */
export const FORMAT_TYPES: Readonly<Record<RecordFormat, string>> = { json: "dyn", text: "string", bytes: "bytes" };

const UNKNOWN: RecordType = { key: "dyn", value: "dyn" };
/** An aggregate's result value, and a join's without a value expression. */
const RESULT_MAP = "map<string, dyn>";
/** What `sum`, `min`, `max` and `avg` add up. */
const NUMBERS = ["int", "double", "uint", "dyn"];

/** What an expression of a node sees: the record type it runs over, and the variables some fields add (`acc`, `left`, `right`). */
export interface ExpressionScope {
  input: RecordType;
  extra: Readonly<Record<string, RecordType>>;
}

export interface RecordTypes {
  /** the record type at each output port, by "node:port" */
  outputs: Map<string, RecordType>;
  /** the record type arriving at each input port, by "node:port" */
  inputs: Map<string, RecordType>;
  /** by node, then by config field (`condition`, `aggregations.0.add`): what its expression sees, set or not */
  scopes: Map<string, Map<string, ExpressionScope>>;
  /** by node: the records its expressions see unless a field says otherwise (its inputs together; a source its own) */
  nodeInputs: Map<string, RecordType>;
  /** expressions that do not type-check against their node's input records, each at its node and field */
  problems: PipelineProblem[];
}

/**
 * Infers the record type of every output port, each node once, asking its inputs' types first,
 * and checks each node's expressions against the type of its input on the way.
 */
export function inferRecordTypes(def: { nodes: readonly TPipelineNode[]; edges: readonly TPipelineEdge[] }): RecordTypes {
  const outputs = new Map<string, RecordType>();
  const inputs = new Map<string, RecordType>();
  const scopes = new Map<string, Map<string, ExpressionScope>>();
  const nodeInputs = new Map<string, RecordType>();
  const problems: PipelineProblem[] = [];
  const byId = new Map(def.nodes.map((n) => [n.id, n]));
  const seen = new Set<string>(); // visited or being visited (a cycle is refused by the graph rules)
  const visit = (id: string): void => {
    const n = byId.get(id);
    if (!n || seen.has(id)) return;
    seen.add(id);
    const arriving: RecordType[] = [];
    const inputOf = (port: string): RecordType => {
      const from = def.edges.filter((e) => e.to.node === id && e.to.port === port);
      for (const e of from) visit(e.from.node);
      const type = unify(from.map((e) => outputs.get(`${e.from.node}:${e.from.port}`)));
      inputs.set(`${id}:${port}`, type);
      arriving.push(type);
      return type;
    };
    const check: Check = (field, source, accepts, input, extra = {}) => {
      const scope = scopes.get(id) ?? new Map<string, ExpressionScope>();
      scopes.set(id, scope.set(field, { input, extra }));
      if (source === undefined) return undefined;
      const variables = Object.fromEntries(Object.entries(extra).map(([k, t]) => [k, t.value]));
      return checked(id, field, source, accepts, input, variables, problems);
    };
    for (const [port, type] of outputsOf(n.config, inputOf, check)) outputs.set(`${id}:${port}`, type);
    nodeInputs.set(id, arriving.length ? unify(arriving) : (outputs.get(`${id}:out`) ?? UNKNOWN));
  };
  for (const n of def.nodes) visit(n.id);
  return { outputs, inputs, scopes, nodeInputs, problems };
}

/** Checks an expression (when set) against its input and extra variables: its result type and fields, or undefined. */
type Check = (
  field: string,
  source: string | undefined,
  accepts: readonly string[],
  input: RecordType,
  extra?: Record<string, RecordType>,
) => Checked | undefined;

interface Checked {
  type: string;
  fields: readonly CelField[];
}

/** A record type whose value is an expression's result (its map literal's fields, if any). */
const withValue = (r: RecordType, value: Checked | undefined): RecordType =>
  value ? { key: r.key, value: value.type, ...(value.fields.length ? { fields: value.fields } : {}) } : r;

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
      return [["out", { ...withValue(r, value), key: key?.type ?? r.key }]];
    }
    case "flatMap": {
      const r = input("in");
      const list = check("values", c.values, RESULT_TYPES.list, r)?.type;
      const element = list?.startsWith("list<") && list.endsWith(">") ? list.slice(5, -1) : "dyn";
      return [["out", { key: r.key, value: element }]];
    }
    case "selectKey": {
      const r = input("in");
      return [["out", { ...r, key: check("key", c.key, RESULT_TYPES.any, r)?.type ?? "dyn" }]];
    }
    case "branch": {
      const r = input("in");
      c.branches.forEach((b, i) => check(`branches.${i}.condition`, b.condition, RESULT_TYPES.condition, r));
      return [...c.branches.map((b) => [b.name, r] as [string, RecordType]), ["default", r]];
    }
    case "aggregate": {
      const r = input("in");
      // the value: the window ({start, end} in ms, when windowed) and one field per aggregation
      const fields: CelField[] = c.window
        ? [
            { path: ["window"], type: "map<string, int>" },
            { path: ["window", "start"], type: "int" },
            { path: ["window", "end"], type: "int" },
          ]
        : [];
      c.aggregations.forEach((a, i) => {
        let type = a.fn === "count" || a.fn === "distinctCount" ? "int" : a.fn === "avg" ? "double" : "dyn";
        if (a.fn === "reduce") {
          type = check(`aggregations.${i}.init`, a.init, RESULT_TYPES.any, r)?.type ?? "dyn";
          check(`aggregations.${i}.add`, a.add, RESULT_TYPES.any, r, { acc: { key: "dyn", value: "dyn" } });
        } else if (a.fn !== "count") check(`aggregations.${i}.of`, a.of, a.fn === "distinctCount" ? RESULT_TYPES.any : NUMBERS, r);
        fields.push({ path: [a.as], type });
      });
      return [
        ["out", { key: r.key, value: RESULT_MAP, fields }],
        ["late", r],
      ];
    }
    case "join": {
      const left = input("left");
      const right = input("right");
      // either side's record may trigger the join; a side a left or outer join may lack is null
      const extra = {
        left: c.type === "outer" ? { ...left, value: "dyn" } : left,
        right: c.type === "inner" ? right : { ...right, value: "dyn" },
      };
      const value = check("value", c.value, RESULT_TYPES.any, unify([left, right]), extra);
      const key = unify([left, right]).key;
      const late: [string, RecordType][] = c.windowMs === undefined ? [] : [["late", unify([left, right])]];
      if (value) return [["out", withValue({ key, value: RESULT_MAP }, value)], ...late];
      // by default {"left": left, "right": right}
      const sides = (["left", "right"] as const).flatMap((side) => [
        { path: [side], type: extra[side].value },
        ...(extra[side].fields ?? []).map((f) => ({ path: [side, ...f.path], type: f.type })),
      ]);
      return [["out", { key, value: RESULT_MAP, fields: sides }], ...late];
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
      input("in"); // what it writes (its input's type, for the editor)
      return [];
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
): Checked | undefined {
  try {
    const variables = { ...PIPELINE_VARIABLES, key: input.key, value: input.value, ...extra };
    const { resultType, fields } = checkCel(source, { variables, resultTypes: accepts, mixedLiterals: true, nullableScalars: true });
    return { type: declarableType(resultType), fields };
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

/** One type for records from several edges: theirs if they agree, else dyn (key and value apart); the fields all of them have. */
function unify(types: (RecordType | undefined)[]): RecordType {
  const known = types.filter((t): t is RecordType => t !== undefined);
  if (known.length === 0) return UNKNOWN;
  if (known.length === 1) return known[0];
  const one = (part: "key" | "value") => (known.every((t) => t[part] === known[0][part]) ? known[0][part] : "dyn");
  const name = (f: CelField) => f.path.join(".");
  const fields = (known[0].fields ?? []).filter((f) => known.every((t) => t.fields?.some((g) => name(g) === name(f) && g.type === f.type)));
  return { key: one("key"), value: one("value"), ...(fields.length ? { fields } : {}) };
}
