"use client";
/**
 * The canvas: React Flow drawing the editor store's document. Every change it reports (moves,
 * selection, sizes, connections, drops from the palette) goes to the store as an action; a
 * connection the shared graph rules refuse (a cycle, a port already fed, a table on a join's
 * left) is refused while it is drawn, and the reason shown.
 */
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  useReactFlow,
  type Connection,
  type EdgeChange,
  type FinalConnectionState,
  type IsValidConnection,
  type NodeChange,
} from "@xyflow/react";
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from "react";
import { connectionProblem, type TNodeKind, type TPipelineEdge } from "@/server/schemas/pipeline";
import { useDarkMode } from "../api-docs/use-dark-mode";
import { EDGE_TYPES } from "./count-edge";
import { useEditor, useEditorStore } from "./editor-store";
import { FlowModel, type PipelineFlowEdge, type PipelineFlowNode } from "./flow-model";
import { KINDS } from "./node-kinds";
import { DRAG_MIME } from "./palette";
import { NODE_TYPES } from "./pipeline-node";

const edgeOf = (c: Connection | { source: string; sourceHandle?: string | null; target: string; targetHandle?: string | null }) =>
  ({ from: { node: c.source, port: c.sourceHandle ?? "out" }, to: { node: c.target, port: c.targetHandle ?? "in" } }) as TPipelineEdge;

const NOTICE_MS = 6000;

// Props React Flow copies into its store whenever they change identity (each copy wakes every
// node's and edge's store subscription): made once, here, not per render (a drag renders per frame).
const FIT_VIEW_OPTIONS = { maxZoom: 1, padding: 0.2 };
const PRO_OPTIONS = { hideAttribution: true };
const MINIMAP_STYLE = { width: 150, height: 100 };

export function Canvas() {
  const store = useEditorStore();
  const flow = useReactFlow();
  const dark = useDarkMode();
  const model = useRef(new FlowModel()).current;
  // fit the view to what is there when the page opens (not to the first node dropped on an empty canvas)
  const [fitOnOpen] = useState(() => store.getState().doc.nodes.length > 0);
  const doc = useEditor((s) => s.doc);
  const selectedNodes = useEditor((s) => s.selectedNodes);
  const selectedEdges = useEditor((s) => s.selectedEdges);
  const measured = useEditor((s) => s.measured);
  const problems = useEditor((s) => s.problems);
  const preview = useEditor((s) => s.preview);
  // the running view: a new reading at most once a second (use-running-metrics.ts)
  const metrics = useEditor((s) => s.metrics);
  // while nodes are dragged, edges take no pointer events (every move hit-tested each edge's wide stroke)
  const dragging = useEditor((s) => s.dragOrigin !== null);
  const nodes = useMemo(
    () => model.flowNodes(store.getState()),
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the model reads these through getState
    [model, store, doc, selectedNodes, measured, problems, preview, metrics],
  );
  const edges = useMemo(
    () => model.flowEdges(store.getState()),
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the model reads these through getState
    [model, store, doc.edges, selectedEdges, preview, metrics],
  );

  const onNodesChange = useCallback(
    (changes: NodeChange<PipelineFlowNode>[]) => {
      const s = store.getState();
      const moves: { id: string; position: { x: number; y: number } }[] = [];
      const sizes: { id: string; width: number; height: number }[] = [];
      let selection: Set<string> | null = null;
      for (const c of changes) {
        if (c.type === "position" && c.position) moves.push({ id: c.id, position: c.position });
        else if (c.type === "dimensions" && c.dimensions) sizes.push({ id: c.id, ...c.dimensions });
        else if (c.type === "select") {
          selection ??= new Set(s.selectedNodes);
          if (c.selected) selection.add(c.id);
          else selection.delete(c.id);
        }
      }
      if (sizes.length) store.dispatch({ type: "measured", sizes });
      if (moves.length) store.dispatch({ type: "move", moves });
      if (selection) store.dispatch({ type: "select", nodes: [...selection], edges: store.getState().selectedEdges });
    },
    [store],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange<PipelineFlowEdge>[]) => {
      let selection: Set<string> | null = null;
      for (const c of changes) {
        if (c.type !== "select") continue;
        selection ??= new Set(store.getState().selectedEdges);
        if (c.selected) selection.add(c.id);
        else selection.delete(c.id);
      }
      if (selection) store.dispatch({ type: "select", nodes: store.getState().selectedNodes, edges: [...selection] });
    },
    [store],
  );

  const isValidConnection: IsValidConnection<PipelineFlowEdge> = useCallback(
    (c) => {
      const s = store.getState();
      const problem = connectionProblem(s.doc.nodes, s.doc.edges, edgeOf(c));
      const text = problem ? `Connection refused: ${problem}` : null;
      if ((s.notice?.text ?? null) !== text && (text !== null || s.notice?.text.startsWith("Connection refused")))
        store.dispatch({ type: "notice", text, at: Date.now() });
      return !problem;
    },
    [store],
  );

  const onConnect = useCallback((c: Connection) => store.dispatch({ type: "connect", edge: edgeOf(c), at: Date.now() }), [store]);

  const onConnectEnd = useCallback(
    (_e: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      // dropped on a handle that refused it: the reason stays up for a moment
      if (!state.toHandle || state.isValid) store.dispatch({ type: "notice", text: null, at: Date.now() });
    },
    [store],
  );

  const onDragOver = useCallback((e: DragEvent) => {
    if (!e.dataTransfer.types.includes(DRAG_MIME)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
  }, []);

  const onDrop = useCallback(
    (e: DragEvent) => {
      const kind = e.dataTransfer.getData(DRAG_MIME) as TNodeKind;
      if (!(kind in KINDS)) return;
      e.preventDefault();
      const p = flow.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      store.dispatch({ type: "add", kind, position: { x: Math.round(p.x - 90), y: Math.round(p.y - 30) } });
    },
    [flow, store],
  );

  const onDragStart = useCallback(() => store.dispatch({ type: "dragStart" }), [store]);
  const onDragStop = useCallback(() => store.dispatch({ type: "dragEnd" }), [store]);

  useEditorShortcuts();

  return (
    <div className={`pe-canvas${dragging ? " dragging" : ""}`} data-testid="pipeline-canvas" onDragOver={onDragOver} onDrop={onDrop}>
      <ReactFlow<PipelineFlowNode, PipelineFlowEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={NODE_TYPES}
        edgeTypes={EDGE_TYPES}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onConnectEnd={onConnectEnd}
        isValidConnection={isValidConnection}
        onNodeDragStart={onDragStart}
        onNodeDragStop={onDragStop}
        onSelectionDragStart={onDragStart}
        onSelectionDragStop={onDragStop}
        deleteKeyCode={null}
        fitView={fitOnOpen}
        fitViewOptions={FIT_VIEW_OPTIONS}
        minZoom={0.1}
        colorMode={dark ? "dark" : "light"}
        proOptions={PRO_OPTIONS}
      >
        <Background gap={16} />
        <MiniMap pannable zoomable ariaLabel="minimap" style={MINIMAP_STYLE} />
        <Controls showInteractive={false} />
      </ReactFlow>
      <CanvasNotice />
      {doc.nodes.length === 0 && (
        <div className="pe-empty" data-testid="canvas-empty">
          Drag a source from the palette to start, or open a template.
        </div>
      )}
    </div>
  );
}

function CanvasNotice() {
  const notice = useEditor((s) => s.notice);
  const store = useEditorStore();
  useEffect(() => {
    if (!notice) return;
    const t = setTimeout(() => {
      if (store.getState().notice === notice) store.dispatch({ type: "notice", text: null, at: Date.now() });
    }, NOTICE_MS);
    return () => clearTimeout(t);
  }, [notice, store]);
  if (!notice) return null;
  return (
    <div className="pe-notice" role="status" data-testid="canvas-notice">
      {notice.text}
    </div>
  );
}

/** Whether a key press belongs to a text field (its own undo, copy and delete). */
function inField(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null;
  return !!t && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName) || !!t.closest("dialog"));
}

/** The editor's keyboard shortcuts (listed in the help popover, SHORTCUTS). */
function useEditorShortcuts() {
  const store = useEditorStore();
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (inField(e)) return;
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      const act = (a: Parameters<typeof store.dispatch>[0]) => {
        e.preventDefault();
        store.dispatch(a);
      };
      if (mod && key === "z") act({ type: e.shiftKey ? "redo" : "undo" });
      else if (mod && key === "y") act({ type: "redo" });
      else if (mod && key === "c") act({ type: "copy" });
      else if (mod && key === "v") act({ type: "paste" });
      else if (mod && key === "a") act({ type: "selectAll" });
      else if (!mod && (e.key === "Delete" || e.key === "Backspace")) act({ type: "deleteSelection" });
      else if (e.key === "Escape") act({ type: "select", nodes: [], edges: [] });
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [store]);
}

export const SHORTCUTS: [string, string][] = [
  ["Drag from the palette", "add a node"],
  ["Drag from an output to an input", "connect"],
  ["Click, Ctrl+click, Shift+drag", "select, add to selection, select an area"],
  ["Delete / Backspace", "delete the selection"],
  ["Ctrl+C / Ctrl+V", "copy / paste the selected nodes"],
  ["Ctrl+A", "select everything"],
  ["Ctrl+Z", "undo"],
  ["Ctrl+Shift+Z / Ctrl+Y", "redo"],
  ["Escape", "clear the selection"],
];
