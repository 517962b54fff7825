/**
 * The document as React Flow draws it: one flow node per pipeline node (its type is the node's
 * kind, so the flow node is a discriminated union from the shared schema) and one flow edge per
 * edge. Flow nodes are cached by what they are made of, so a drag re-creates only the dragged
 * nodes and memoised node components skip the rest.
 */
import type { Edge, Node } from "@xyflow/react";
import type { PipelineProblem, TNodeConfig, TNodeKind, TPipelineNode } from "@/server/schemas/pipeline";
import { edgeId, type EditorState, type TPreview } from "./editor-store";

export interface NodeStats {
  received: number;
  emitted: number;
  failed: number;
}

export type PipelineNodeData<K extends TNodeKind = TNodeKind> = {
  /** the node without its position (so a move keeps its data as it was) */
  node: { id: string; label?: string; config: Extract<TNodeConfig, { kind: K }> };
  /** the server's problems pinned to this node */
  problems: readonly PipelineProblem[];
  /** what the last preview saw here */
  stats: NodeStats | null;
};

/** A flow node of each kind: `type` is the pipeline node's kind. */
export type PipelineFlowNode = { [K in TNodeKind]: Node<PipelineNodeData<K>, K> }[TNodeKind];

export type CountEdgeData = { count: number | null; failedTarget: boolean };
export type PipelineFlowEdge = Edge<CountEdgeData, "count">;

const NO_PROBLEMS: readonly PipelineProblem[] = [];

interface Cached {
  node: TPipelineNode;
  selected: boolean;
  measured: { width: number; height: number } | undefined;
  problems: readonly PipelineProblem[];
  stats: NodeStats | null;
  flow: PipelineFlowNode;
}

export class FlowModel {
  private readonly nodes = new Map<string, Cached>();
  private problemsSource: readonly PipelineProblem[] | null = null;
  private problemsByNode = new Map<string, PipelineProblem[]>();
  private previewSource: TPreview | null = null;
  private statsByNode = new Map<string, NodeStats>();

  flowNodes(s: EditorState): PipelineFlowNode[] {
    this.index(s);
    const selected = new Set(s.selectedNodes);
    const seen = new Set<string>();
    const out = s.doc.nodes.map((node) => {
      seen.add(node.id);
      const c = this.nodes.get(node.id);
      const isSelected = selected.has(node.id);
      const measured = s.measured[node.id];
      const problems = this.problemsByNode.get(node.id) ?? NO_PROBLEMS;
      const stats = this.statsByNode.get(node.id) ?? null;
      if (c && c.node === node && c.selected === isSelected && c.measured === measured && c.problems === problems && c.stats === stats)
        return c.flow;
      // a move changes the position only: the data (what the node draws) stays the same object
      const sameData = c && c.node.config === node.config && c.node.label === node.label && c.problems === problems && c.stats === stats;
      const flow = {
        id: node.id,
        type: node.config.kind,
        position: node.position ?? { x: 0, y: 0 },
        data: sameData ? c.flow.data : { node: { id: node.id, label: node.label, config: node.config }, problems, stats },
        selected: isSelected,
        ...(measured ? { measured } : {}),
      } as PipelineFlowNode;
      this.nodes.set(node.id, { node, selected: isSelected, measured, problems, stats, flow });
      return flow;
    });
    for (const id of this.nodes.keys()) if (!seen.has(id)) this.nodes.delete(id);
    return out;
  }

  flowEdges(s: EditorState): PipelineFlowEdge[] {
    const selected = new Set(s.selectedEdges);
    const counts = s.preview?.edges;
    return s.doc.edges.map((e) => {
      const id = edgeId(e);
      return {
        id,
        type: "count" as const,
        source: e.from.node,
        sourceHandle: e.from.port,
        target: e.to.node,
        targetHandle: e.to.port,
        selected: selected.has(id),
        data: { count: counts ? (counts[id] ?? 0) : null, failedTarget: false },
      };
    });
  }

  private index(s: EditorState): void {
    if (s.problems !== this.problemsSource) {
      this.problemsSource = s.problems;
      const by = new Map<string, PipelineProblem[]>();
      for (const p of s.problems) if (p.node) by.set(p.node, [...(by.get(p.node) ?? []), p]);
      // keep the old arrays where nothing changed, so those nodes keep their flow objects
      for (const [id, list] of by) {
        const old = this.problemsByNode.get(id);
        if (old && old.length === list.length && old.every((p, i) => p.message === list[i].message && p.field === list[i].field))
          by.set(id, old);
      }
      this.problemsByNode = by;
    }
    if (s.preview !== this.previewSource) {
      this.previewSource = s.preview;
      this.statsByNode = new Map(
        Object.entries(s.preview?.nodes ?? {}).map(([id, n]) => [id, { received: n.received, emitted: n.emitted, failed: n.failed }]),
      );
    }
  }
}

/** A short line describing a node's config, drawn under its title. */
export function summaryOf(config: TNodeConfig): string {
  switch (config.kind) {
    case "source":
      return config.topics?.length ? config.topics.join(", ") : (config.topicPattern ?? "no topic yet");
    case "table":
    case "sink":
    case "deadLetter":
      return config.topic || "no topic yet";
    case "filter":
      return config.condition || "no condition yet";
    case "map":
      return [config.key && `key: ${config.key}`, config.value && `value: ${config.value}`, config.headers && "headers"]
        .filter(Boolean)
        .join(" · ");
    case "flatMap":
      return config.values || "no list yet";
    case "selectKey":
      return config.key || "no key yet";
    case "branch":
      return config.branches.map((b) => b.name).join(", ");
    case "merge":
      return "merges its inputs";
    case "aggregate": {
      const fns = config.aggregations.map((a) => a.fn).join(", ");
      const w = config.window;
      if (!w) return `${fns} (table)`;
      const size = w.type === "sliding" ? w.timeDifferenceMs : w.type === "session" ? w.gapMs : w.sizeMs;
      return `${fns} · ${w.type} ${formatDuration(size)}${config.emit === "final" ? " · final" : ""}`;
    }
    case "join":
      return `${config.type}${config.windowMs ? ` within ${formatDuration(config.windowMs)}` : ""}`;
    case "dedupe":
      return `within ${formatDuration(config.windowMs)}`;
  }
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return "?";
  if (ms % 86_400_000 === 0 && ms > 0) return `${ms / 86_400_000} d`;
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0 && ms > 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}
