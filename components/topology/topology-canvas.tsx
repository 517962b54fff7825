"use client";
/**
 * The live topology drawn by React Flow: laid out by ELK when its shape changes, fitted to the
 * view once laid out the first time. Clicking a node opens its console page (a partition lane
 * its messages, a member its group); the buttons inside nodes do their own thing.
 */
import { Background, Controls, MiniMap, ReactFlow, useReactFlow, type NodeMouseHandler, type ReactFlowInstance } from "@xyflow/react";
import { useRouter } from "next/navigation";
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { useDarkMode } from "../api-docs/use-dark-mode";
import { ErrorBox } from "../ui/status";
import { EDGE_TYPES, type TopoFlowEdge } from "./flow-edge";
import { consolePage, type TopologyView } from "./model";
import { NODE_TYPES, type TopoFlowNode } from "./nodes";
import { useFlowElements } from "./use-flow-elements";

/** Where a click on a node leads: what was clicked inside it decides (lane, member), else the node's own page. */
export function clickTarget(node: TopoFlowNode, target: Element | null): string | null {
  if (target?.closest("button, a, input, select, textarea, .topo-no-nav")) return null;
  const d = node.data;
  switch (d.kind) {
    case "topic": {
      const lane = target?.closest("[data-partition]");
      return consolePage.topic(d.topic.name, lane ? Number(lane.getAttribute("data-partition")) : undefined);
    }
    case "group":
      return consolePage.group(d.group.id);
    case "pipeline":
      return consolePage.pipeline(d.pipeline.name);
    case "producer":
      return consolePage.producer(d.producer);
  }
}

/** Below this zoom a node's text cannot be read. */
const READABLE_ZOOM = 0.55;
const FIT_PAD = 24;

/**
 * The whole picture when it fits at a zoom where its text can still be read; otherwise its
 * top-left part at that zoom (the minimap shows the rest, a drag or the fit button reaches it).
 */
function fitReadably(flow: ReactFlowInstance<TopoFlowNode, TopoFlowEdge>, width: number, height: number): void {
  const placed = flow.getNodes().filter((n) => !n.hidden);
  if (placed.length === 0 || width === 0 || height === 0) return;
  const b = flow.getNodesBounds(placed);
  const zoom = Math.min(1, (width - 2 * FIT_PAD) / b.width, (height - 2 * FIT_PAD) / b.height);
  if (zoom >= READABLE_ZOOM) void flow.fitView({ nodes: placed, maxZoom: 1, padding: 0.08 });
  else void flow.setViewport({ x: FIT_PAD - b.x * READABLE_ZOOM, y: FIT_PAD - b.y * READABLE_ZOOM, zoom: READABLE_ZOOM });
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** The node and everything connected to it (producers, topics, groups, pipelines), at most 40. */
function connectedTo(id: string, edges: readonly TopoFlowEdge[]): Set<string> {
  const seen = new Set([id]);
  const queue = [id];
  while (queue.length > 0 && seen.size < 40) {
    const at = queue.shift()!;
    for (const e of edges) {
      const other = e.source === at ? e.target : e.target === at ? e.source : null;
      if (other && !seen.has(other)) {
        seen.add(other);
        queue.push(other);
      }
    }
  }
  return seen;
}

/**
 * How many of each thing the canvas holds (also those scrolled out of view, which React Flow
 * does not render), as data attributes for tests and tools.
 */
function countsOf(nodes: readonly TopoFlowNode[]) {
  const c = { producer: 0, topic: 0, consumerGroup: 0, pipeline: 0, members: 0 };
  for (const n of nodes) {
    c[n.type as keyof typeof c]++;
    if (n.data.kind === "group") c.members += n.data.group.members.filter((m) => m.inGroup).length;
  }
  return c;
}

export function TopologyCanvas({
  view,
  expanded,
  onDragOver,
  onDrop,
  dropping,
  focus,
  children,
}: {
  view: TopologyView;
  expanded: ReadonlySet<string>;
  onDragOver?: (e: React.DragEvent) => void;
  onDrop?: (e: React.DragEvent) => void;
  /** what is being dragged from the palette: topics light up as targets for producers and groups */
  dropping?: string | null;
  /** bring this node and its neighbours into view, also as the layout changes, until `until` (ms) */
  focus?: { id: string; until: number } | null;
  children?: ReactNode;
}) {
  const router = useRouter();
  const dark = useDarkMode();
  const flow = useReactFlow<TopoFlowNode, TopoFlowEdge>();
  const box = useRef<HTMLDivElement>(null);
  const [aspect, setAspect] = useState(1.6);
  useEffect(() => {
    const el = box.current;
    if (el && el.clientHeight > 0) setAspect(el.clientWidth / el.clientHeight);
  }, []);
  const { nodes, edges, laidOut, layoutVersion, layoutError } = useFlowElements(view, expanded, aspect);
  const counts = useMemo(() => countsOf(nodes), [nodes]);

  // the whole picture stays fitted as it is laid out again (things appear, topics open), until the
  // user pans or zooms (or something just built is brought into view); the fit button gives it back
  const autoFit = useRef(true);
  const anyPlaced = nodes.some((n) => !n.hidden);
  useEffect(() => {
    if (!anyPlaced || !autoFit.current) return;
    requestAnimationFrame(() => {
      const el = box.current;
      if (el) fitReadably(flow, el.clientWidth, el.clientHeight);
    });
  }, [anyPlaced, layoutVersion, flow]);
  const onMoveStart = useCallback((event: MouseEvent | TouchEvent | null) => {
    if (event) autoFit.current = false;
  }, []);

  // what the user just built: in view once laid out, and again while what it brings (edges, a group's members) arrives
  const focusShown = !!focus && nodes.some((n) => n.id === focus.id && !n.hidden);
  useEffect(() => {
    if (!focus || !focusShown || Date.now() > focus.until) return;
    autoFit.current = false;
    const ids = connectedTo(focus.id, edges);
    // two frames on: the canvas may just have been resized (a side panel opened) and React Flow measures it in between
    requestAnimationFrame(() =>
      requestAnimationFrame(() => void flow.fitView({ nodes: [...ids].map((id) => ({ id })), maxZoom: 1, padding: 0.2, duration: 200 })),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps -- refit when the layout changes, not on every new rate
  }, [focus, focusShown, layoutVersion, flow]);

  const onNodeClick: NodeMouseHandler<TopoFlowNode> = useCallback(
    (e, node) => {
      const href = clickTarget(node, e.target as Element | null);
      if (href) router.push(href);
    },
    [router],
  );

  return (
    <div
      className={`topo-canvas${dropping && dropping !== "topic" ? " dropping" : ""}`}
      ref={box}
      data-testid="topology-canvas"
      data-laid-out={laidOut}
      data-layout-version={layoutVersion}
      data-nodes={nodes.length}
      data-producers={counts.producer}
      data-topics={counts.topic}
      data-groups={counts.consumerGroup}
      data-members={counts.members}
      data-pipelines={counts.pipeline}
      onDragOver={onDragOver}
      onDrop={onDrop}
    >
      <ReactFlow<TopoFlowNode, TopoFlowEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={NODE_TYPES}
        edgeTypes={EDGE_TYPES}
        onNodeClick={onNodeClick}
        onMoveStart={onMoveStart}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={false}
        minZoom={0.1}
        maxZoom={2}
        onlyRenderVisibleElements
        colorMode={dark ? "dark" : "light"}
        proOptions={{ hideAttribution: true }}
      >
        <Background gap={20} />
        <MiniMap pannable zoomable ariaLabel="minimap" style={{ width: 160, height: 110 }} />
        <Controls showInteractive={false} fitViewOptions={{ maxZoom: 1, padding: 0.08 }} onFitView={() => (autoFit.current = true)} />
      </ReactFlow>
      <div className="topo-legend small" data-testid="topology-counts">
        <span>
          {plural(counts.producer, "producer")} · {plural(counts.topic, "topic")} · {plural(counts.consumerGroup, "group")} ·{" "}
          {plural(counts.pipeline, "pipeline")}
        </span>
        <span className="muted" title="an edge's thickness and the speed of its dashes follow the records per second along it">
          thicker, faster = more records/s · <span className="topo-pill warn">lag n</span> records waiting
        </span>
      </div>
      {layoutError ? (
        <div className="topo-overlay">
          <ErrorBox error={layoutError} testId="topology-layout-error" />
        </div>
      ) : null}
      {children}
    </div>
  );
}
