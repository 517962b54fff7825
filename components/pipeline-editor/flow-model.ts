/**
 * The document as React Flow draws it: one flow node per pipeline node (its type is the node's
 * kind, so the flow node is a discriminated union from the shared schema) and one flow edge per
 * edge. Flow nodes are cached by what they are made of, so a drag re-creates only the dragged
 * nodes and memoised node components skip the rest.
 */
import type { Edge, Node } from "@xyflow/react";
import type { PipelineProblem, TNodeConfig, TNodeKind, TPipelineMetrics, TPipelineNode } from "@/server/schemas/pipeline";
import { edgeId, type EditorState, type TPreview } from "./editor-store";

export interface NodeStats {
  received: number;
  emitted: number;
  failed: number;
}

/** What the running pipeline reports of a node (see the running view, use-running-metrics.ts). */
export interface NodeLive {
  errors: number;
  late: number;
  /** records of the node's input topics not yet read (sources and tables, as the server measured), null for other nodes */
  lag: number | null;
  watermark: number | null;
  /** the pipeline's failure, when it names this node */
  failure: string | null;
}

export type PipelineNodeData<K extends TNodeKind = TNodeKind> = {
  /** the node without its position (so a move keeps its data as it was) */
  node: { id: string; label?: string; config: Extract<TNodeConfig, { kind: K }> };
  /** the server's problems pinned to this node */
  problems: readonly PipelineProblem[];
  /** what the last preview saw here */
  stats: NodeStats | null;
  /** what the deployed pipeline reports here (null when it is not deployed) */
  live: NodeLive | null;
};

/** A flow node of each kind: `type` is the pipeline node's kind. */
export type PipelineFlowNode = { [K in TNodeKind]: Node<PipelineNodeData<K>, K> }[TNodeKind];

/** `count`: records that crossed the edge (the running pipeline's, else the last preview's); `perSec`: its rate while running. */
export type CountEdgeData = { count: number | null; perSec: number | null; failedTarget: boolean };
export type PipelineFlowEdge = Edge<CountEdgeData, "count">;

const NO_PROBLEMS: readonly PipelineProblem[] = [];

interface Cached {
  node: TPipelineNode;
  selected: boolean;
  measured: { width: number; height: number } | undefined;
  problems: readonly PipelineProblem[];
  stats: NodeStats | null;
  live: NodeLive | null;
  flow: PipelineFlowNode;
}

export class FlowModel {
  private readonly nodes = new Map<string, Cached>();
  private problemsSource: readonly PipelineProblem[] | null = null;
  private problemsByNode = new Map<string, PipelineProblem[]>();
  private previewSource: TPreview | null = null;
  private statsByNode = new Map<string, NodeStats>();
  private metricsSource: TPipelineMetrics | null = null;
  private liveByNode = new Map<string, NodeLive>();

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
      const live = this.liveByNode.get(node.id) ?? null;
      if (
        c &&
        c.node === node &&
        c.selected === isSelected &&
        c.measured === measured &&
        c.problems === problems &&
        c.stats === stats &&
        c.live === live
      )
        return c.flow;
      // a move changes the position only: the data (what the node draws) stays the same object
      const sameData =
        c &&
        c.node.config === node.config &&
        c.node.label === node.label &&
        c.problems === problems &&
        c.stats === stats &&
        c.live === live;
      const flow = {
        id: node.id,
        type: node.config.kind,
        position: node.position ?? { x: 0, y: 0 },
        data: sameData ? c.flow.data : { node: { id: node.id, label: node.label, config: node.config }, problems, stats, live },
        selected: isSelected,
        ...(measured ? { measured } : {}),
      } as PipelineFlowNode;
      this.nodes.set(node.id, { node, selected: isSelected, measured, problems, stats, live, flow });
      return flow;
    });
    for (const id of this.nodes.keys()) if (!seen.has(id)) this.nodes.delete(id);
    return out;
  }

  flowEdges(s: EditorState): PipelineFlowEdge[] {
    const selected = new Set(s.selectedEdges);
    // while deployed, the edges count what the upstream port emitted; else what the last preview saw
    const running = s.metrics?.running ? s.metrics.nodes : null;
    const counts = s.preview?.edges;
    return s.doc.edges.map((e) => {
      const id = edgeId(e);
      const port = running ? (running[e.from.node]?.out[e.from.port] ?? { records: 0, perSec: 0 }) : null;
      return {
        id,
        type: "count" as const,
        source: e.from.node,
        sourceHandle: e.from.port,
        target: e.to.node,
        targetHandle: e.to.port,
        selected: selected.has(id),
        data: {
          count: port ? port.records : counts ? (counts[id] ?? 0) : null,
          perSec: port ? port.perSec : null,
          failedTarget: false,
        },
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
    if (s.preview !== this.previewSource || s.metrics !== this.metricsSource) {
      this.previewSource = s.preview;
      // while running, a node counts what it received and emitted since the version started (its errors are a badge)
      const running = s.metrics?.running ? s.metrics.nodes : null;
      const stats: [string, NodeStats][] = running
        ? Object.entries(running).map(([id, n]) => [id, { received: n.recordsIn, emitted: n.recordsOut, failed: 0 }])
        : Object.entries(s.preview?.nodes ?? {}).map(([id, n]) => [id, { received: n.received, emitted: n.emitted, failed: n.failed }]);
      const old = this.statsByNode;
      this.statsByNode = new Map(
        stats.map(([id, n]) => {
          const o = old.get(id);
          return [id, o && o.received === n.received && o.emitted === n.emitted && o.failed === n.failed ? o : n];
        }),
      );
    }
    if (s.metrics !== this.metricsSource) {
      this.metricsSource = s.metrics;
      const by = new Map<string, NodeLive>();
      if (s.metrics) {
        for (const node of s.doc.nodes) {
          const live = liveOf(node, s.metrics);
          // keep the old object where nothing changed, so that node is not drawn again
          const old = this.liveByNode.get(node.id);
          by.set(node.id, old && sameLive(old, live) ? old : live);
        }
      }
      this.liveByNode = by;
    }
  }
}

function sameLive(a: NodeLive, b: NodeLive): boolean {
  return a.errors === b.errors && a.late === b.late && a.lag === b.lag && a.watermark === b.watermark && a.failure === b.failure;
}

function liveOf(node: TPipelineNode, m: TPipelineMetrics): NodeLive {
  const n = m.nodes[node.id];
  return {
    errors: n?.errors ?? 0,
    late: n?.late ?? 0,
    // measured by the server per source and table (server/stream/runtime/pipeline-metrics.ts)
    lag: m.running ? (n?.lag ?? null) : null,
    watermark: n?.watermark ?? null,
    failure: m.error && m.error.node === node.id ? m.error.message : null,
  };
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
