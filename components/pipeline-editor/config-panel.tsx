"use client";
/**
 * The side panel: the selected node's form (its id, label and config fields from the shared
 * schema, with the server's messages at their fields), the selected edge, or the pipeline's own
 * settings when nothing is selected.
 */
import { useEffect, useMemo, useState } from "react";
import { portsOf, type PipelineProblem, type TNodeConfig, type TPipelineNode } from "@/server/schemas/pipeline";
import { useTopics } from "../hooks/use-topics";
import { edgeId, useEditor, useEditorStore, type EditorDoc } from "./editor-store";
import { KINDS } from "./node-kinds";
import { completionsFor } from "./record-fields";
import { fieldsOfKind } from "./schema-form";
import { FormCtx, ObjectFields, type FormContext } from "./schema-fields";

const NO_PROBLEMS: PipelineProblem[] = [];

export function ConfigPanel({ checking }: { checking: boolean }) {
  const selectedNodes = useEditor((s) => s.selectedNodes);
  const selectedEdges = useEditor((s) => s.selectedEdges);
  // the selected node's id, label and config: stable while it is dragged, so the form does not redraw with every move
  const id = useEditor((s) => (s.selectedNodes.length === 1 ? s.selectedNodes[0] : null));
  const config = useEditor((s) => (id === null ? undefined : s.doc.nodes.find((n) => n.id === id)?.config));
  const label = useEditor((s) => (id === null ? undefined : s.doc.nodes.find((n) => n.id === id)?.label));
  const node = id !== null && config ? { id, label, config } : undefined;
  const topics = useTopics();
  return (
    <aside className="pe-side" aria-label="configuration" data-testid="config-panel">
      <datalist id="pe-topic-list">
        {(topics.data ?? []).map((t) => (
          <option key={t.name} value={t.name} />
        ))}
      </datalist>
      {node ? (
        <NodeForm key={node.id} node={node} checking={checking} topics={(topics.data ?? []).map((t) => t.name)} />
      ) : selectedEdges.length === 1 && selectedNodes.length === 0 ? (
        <EdgeInfo id={selectedEdges[0]} />
      ) : selectedNodes.length > 1 ? (
        <p className="muted" data-testid="config-multi">
          {selectedNodes.length} nodes selected. Ctrl+C copies them, Delete removes them.
        </p>
      ) : (
        <PipelineSettings />
      )}
    </aside>
  );
}

function NodeForm({ node, checking, topics }: { node: Omit<TPipelineNode, "position">; checking: boolean; topics: string[] }) {
  const store = useEditorStore();
  const info = KINDS[node.config.kind];
  const problems = useEditor((s) => s.problems);
  const types = useEditor((s) => s.types);
  const preview = useEditor((s) => s.preview);
  const mine = useMemo(() => problems.filter((p) => p.node === node.id), [problems, node.id]);
  const form: FormContext = useMemo(() => {
    const errors = new Map<string, string>();
    for (const p of mine) if (p.field?.startsWith("config.")) errors.set(p.field.slice("config.".length), p.message);
    return {
      kind: node.config.kind,
      errors,
      checking,
      topics,
      completions: (field) => completionsFor(types, preview, node.id, field),
    };
  }, [mine, node.config.kind, node.id, checking, topics, types, preview]);
  const general = mine.filter((p) => !p.field?.startsWith("config.")) ?? NO_PROBLEMS;
  const { inputs, outputs } = portsOf(node.config);
  const [id, setId] = useState(node.id);
  useEffect(() => setId(node.id), [node.id]);
  const rename = () => {
    if (id !== node.id) store.dispatch({ type: "updateNode", id: node.id, newId: id, at: Date.now() });
  };

  return (
    <div className="stack" data-testid={`node-form-${node.id}`}>
      <div className="spread">
        <h2 style={{ margin: 0 }}>
          <span className="pe-glyph" aria-hidden>
            {info.glyph}
          </span>{" "}
          {info.title}
        </h2>
        <span className="small muted">{info.help}</span>
      </div>
      {general.length > 0 && (
        <ul className="pe-node-problems" data-testid="node-form-problems">
          {general.map((p, i) => (
            <li key={i}>{p.message}</li>
          ))}
        </ul>
      )}
      <div className="pe-field">
        <label htmlFor="cfg-node-id">id</label>
        <input
          id="cfg-node-id"
          data-testid="field-node-id"
          value={id}
          onChange={(e) => setId(e.target.value)}
          onBlur={rename}
          onKeyDown={(e) => e.key === "Enter" && rename()}
        />
      </div>
      <div className="pe-field">
        <label htmlFor="cfg-node-label">label</label>
        <input
          id="cfg-node-label"
          data-testid="field-node-label"
          placeholder={node.id}
          value={node.label ?? ""}
          onChange={(e) => store.dispatch({ type: "updateNode", id: node.id, label: e.target.value, at: Date.now() })}
        />
      </div>
      <FormCtx.Provider value={form}>
        <ObjectFields
          fields={fieldsOfKind(node.config.kind)}
          value={node.config as unknown as Record<string, unknown>}
          path=""
          onChange={(next) => {
            const changed = Object.keys({ ...next, ...node.config }).find(
              (k) => JSON.stringify(next[k]) !== JSON.stringify((node.config as unknown as Record<string, unknown>)[k]),
            );
            store.dispatch({
              type: "updateConfig",
              id: node.id,
              config: next as unknown as TNodeConfig,
              field: changed ?? "",
              at: Date.now(),
            });
          }}
        />
      </FormCtx.Provider>
      <p className="small muted">
        inputs: {inputs.join(", ") || "none"} · outputs: {outputs.join(", ") || "none"}
      </p>
    </div>
  );
}

function EdgeInfo({ id }: { id: string }) {
  const edge = useEditor((s) => s.doc.edges.find((e) => edgeId(e) === id));
  const count = useEditor((s) => s.preview?.edges[id]);
  if (!edge) return null;
  return (
    <div className="stack" data-testid="edge-info">
      <h2 style={{ margin: 0 }}>Connection</h2>
      <p className="mono">
        {edge.from.node}.{edge.from.port} → {edge.to.node}.{edge.to.port}
      </p>
      {count !== undefined && <p>{count} records crossed it in the preview (listed below).</p>}
      <p className="small muted">Delete removes it.</p>
    </div>
  );
}

function PipelineSettings() {
  const store = useEditorStore();
  const description = useEditor((s) => s.doc.description);
  const settings = useEditor((s) => s.doc.settings);
  const nodes = useEditor((s) => s.doc.nodes.length);
  const edges = useEditor((s) => s.doc.edges.length);
  const update = (patch: Partial<EditorDoc>, key: string) =>
    store.dispatch({ type: "replaceGraph", doc: { ...store.getState().doc, ...patch }, key: `pipeline:${key}`, at: Date.now() });
  return (
    <div className="stack" data-testid="pipeline-settings">
      <h2 style={{ margin: 0 }}>Pipeline</h2>
      <p className="small muted">Select a node to configure it.</p>
      <label className="field">
        description
        <textarea
          data-testid="field-description"
          rows={3}
          value={description ?? ""}
          onChange={(e) => update({ description: e.target.value || undefined }, "description")}
        />
      </label>
      <label className="field">
        commit interval (ms)
        <input
          type="number"
          min={10}
          max={60000}
          data-testid="field-commit-interval"
          value={settings?.commitIntervalMs ?? 100}
          onChange={(e) =>
            e.target.value !== "" && update({ settings: { ...settings, commitIntervalMs: Number(e.target.value) } }, "settings")
          }
        />
      </label>
      <p className="small muted">
        {nodes} nodes · {edges} connections
      </p>
    </div>
  );
}
