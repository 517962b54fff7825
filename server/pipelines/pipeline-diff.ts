/**
 * What differs between two definitions of a pipeline: nodes added, removed and changed (with
 * every changed field, by its path inside the node), edges added and removed, the pipeline's
 * own fields. Pure: no I/O, no clock. Nodes are matched by id, edges by their two ports. A
 * draft may be unfinished, so each node is read with its defaults filled when it parses and as
 * it is otherwise: a default left out is then no difference against a stored version. Test
 * cases (`tests`) are not compared: they do not change what runs.
 */
import { STATEFUL_KINDS, ZPipelineNode, ZPipelineSettings, type TNodeKind } from "../schemas/pipeline.ts";
import type { TDiffEdge, TDiffNode, TFieldChange, TPipelineDiff, TVersionRef } from "../schemas/pipeline-diff.ts";

interface Node extends TDiffNode {
  position?: unknown;
  /** the node as compared: everything but id and position */
  body: Record<string, unknown>;
}

interface Shape {
  nodes: Node[];
  edges: TDiffEdge[];
  fields: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** JSON with object keys sorted: equal text ⇔ equal values. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (isObject(v))
    return `{${Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`)
      .join(",")}}`;
  return JSON.stringify(v) ?? "null";
}

function readNode(raw: unknown, index: number): Node | null {
  if (!isObject(raw)) return null;
  const parsed = ZPipelineNode.safeParse(raw);
  const n = (parsed.success ? parsed.data : raw) as Record<string, unknown>;
  const { id, position, ...body } = n;
  const config = isObject(n.config) ? n.config : {};
  return {
    id: typeof id === "string" ? id : `nodes[${index}]`,
    kind: typeof config.kind === "string" ? config.kind : "unknown",
    ...(typeof n.label === "string" ? { label: n.label } : {}),
    config: n.config,
    position,
    body,
  };
}

function readEdge(raw: unknown): TDiffEdge | null {
  if (!isObject(raw) || !isObject(raw.from) || !isObject(raw.to)) return null;
  const port = (p: Record<string, unknown>) => ({ node: String(p.node), port: String(p.port) });
  return { from: port(raw.from), to: port(raw.to) };
}

/** A definition (maybe an unfinished draft) in the shape compared. */
function shapeOf(def: unknown): Shape {
  const d = isObject(def) ? def : {};
  const nodes = (Array.isArray(d.nodes) ? d.nodes : []).map(readNode).filter((n): n is Node => n !== null);
  const edges = (Array.isArray(d.edges) ? d.edges : []).map(readEdge).filter((e): e is TDiffEdge => e !== null);
  const settings = ZPipelineSettings.safeParse(d.settings ?? {});
  return { nodes, edges, fields: { description: d.description, settings: settings.success ? settings.data : d.settings } };
}

/** Every leaf that differs between `before` and `after`, by path (objects and arrays of objects are walked into). */
export function fieldChanges(before: unknown, after: unknown, path = ""): TFieldChange[] {
  if (canonicalJson(before) === canonicalJson(after)) return [];
  const at = (key: string | number) => (typeof key === "number" ? `${path}[${key}]` : path ? `${path}.${key}` : key);
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((k) => fieldChanges(before[k], after[k], at(k)));
  }
  if (Array.isArray(before) && Array.isArray(after) && [...before, ...after].every(isObject)) {
    const length = Math.max(before.length, after.length);
    return Array.from({ length }, (_, i) => fieldChanges(before[i], after[i], at(i))).flat();
  }
  return [{ path, ...(before === undefined ? {} : { before }), ...(after === undefined ? {} : { after }) }];
}

export const edgeKey = (e: TDiffEdge) => `${e.from.node}:${e.from.port}->${e.to.node}:${e.to.port}`;

const publicNode = ({ id, kind, label, config }: Node): TDiffNode => ({ id, kind, ...(label !== undefined ? { label } : {}), config });

/** The difference from `before` to `after` (either any JSON: a stored version or a draft). */
export function diffPipelines(before: unknown, after: unknown, refs: { from: TVersionRef; to: TVersionRef }): TPipelineDiff {
  const a = shapeOf(before);
  const b = shapeOf(after);
  const old = new Map(a.nodes.map((n) => [n.id, n]));
  const now = new Set(b.nodes.map((n) => n.id));
  const added = b.nodes.filter((n) => !old.has(n.id));
  const removed = a.nodes.filter((n) => !now.has(n.id));
  const changed: TPipelineDiff["nodes"]["changed"] = [];
  const moved: string[] = [];
  for (const n of b.nodes) {
    const o = old.get(n.id);
    if (!o) continue;
    const fields = fieldChanges(o.body, n.body);
    if (fields.length > 0) changed.push({ id: n.id, kind: n.kind, ...(n.label !== undefined ? { label: n.label } : {}), fields });
    else if (canonicalJson(o.position) !== canonicalJson(n.position)) moved.push(n.id);
  }
  const oldEdges = new Set(a.edges.map(edgeKey));
  const newEdges = new Set(b.edges.map(edgeKey));
  const edges = { added: b.edges.filter((e) => !oldEdges.has(edgeKey(e))), removed: a.edges.filter((e) => !newEdges.has(edgeKey(e))) };
  const pipeline = fieldChanges(a.fields, b.fields);
  const statefulChanged = statefulOf(changed, b.nodes);
  const diff: Omit<TPipelineDiff, "summary"> = {
    ...refs,
    identical: added.length + removed.length + changed.length + edges.added.length + edges.removed.length + pipeline.length === 0,
    nodes: { added: added.map(publicNode), removed: removed.map(publicNode), changed, moved },
    edges,
    pipeline,
    statefulChanged,
  };
  return { ...diff, summary: summarize(diff) };
}

/** Of the changed nodes, the stateful ones whose config changed (a new label keeps the state). */
function statefulOf(changed: readonly { id: string; fields: TFieldChange[] }[], after: readonly Node[]): string[] {
  const kind = new Map(after.map((n) => [n.id, n.kind]));
  return changed
    .filter((c) => STATEFUL_KINDS.has(kind.get(c.id) as TNodeKind))
    .filter((c) => c.fields.some((f) => f.path === "config" || f.path.startsWith("config.")))
    .map((c) => c.id);
}

/**
 * The stateful nodes whose definition differs from `before` to `after`: their stored state would
 * not fit, so deploying `after` over `before` needs a state reset. Compared by value, not by
 * JSON text: a stored version comes back from PostgreSQL's jsonb with its keys reordered.
 */
export function changedStatefulNodes(before: unknown, after: unknown): string[] {
  const a = new Map(shapeOf(before).nodes.map((n) => [n.id, n]));
  const b = shapeOf(after).nodes;
  const changed = b.flatMap((n) => {
    const o = a.get(n.id);
    return o ? [{ id: n.id, fields: fieldChanges(o.body, n.body) }] : [];
  });
  return statefulOf(changed, b);
}

/** One line: "changed overTen; added dedupe; removed shape; +1 edge, −1 edge; settings". */
export function summarize(d: Omit<TPipelineDiff, "summary">): string {
  const list = (verb: string, ids: string[]) =>
    ids.length === 0 ? [] : [`${verb} ${ids.slice(0, 3).join(", ")}${ids.length > 3 ? ` and ${ids.length - 3} more` : ""}`];
  const plural = (n: number, sign: string) => (n === 0 ? [] : [`${sign}${n} edge${n === 1 ? "" : "s"}`]);
  const edges = [...plural(d.edges.added.length, "+"), ...plural(d.edges.removed.length, "−")].join(", ");
  const parts = [
    ...list(
      "changed",
      d.nodes.changed.map((c) => c.id),
    ),
    ...list(
      "added",
      d.nodes.added.map((n) => n.id),
    ),
    ...list(
      "removed",
      d.nodes.removed.map((n) => n.id),
    ),
    ...(edges ? [edges] : []),
    ...(d.pipeline.length > 0 ? [`pipeline ${d.pipeline.map((f) => f.path).join(", ")}`] : []),
  ];
  if (parts.length > 0) return parts.join("; ");
  return d.nodes.moved.length > 0 ? "nodes moved only" : "no change";
}

/** What each deployed version did, in a few words: the first deploy, a rollback to an earlier one, or what changed since the one before. */
export function versionNotes(versions: readonly { version: number; definition: unknown }[]): Map<number, string> {
  const notes = new Map<number, string>();
  /** canonical definition (positions aside) → the latest version that had it */
  const seen = new Map<string, number>();
  const runs = (def: unknown) => {
    const s = shapeOf(def);
    return canonicalJson({ nodes: s.nodes.map((n) => [n.id, n.body]), edges: s.edges.map(edgeKey).sort(), fields: s.fields });
  };
  let previous: { version: number; definition: unknown } | null = null;
  for (const v of versions) {
    const key = runs(v.definition);
    const same = seen.get(key);
    if (!previous) notes.set(v.version, "first deploy");
    else if (same !== undefined && same !== previous.version) notes.set(v.version, `rollback to v${same}`);
    else notes.set(v.version, diffPipelines(previous.definition, v.definition, { from: previous.version, to: v.version }).summary);
    seen.set(key, v.version);
    previous = v;
  }
  return notes;
}
