/**
 * What the editor's CEL fields complete (issue #16): the variables every pipeline expression has,
 * with the types inferred for the records reaching the node (record-types.ts) — the value's
 * fields where they are known before anything runs (an aggregate's `value.window.start` and
 * results, a map literal's keys, a join's `left`/`right`) — and the fields of the records a
 * preview saw arriving there (`value.user` of a JSON topic, whose type is only known per record).
 */
import type { CelField } from "../cel/index.ts";
import type { TCompletion, TPipelineEdge, TPipelineNode, TPipelineTypes } from "../schemas/pipeline.ts";
import { PIPELINE_VARIABLES } from "./expression.ts";
import { inferRecordTypes, type ExpressionScope, type RecordType } from "./record-types.ts";

/** Fields of sampled records followed this deep (`value.a.b.c`), and at most this many per node. */
const SAMPLE_DEPTH = 3;
const SAMPLE_FIELDS = 200;

/** `name` as CEL selects it from `prefix`: `.name` when it is an identifier, else `["name"]`. */
export function selectField(prefix: string, name: string): string {
  return isIdentifier(name) ? `${prefix}.${name}` : `${prefix}[${JSON.stringify(name)}]`;
}

function isIdentifier(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
    if (!letter && !(i > 0 && c >= 48 && c <= 57)) return false;
  }
  return true;
}

const pathOf = (variable: string, f: CelField) => f.path.reduce(selectField, variable);

/** A variable and its known fields. */
function variable(name: string, r: RecordType): TCompletion[] {
  return [{ label: name, type: r.value }, ...(r.fields ?? []).map((f) => ({ label: pathOf(name, f), type: f.type }))];
}

function scopeCompletions(scope: ExpressionScope): TCompletion[] {
  const out: TCompletion[] = [];
  for (const [name, type] of Object.entries(PIPELINE_VARIABLES)) {
    if (name === "key") out.push({ label: "key", type: scope.input.key });
    else if (name === "value") out.push(...variable("value", scope.input));
    else out.push({ label: name, type });
  }
  for (const [name, r] of Object.entries(scope.extra)) out.push(...variable(name, r));
  return out;
}

const portType = (r: RecordType) => ({
  key: r.key,
  value: r.value,
  fields: (r.fields ?? []).map((f) => ({ path: f.path.join("."), type: f.type })),
});

/** The record type at every port, and each node's completions (those of fields with extra variables apart). */
export function pipelineTypes(graph: { nodes: readonly TPipelineNode[]; edges: readonly TPipelineEdge[] }): TPipelineTypes {
  const { inputs, outputs, scopes, nodeInputs } = inferRecordTypes(graph);
  const nodes: TPipelineTypes["nodes"] = {};
  for (const n of graph.nodes) nodes[n.id] = { inputs: {}, outputs: {}, completions: [], expressions: {} };
  for (const [where, map] of [
    ["inputs", inputs],
    ["outputs", outputs],
  ] as const) {
    for (const [at, r] of map) {
      const i = at.lastIndexOf(":");
      const node = nodes[at.slice(0, i)];
      if (node) node[where][at.slice(i + 1)] = portType(r);
    }
  }
  for (const [id, r] of nodeInputs) if (nodes[id]) nodes[id].completions = scopeCompletions({ input: r, extra: {} });
  for (const [id, fields] of scopes) {
    for (const [field, scope] of fields)
      if (nodes[id] && Object.keys(scope.extra).length > 0) nodes[id].expressions[field] = scopeCompletions(scope);
  }
  return { nodes };
}

/** A JSON value's type as CEL names it. */
function jsonType(v: unknown): string {
  if (v === null) return "null_type";
  if (Array.isArray(v)) return "list";
  switch (typeof v) {
    case "string":
      return "string";
    case "number":
      return Number.isInteger(v) ? "int" : "double";
    case "boolean":
      return "bool";
    default:
      return "map";
  }
}

function collect(prefix: string, v: unknown, depth: number, out: Map<string, string>): void {
  if (v === null || typeof v !== "object" || Array.isArray(v) || depth > SAMPLE_DEPTH) return;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (out.size >= SAMPLE_FIELDS) return;
    const path = selectField(prefix, k);
    const seen = out.get(path);
    out.set(path, seen === undefined || seen === jsonType(x) ? jsonType(x) : "dyn");
    collect(path, x, depth + 1, out);
  }
}

/** A shown record: the port it left by, its key, value and headers as JSON. */
interface Sampled {
  port: string;
  key: unknown;
  value: unknown;
  headers: Readonly<Record<string, string>>;
}

/** By node: the fields of the sampled records that arrived at it, from the records its upstream nodes emitted. */
export function sampledFields(
  edges: readonly TPipelineEdge[],
  nodes: Readonly<Record<string, { records: readonly Sampled[] }>>,
): Record<string, TCompletion[]> {
  const by = new Map<string, Map<string, string>>();
  for (const e of edges) {
    const out = by.get(e.to.node) ?? new Map<string, string>();
    by.set(e.to.node, out);
    for (const r of nodes[e.from.node]?.records ?? []) {
      if (r.port !== e.from.port) continue;
      collect("value", r.value, 1, out);
      collect("key", r.key, 1, out);
      for (const h of Object.keys(r.headers)) if (out.size < SAMPLE_FIELDS) out.set(selectField("headers", h), "string");
    }
  }
  const result: Record<string, TCompletion[]> = {};
  for (const [node, fields] of by) {
    if (fields.size) result[node] = [...fields].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([label, type]) => ({ label, type }));
  }
  return result;
}
