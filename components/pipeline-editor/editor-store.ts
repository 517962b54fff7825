/**
 * The editor's one store: the pipeline being drawn (the document), its undo/redo history, the
 * selection, the clipboard, and what the server said of it (problems, preview). A reducer over
 * plain data, held by a small external store (useSyncExternalStore) and provided by context, so
 * the canvas, the panels and the toolbar read the same state and every edit goes through one
 * place — which is what makes undo cover every edit.
 */
"use client";
import { createContext, useContext, useSyncExternalStore } from "react";
import {
  connectionProblem,
  type PipelineProblem,
  type TNodeConfig,
  type TNodeKind,
  type TPipelineEdge,
  type TPipelineNode,
} from "../../server/schemas/pipeline";
import type { z } from "zod";
import type { TPipelineMetrics, TPipelineTypes, ZPreviewResponse } from "../../server/schemas/pipeline";
import type { TPipelineTestCaseInput } from "../../server/schemas/pipeline-tests";
import { freshNodeId, KINDS } from "./node-kinds";

export type TPreview = z.infer<typeof ZPreviewResponse>;

/** The pipeline as drawn: a PipelineDefinition that may be unfinished. */
export interface EditorDoc {
  name: string;
  description?: string;
  settings?: { commitIntervalMs: number };
  nodes: TPipelineNode[];
  edges: TPipelineEdge[];
  /** the pipeline's test cases (saved with the draft; the Tests panel edits them) */
  tests?: TPipelineTestCaseInput[];
}

export interface XY {
  x: number;
  y: number;
}

export interface EditorState {
  doc: EditorDoc;
  /** earlier documents, newest last (bounded) */
  past: EditorDoc[];
  future: EditorDoc[];
  /** the last edit that went into history, so typing in one field is one undo step */
  lastEdit: { key: string; at: number } | null;
  /** the document when a drag began (the drag becomes one undo step when it ends) */
  dragOrigin: EditorDoc | null;
  selectedNodes: readonly string[];
  selectedEdges: readonly string[];
  /** node sizes as drawn (React Flow measures them; kept so re-rendered nodes are not measured again) */
  measured: Readonly<Record<string, { width: number; height: number }>>;
  clipboard: { nodes: TPipelineNode[]; edges: TPipelineEdge[] } | null;
  /** the server's problems of the saved draft (or of a refused preview/deploy) */
  problems: readonly PipelineProblem[];
  preview: TPreview | null;
  /** the record type at each port and what CEL fields complete, as the server inferred them for the saved draft */
  types: TPipelineTypes | null;
  /** the deployed pipeline's metrics while it runs (or is paused or failed), null otherwise */
  metrics: TPipelineMetrics | null;
  /** a refused connection or another short message for the canvas */
  notice: { text: string; at: number } | null;
  /** counts document changes (autosave watches it) */
  revision: number;
}

export const HISTORY_LIMIT = 200;
/** edits of one field closer together than this are one undo step */
const COALESCE_MS = 1200;
const PASTE_OFFSET = 40;

export type EditorAction =
  | { type: "load"; doc: EditorDoc }
  | { type: "add"; kind: TNodeKind; position: XY }
  | { type: "move"; moves: { id: string; position: XY }[] }
  | { type: "dragStart" }
  | { type: "dragEnd" }
  | { type: "connect"; edge: TPipelineEdge; at: number }
  | { type: "deleteSelection" }
  | { type: "updateConfig"; id: string; config: TNodeConfig; field: string; at: number }
  | { type: "updateNode"; id: string; label?: string; newId?: string; at: number }
  | { type: "replaceGraph"; doc: EditorDoc; key?: string; at?: number }
  | { type: "setTests"; tests: TPipelineTestCaseInput[]; key?: string; at?: number }
  | { type: "select"; nodes: readonly string[]; edges: readonly string[] }
  | { type: "selectAll" }
  | { type: "measured"; sizes: { id: string; width: number; height: number }[] }
  | { type: "copy" }
  | { type: "paste" }
  | { type: "undo" }
  | { type: "redo" }
  | { type: "problems"; problems: readonly PipelineProblem[] }
  | { type: "preview"; preview: TPreview | null }
  | { type: "types"; types: TPipelineTypes }
  | { type: "metrics"; metrics: TPipelineMetrics | null }
  | { type: "notice"; text: string | null; at: number };

/** The id of an edge, as the preview counts it: "from:port->to:port". */
export function edgeId(e: TPipelineEdge): string {
  return `${e.from.node}:${e.from.port}->${e.to.node}:${e.to.port}`;
}

export function initialState(doc: EditorDoc): EditorState {
  return {
    doc,
    past: [],
    future: [],
    lastEdit: null,
    dragOrigin: null,
    selectedNodes: [],
    selectedEdges: [],
    measured: {},
    clipboard: null,
    problems: [],
    preview: null,
    types: null,
    metrics: null,
    notice: null,
    revision: 0,
  };
}

/** A new document, remembered in history (coalesced with the last edit when `key` matches it). */
function commit(s: EditorState, doc: EditorDoc, key?: string, at?: number): EditorState {
  const coalesce = key !== undefined && at !== undefined && s.lastEdit?.key === key && at - s.lastEdit.at < COALESCE_MS;
  const past = coalesce ? s.past : [...s.past, s.doc].slice(-HISTORY_LIMIT);
  return {
    ...s,
    doc,
    past,
    future: [],
    lastEdit: key !== undefined && at !== undefined ? { key, at } : null,
    revision: s.revision + 1,
  };
}

function withoutNodes(doc: EditorDoc, ids: ReadonlySet<string>, edgeIds: ReadonlySet<string> = new Set()): EditorDoc {
  return {
    ...doc,
    nodes: doc.nodes.filter((n) => !ids.has(n.id)),
    edges: doc.edges.filter((e) => !ids.has(e.from.node) && !ids.has(e.to.node) && !edgeIds.has(edgeId(e))),
  };
}

function keepExisting(ids: readonly string[], present: ReadonlySet<string>): readonly string[] {
  return ids.every((id) => present.has(id)) ? ids : ids.filter((id) => present.has(id));
}

/** The selection after the document changed under it (undo, redo, load). */
function reselect(s: EditorState): EditorState {
  const nodes = new Set(s.doc.nodes.map((n) => n.id));
  const edges = new Set(s.doc.edges.map(edgeId));
  return { ...s, selectedNodes: keepExisting(s.selectedNodes, nodes), selectedEdges: keepExisting(s.selectedEdges, edges) };
}

export function editorReducer(s: EditorState, a: EditorAction): EditorState {
  switch (a.type) {
    case "load":
      return reselect({
        ...initialState(a.doc),
        measured: s.measured,
        selectedNodes: s.selectedNodes,
        metrics: s.metrics,
        types: s.types,
        revision: s.revision,
      });
    case "add": {
      const id = freshNodeId(a.kind, new Set(s.doc.nodes.map((n) => n.id)));
      const node: TPipelineNode = { id, position: a.position, config: structuredClone(KINDS[a.kind].initial) };
      return { ...commit(s, { ...s.doc, nodes: [...s.doc.nodes, node] }), selectedNodes: [id], selectedEdges: [] };
    }
    case "move": {
      const to = new Map(a.moves.map((m) => [m.id, m.position]));
      const nodes = s.doc.nodes.map((n) => {
        const p = to.get(n.id);
        return p && (p.x !== n.position?.x || p.y !== n.position?.y) ? { ...n, position: { x: p.x, y: p.y } } : n;
      });
      // a drag is remembered once, when it ends; a move outside a drag (keyboard) at once
      const doc = { ...s.doc, nodes };
      return s.dragOrigin ? { ...s, doc, revision: s.revision + 1 } : commit(s, doc);
    }
    case "dragStart":
      return s.dragOrigin ? s : { ...s, dragOrigin: s.doc };
    case "dragEnd": {
      if (!s.dragOrigin) return s;
      const moved = s.dragOrigin !== s.doc;
      return {
        ...s,
        dragOrigin: null,
        past: moved ? [...s.past, s.dragOrigin].slice(-HISTORY_LIMIT) : s.past,
        future: moved ? [] : s.future,
        lastEdit: null,
      };
    }
    case "connect": {
      const problem = connectionProblem(s.doc.nodes, s.doc.edges, a.edge);
      if (problem) return { ...s, notice: { text: `Connection refused: ${problem}`, at: a.at } };
      return {
        ...commit(s, { ...s.doc, edges: [...s.doc.edges, a.edge] }),
        selectedEdges: [edgeId(a.edge)],
        selectedNodes: [],
        notice: null,
      };
    }
    case "deleteSelection": {
      if (s.selectedNodes.length === 0 && s.selectedEdges.length === 0) return s;
      const doc = withoutNodes(s.doc, new Set(s.selectedNodes), new Set(s.selectedEdges));
      return { ...commit(s, doc), selectedNodes: [], selectedEdges: [] };
    }
    case "updateConfig": {
      const nodes = s.doc.nodes.map((n) => (n.id === a.id ? { ...n, config: a.config } : n));
      return commit(s, { ...s.doc, nodes }, `${a.id}:config.${a.field}`, a.at);
    }
    case "updateNode": {
      const newId = a.newId !== undefined && a.newId !== a.id ? a.newId : undefined;
      if (newId !== undefined && s.doc.nodes.some((n) => n.id === newId))
        return { ...s, notice: { text: `node id '${newId}' is taken`, at: a.at } };
      const nodes = s.doc.nodes.map((n) => {
        if (n.id !== a.id) return n;
        const next: TPipelineNode = { ...n, ...(newId !== undefined ? { id: newId } : {}) };
        if (a.label !== undefined) {
          if (a.label === "") delete next.label;
          else next.label = a.label;
        }
        return next;
      });
      const rename = (r: { node: string; port: string }) => (newId !== undefined && r.node === a.id ? { ...r, node: newId } : r);
      const edges = newId === undefined ? s.doc.edges : s.doc.edges.map((e) => ({ from: rename(e.from), to: rename(e.to) }));
      const next = commit(s, { ...s.doc, nodes, edges }, `${a.id}:${newId !== undefined ? "id" : "label"}`, a.at);
      if (newId === undefined) return next;
      const measured = { ...s.measured };
      if (measured[a.id]) measured[newId] = measured[a.id];
      return { ...next, lastEdit: null, measured, selectedNodes: s.selectedNodes.map((id) => (id === a.id ? newId : id)) };
    }
    case "replaceGraph":
      return reselect(commit(s, a.doc, a.key, a.at));
    case "setTests": {
      const doc: EditorDoc = { ...s.doc, tests: a.tests };
      if (a.tests.length === 0) delete doc.tests;
      return commit(s, doc, a.key && `tests:${a.key}`, a.at);
    }
    case "select":
      if (sameIds(a.nodes, s.selectedNodes) && sameIds(a.edges, s.selectedEdges)) return s;
      return { ...s, selectedNodes: a.nodes, selectedEdges: a.edges };
    case "selectAll":
      return { ...s, selectedNodes: s.doc.nodes.map((n) => n.id), selectedEdges: s.doc.edges.map(edgeId) };
    case "measured": {
      const changed = a.sizes.filter((m) => s.measured[m.id]?.width !== m.width || s.measured[m.id]?.height !== m.height);
      if (changed.length === 0) return s;
      const measured = { ...s.measured };
      for (const m of changed) measured[m.id] = { width: m.width, height: m.height };
      return { ...s, measured };
    }
    case "copy": {
      const ids = new Set(s.selectedNodes);
      if (ids.size === 0) return s;
      return {
        ...s,
        clipboard: {
          nodes: s.doc.nodes.filter((n) => ids.has(n.id)),
          edges: s.doc.edges.filter((e) => ids.has(e.from.node) && ids.has(e.to.node)),
        },
      };
    }
    case "paste": {
      if (!s.clipboard || s.clipboard.nodes.length === 0) return s;
      const taken = new Set(s.doc.nodes.map((n) => n.id));
      const renamed = new Map<string, string>();
      const nodes = s.clipboard.nodes.map((n) => {
        const id = freshNodeId(n.config.kind, taken);
        taken.add(id);
        renamed.set(n.id, id);
        const at = n.position ?? { x: 0, y: 0 };
        return { ...structuredClone(n), id, position: { x: at.x + PASTE_OFFSET, y: at.y + PASTE_OFFSET } };
      });
      const edges = s.clipboard.edges.map((e) => ({
        from: { node: renamed.get(e.from.node)!, port: e.from.port },
        to: { node: renamed.get(e.to.node)!, port: e.to.port },
      }));
      // the next paste lands another step further
      const clipboard = { nodes, edges };
      return {
        ...commit(s, { ...s.doc, nodes: [...s.doc.nodes, ...nodes], edges: [...s.doc.edges, ...edges] }),
        clipboard,
        selectedNodes: nodes.map((n) => n.id),
        selectedEdges: edges.map(edgeId),
      };
    }
    case "undo": {
      if (s.past.length === 0) return s;
      const doc = s.past[s.past.length - 1];
      return reselect({
        ...s,
        doc,
        past: s.past.slice(0, -1),
        future: [s.doc, ...s.future],
        lastEdit: null,
        revision: s.revision + 1,
      });
    }
    case "redo": {
      if (s.future.length === 0) return s;
      const [doc, ...future] = s.future;
      return reselect({ ...s, doc, past: [...s.past, s.doc], future, lastEdit: null, revision: s.revision + 1 });
    }
    case "problems":
      return { ...s, problems: a.problems };
    case "preview":
      return { ...s, preview: a.preview };
    case "types":
      return { ...s, types: a.types };
    case "metrics":
      return s.metrics === a.metrics ? s : { ...s, metrics: a.metrics };
    case "notice":
      return { ...s, notice: a.text === null ? null : { text: a.text, at: a.at } };
  }
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The store: state, a dispatch and subscriptions (for useSyncExternalStore). */
export class EditorStore {
  private state: EditorState;
  private readonly listeners = new Set<() => void>();

  constructor(doc: EditorDoc) {
    this.state = initialState(doc);
  }

  getState = (): EditorState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  dispatch = (action: EditorAction): void => {
    const next = editorReducer(this.state, action);
    if (next === this.state) return;
    this.state = next;
    for (const l of this.listeners) l();
  };
}

export const EditorContext = createContext<EditorStore | null>(null);

export function useEditorStore(): EditorStore {
  const store = useContext(EditorContext);
  if (!store) throw new Error("useEditorStore outside an EditorContext");
  return store;
}

/** A slice of the editor state; re-renders only when the slice changes (return stable values). */
export function useEditor<T>(select: (s: EditorState) => T): T {
  const store = useEditorStore();
  return useSyncExternalStore(
    store.subscribe,
    () => select(store.getState()),
    () => select(store.getState()),
  );
}

/** The definition as sent to the server (export, save, preview). */
export function definitionOf(doc: EditorDoc): EditorDoc {
  return {
    name: doc.name,
    ...(doc.description !== undefined ? { description: doc.description } : {}),
    nodes: doc.nodes,
    edges: doc.edges,
    settings: doc.settings ?? { commitIntervalMs: 100 },
    ...(doc.tests?.length ? { tests: doc.tests } : {}),
  };
}

/** A document from a stored draft or an imported file (anything with nodes and edges arrays). */
export function docFrom(draft: unknown, name: string): EditorDoc {
  const d = (draft ?? {}) as Partial<EditorDoc>;
  return {
    name,
    ...(typeof d.description === "string" ? { description: d.description } : {}),
    ...(d.settings ? { settings: d.settings } : {}),
    nodes: Array.isArray(d.nodes) ? d.nodes : [],
    edges: Array.isArray(d.edges) ? d.edges : [],
    ...(Array.isArray(d.tests) && d.tests.length ? { tests: d.tests } : {}),
  };
}
