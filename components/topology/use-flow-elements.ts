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

  const nodeCache = useRef(new Map<string, CachedNode>());
  const edgeCache = useRef(new Map<string, Cached<TopoFlowEdge>>());
  const positions = layout?.positions;
  const allNodes = useMemo(() => flowNodes(graph.nodes, positions, nodeCache.current), [graph, positions]);
  const allEdges = useMemo(() => flowEdges(graph.edges, edgeCache.current), [graph]);
  // a new layout or a topic opened shows at once; new numbers reach the nodes a few at a time
  const moment = `${layout?.version ?? 0}|${[...expanded].join(",")}`;
  const nodes = useStaged(allNodes, moment, NODES_PER_STEP);
  const edges = useStaged(allEdges, moment, EDGES_PER_STEP);
  return { nodes, edges, laidOut: layout?.key === key, layoutVersion: layout?.version ?? 0, layoutError };
}

/**
 * How many nodes (edges) take new numbers per commit. React Flow draws what changed in one
 * synchronous render of its store, which React cannot split: twenty topics and ten groups
 * changing at once made one task of 50–100 ms on a loaded machine. A few at a time, one step
 * per frame or so, keeps each task short; the last of a second's changes lands within ~0.1 s.
 */
const NODES_PER_STEP = 6;
const EDGES_PER_STEP = 12;
const STEP_MS = 16;

/**
 * `desired` shown a few changed elements at a time (elements are compared by identity, see the
 * caches below). A change of the element list itself, or of `moment`, shows everything at once.
 */
function useStaged<T extends { id: string }>(desired: T[], moment: string, perStep: number): T[] {
  const [shown, setShown] = useState(desired);
  const want = useRef(desired);
  want.current = desired;
  const current = useRef({ list: desired, moment });
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const show = (list: T[]) => {
      current.current = { list, moment };
      setShown(list);
    };
    const step = () => {
      timer = null;
      const d = want.current;
      const s = current.current.list;
      if (d === s) return;
      if (current.current.moment !== moment || d.length !== s.length || d.some((x, i) => x.id !== s[i].id)) return show(d);
      const next = s.slice();
      let changed = 0;
      let rest = false;
      for (let i = 0; i < d.length; i++) {
        if (d[i] === s[i]) continue;
        if (changed < perStep) {
          next[i] = d[i];
          changed++;
        } else rest = true;
      }
      show(rest ? next : d);
      if (rest) timer = setTimeout(step, STEP_MS);
    };
    step();
    return () => {
      if (timer) clearTimeout(timer);
    };
  }, [desired, moment, perStep]);
  return shown;
}

/** The handles a node has: when they change, React Flow must measure the node's handles again. */
function handlesOf(n: TopoNode): string {
  const d = n.data;
  if (d.kind === "topic") return `${d.expanded}:${d.topic.partitions.length}`;
  if (d.kind === "group") return d.group.members.map((m) => m.memberId).join(",");
  return "";
}

interface CachedNode extends Cached<TopoFlowNode> {
  handles: string;
}

function flowNodes(nodes: readonly TopoNode[], positions: Positions | undefined, cache: Map<string, CachedNode>): TopoFlowNode[] {
  const seen = new Set<string>();
  const out = nodes.map((n) => {
    seen.add(n.id);
    const at = positions?.get(n.id);
    const sig = `${at ? `${at.x},${at.y}` : "-"}|${n.width}x${n.height}|${JSON.stringify(n.data)}`;
    const c = cache.get(n.id);
    if (c && c.sig === sig) return c.flow;
    const handles = handlesOf(n);
    const flow: TopoFlowNode = {
      id: n.id,
      type: n.kind,
      position: at ?? { x: 0, y: 0 },
      // a node the layout has not placed yet waits out of sight
      hidden: !at,
      data: n.data,
      width: n.width,
      height: n.height,
      // the size is known (the layout set it): without `measured`, React Flow forgets the node's
      // handles with every new node object, hides its edges and measures it again — each second.
      // Left out once when the handles changed (lanes shown, members replaced), so they are measured.
      ...(c && c.handles === handles ? { measured: { width: n.width, height: n.height } } : {}),
      draggable: false,
      connectable: false,
    };
    cache.set(n.id, { sig, flow, handles });
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
    const sig = `${strokeWidthFor(e.data.rate)}|${flowPeriodFor(e.data.rate)}|${e.data.lag}|${e.data.unowned ?? false}`;
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
