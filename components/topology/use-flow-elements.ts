"use client";
/**
 * The topology as React Flow nodes and edges. The layout (ELK, off the main thread) runs only
 * when the graph's shape changes — nodes, their sizes, who feeds whom — never for rates, lag or
 * offsets; and a flow node or edge object is made anew only when what it shows changed, so the
 * memoised nodes and edges that did not change are not redrawn each second.
 */
import { useEffect, useMemo, useRef, useState } from "react";
import { buildGraph, flowPeriodFor, layoutKey, strokeWidthFor, type TopoEdge, type TopoNode } from "./graph";
import type { TopoFlowEdge } from "./flow-edge";
import { layoutTopology, type Positions } from "./layout";
import type { TopologyView } from "./model";
import type { TopoFlowNode } from "./nodes";

interface Cached<T> {
  sig: string;
  flow: T;
}

export interface FlowElements {
  nodes: TopoFlowNode[];
  edges: TopoFlowEdge[];
  /** the layout of the current shape is done (false while ELK works on a new one) */
  laidOut: boolean;
  /** changes whenever a new layout was applied */
  layoutVersion: number;
  layoutError: unknown;
}

export function useFlowElements(view: TopologyView, expanded: ReadonlySet<string>, aspectRatio: number): FlowElements {
  const graph = useMemo(() => buildGraph(view, expanded), [view, expanded]);
  const key = useMemo(() => layoutKey(graph.nodes, graph.edges), [graph]);
  const [layout, setLayout] = useState<{ key: string; positions: Positions; version: number } | null>(null);
  const [layoutError, setLayoutError] = useState<unknown>(null);
  const latest = useRef(graph);
  latest.current = graph;
  const aspect = useRef(aspectRatio);
  aspect.current = aspectRatio;

  useEffect(() => {
    let cancelled = false;
    const { nodes, edges } = latest.current;
    layoutTopology(nodes, edges, aspect.current).then(
      (positions) => {
        if (!cancelled) setLayout((l) => ({ key, positions, version: (l?.version ?? 0) + 1 }));
      },
      (e: unknown) => {
        if (!cancelled) setLayoutError(e);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [key]);

  const nodeCache = useRef(new Map<string, Cached<TopoFlowNode>>());
  const edgeCache = useRef(new Map<string, Cached<TopoFlowEdge>>());
  const positions = layout?.positions;
  const nodes = useMemo(() => flowNodes(graph.nodes, positions, nodeCache.current), [graph, positions]);
  const edges = useMemo(() => flowEdges(graph.edges, edgeCache.current), [graph]);
  return { nodes, edges, laidOut: layout?.key === key, layoutVersion: layout?.version ?? 0, layoutError };
}

function flowNodes(nodes: readonly TopoNode[], positions: Positions | undefined, cache: Map<string, Cached<TopoFlowNode>>): TopoFlowNode[] {
  const seen = new Set<string>();
  const out = nodes.map((n) => {
    seen.add(n.id);
    const at = positions?.get(n.id);
    const sig = `${at ? `${at.x},${at.y}` : "-"}|${n.width}x${n.height}|${JSON.stringify(n.data)}`;
    const c = cache.get(n.id);
    if (c && c.sig === sig) return c.flow;
    const flow: TopoFlowNode = {
      id: n.id,
      type: n.kind,
      position: at ?? { x: 0, y: 0 },
      // a node the layout has not placed yet waits out of sight
      hidden: !at,
      data: n.data,
      width: n.width,
      height: n.height,
      draggable: false,
      connectable: false,
    };
    cache.set(n.id, { sig, flow });
    return flow;
  });
  for (const id of cache.keys()) if (!seen.has(id)) cache.delete(id);
  return out;
}

function flowEdges(edges: readonly TopoEdge[], cache: Map<string, Cached<TopoFlowEdge>>): TopoFlowEdge[] {
  const seen = new Set<string>();
  const out = edges.map((e) => {
    seen.add(e.id);
    // what the edge shows of its rate is its width and dash speed: a new rate in the same bucket redraws nothing
    const sig = `${strokeWidthFor(e.data.rate).toFixed(1)}|${flowPeriodFor(e.data.rate)}|${e.data.lag}|${e.data.unowned ?? false}`;
    const c = cache.get(e.id);
    if (c && c.sig === sig) return c.flow;
    const flow: TopoFlowEdge = {
      id: e.id,
      type: "flow",
      source: e.source,
      sourceHandle: e.sourceHandle,
      target: e.target,
      targetHandle: e.targetHandle,
      data: e.data,
      focusable: false,
    };
    cache.set(e.id, { sig, flow });
    return flow;
  });
  for (const id of cache.keys()) if (!seen.has(id)) cache.delete(id);
  return out;
}
