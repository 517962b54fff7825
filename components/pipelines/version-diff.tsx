"use client";
/**
 * The difference between two definitions of a pipeline, drawn: the graph of both with each node
 * and edge colored by what happened to it (added green, removed red and dashed, changed amber),
 * then every changed field before → after, the nodes added and removed with their configs, and
 * the edges.
 */
import type { ReactNode } from "react";
import type { TDiffEdge, TFieldChange, TPipelineDiff } from "@/server/schemas/pipeline-diff";
import { PipelineSketch, type SketchEdge, type SketchNode, type Tone } from "./pipeline-sketch";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The nodes and edges of a definition that may be an unfinished draft. */
function graphOf(def: unknown): { nodes: SketchNode[]; edges: TDiffEdge[] } {
  const d = isObject(def) ? def : {};
  const nodes = (Array.isArray(d.nodes) ? d.nodes : []).filter(isObject).map((n, i) => ({
    id: typeof n.id === "string" ? n.id : `nodes[${i}]`,
    kind: isObject(n.config) && typeof n.config.kind === "string" ? n.config.kind : "unknown",
  }));
  const edges = (Array.isArray(d.edges) ? d.edges : [])
    .filter((e): e is TDiffEdge => isObject(e) && isObject(e.from) && isObject(e.to))
    .map((e) => ({
      from: { node: String(e.from.node), port: String(e.from.port) },
      to: { node: String(e.to.node), port: String(e.to.port) },
    }));
  return { nodes, edges };
}

const edgeKey = (e: TDiffEdge) => `${e.from.node}:${e.from.port}->${e.to.node}:${e.to.port}`;
const edgeText = (e: TDiffEdge) => `${e.from.node}.${e.from.port} → ${e.to.node}.${e.to.port}`;
const refText = (r: number | "draft") => (r === "draft" ? "the draft" : `v${r}`);

function show(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v, null, 1).replace(/\n\s*/g, " ");
}

function FieldTable({ fields, testId }: { fields: TFieldChange[]; testId: string }) {
  return (
    <table className="diff-fields" data-testid={testId}>
      <tbody>
        {fields.map((f) => (
          <tr key={f.path} data-testid={`${testId}-${f.path}`}>
            <td className="path">{f.path}</td>
            <td className={"before" in f ? "before" : "before unset"} data-testid={`${testId}-${f.path}-before`}>
              {"before" in f ? show(f.before) : "not set"}
            </td>
            <td className={"after" in f ? "after" : "after unset"} data-testid={`${testId}-${f.path}-after`}>
              {"after" in f ? show(f.after) : "not set"}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A node (or the pipeline itself) that was added, removed or changed, in its color. */
function NodeCard({ tone, id, kind, children }: { tone: "added" | "removed" | "changed"; id: string; kind: string; children: ReactNode }) {
  return (
    <section className={`diff-node diff-${tone}`} data-testid={`diff-${tone}-${id}`}>
      <h3>
        <span className="tag">{tone}</span>
        <span>{id}</span>
        <span className="muted small">{kind}</span>
      </h3>
      {children}
    </section>
  );
}

export function VersionDiff({ diff, before, after }: { diff: TPipelineDiff; before: unknown; after: unknown }) {
  const a = graphOf(before);
  const b = graphOf(after);
  const tone = new Map<string, Tone>([
    ...diff.nodes.added.map((n) => [n.id, "added"] as const),
    ...diff.nodes.removed.map((n) => [n.id, "removed"] as const),
    ...diff.nodes.changed.map((n) => [n.id, "changed"] as const),
  ]);
  const removedIds = new Set(diff.nodes.removed.map((n) => n.id));
  const nodes: SketchNode[] = [...b.nodes, ...a.nodes.filter((n) => removedIds.has(n.id))].map((n) => ({
    ...n,
    tone: tone.get(n.id) ?? "same",
  }));
  const added = new Set(diff.edges.added.map(edgeKey));
  const edges: SketchEdge[] = [
    ...b.edges.map((e) => ({ from: e.from.node, to: e.to.node, tone: (added.has(edgeKey(e)) ? "added" : "same") as Tone })),
    ...diff.edges.removed.map((e) => ({ from: e.from.node, to: e.to.node, tone: "removed" as Tone })),
  ];
  const direction = `${refText(diff.from)} → ${refText(diff.to)}`;

  return (
    <div className="stack" data-testid="version-diff">
      <div className="spread">
        <strong data-testid="version-diff-title">{direction}</strong>
        <div className="diff-legend">
          {(["added", "removed", "changed", "same"] as const).map((t) => (
            <span key={t}>
              <i className={`diff-${t}`} />
              {t === "same" ? "unchanged" : t}
            </span>
          ))}
        </div>
      </div>
      <div className="diff-graph-box">
        <PipelineSketch
          size="large"
          nodes={nodes}
          edges={edges}
          testId="diff-graph"
          label={`pipeline graph, ${direction}: ${diff.summary}`}
        />
      </div>
      <div className="small muted" data-testid="version-diff-summary">
        {diff.summary}
        {diff.nodes.moved.length > 0 && diff.summary !== "nodes moved only" ? `; moved on the canvas: ${diff.nodes.moved.join(", ")}` : ""}
      </div>
      {diff.identical && (
        <div className="notice" data-testid="version-diff-identical">
          No difference in how they run{diff.nodes.moved.length > 0 ? ` (only ${diff.nodes.moved.join(", ")} moved on the canvas)` : ""}.
        </div>
      )}
      {diff.statefulChanged.length > 0 && (
        <div className="notice warn" data-testid="version-diff-stateful">
          Stateful node{diff.statefulChanged.length === 1 ? "" : "s"} {diff.statefulChanged.join(", ")} changed: deploying{" "}
          {refText(diff.to)} over {refText(diff.from)} needs a state reset (the stored state would not fit).
        </div>
      )}
      {diff.nodes.changed.map((c) => (
        <NodeCard key={c.id} tone="changed" id={c.id} kind={c.kind}>
          <FieldTable fields={c.fields} testId={`diff-fields-${c.id}`} />
        </NodeCard>
      ))}
      {(["added", "removed"] as const).flatMap((tone) =>
        diff.nodes[tone].map((n) => (
          <NodeCard key={`${tone}-${n.id}`} tone={tone} id={n.id} kind={n.kind}>
            <pre>{JSON.stringify(n.config, null, 2)}</pre>
          </NodeCard>
        )),
      )}
      {diff.edges.added.length + diff.edges.removed.length > 0 && (
        <section className="stack" style={{ gap: 4 }} data-testid="diff-edges">
          <h3 style={{ margin: "4px 0", fontSize: 13 }}>Edges</h3>
          {diff.edges.added.map((e) => (
            <div key={`+${edgeKey(e)}`} className="diff-edge diff-added" data-testid={`diff-edge-added-${edgeKey(e)}`}>
              + {edgeText(e)}
            </div>
          ))}
          {diff.edges.removed.map((e) => (
            <div key={`-${edgeKey(e)}`} className="diff-edge diff-removed" data-testid={`diff-edge-removed-${edgeKey(e)}`}>
              − {edgeText(e)}
            </div>
          ))}
        </section>
      )}
      {diff.pipeline.length > 0 && (
        <NodeCard tone="changed" id="pipeline" kind="its own fields">
          <FieldTable fields={diff.pipeline} testId="diff-fields-pipeline" />
        </NodeCard>
      )}
    </div>
  );
}
