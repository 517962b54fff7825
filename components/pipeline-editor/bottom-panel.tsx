"use client";
/**
 * Under the canvas: the problems panel (the server's problems, each pinned to its node and
 * field; a click selects the node) and the preview's records at the selected node or edge, as a
 * table or JSON, with failed (dead-lettered) records marked.
 */
import { useReactFlow } from "@xyflow/react";
import { useState, type ReactNode } from "react";
import { formatCount, formatTime } from "../ui/format";
import { edgeId, useEditor, useEditorStore, type TPreview } from "./editor-store";
import { TestsPanel } from "./tests-panel";

export type BottomTab = "problems" | "preview" | "tests";

/** `pipeline`: the stored pipeline's name, whose tests can run (a pipeline not yet created has no Tests tab). */
export function BottomPanel({ tab, onTab, pipeline }: { tab: BottomTab; onTab: (t: BottomTab) => void; pipeline?: string }) {
  const problems = useEditor((s) => s.problems);
  const preview = useEditor((s) => s.preview);
  return (
    <section className="pe-bottom" data-testid="bottom-panel">
      <div className="tabs pe-tabs" role="tablist">
        <Tab id="problems" tab={tab} onTab={onTab}>
          Problems{" "}
          <span className={problems.length ? "pe-count bad" : "pe-count"} data-testid="problem-count">
            {problems.length}
          </span>
        </Tab>
        <Tab id="preview" tab={tab} onTab={onTab}>
          Preview{preview ? ` · ${formatCount(preview.read)} read` : ""}
        </Tab>
        {pipeline && (
          <Tab id="tests" tab={tab} onTab={onTab}>
            Tests <TestCount />
          </Tab>
        )}
      </div>
      <div className="pe-bottom-body">
        {tab === "problems" ? <ProblemsList /> : tab === "preview" ? <PreviewRecords /> : null}
        {pipeline && <TestsPanel pipeline={pipeline} shown={tab === "tests"} />}
      </div>
    </section>
  );
}

function TestCount() {
  const n = useEditor((s) => s.doc.tests?.length ?? 0);
  return (
    <span className="pe-count" data-testid="test-count">
      {n}
    </span>
  );
}

function Tab({ id, tab, onTab, children }: { id: BottomTab; tab: BottomTab; onTab: (t: BottomTab) => void; children: ReactNode }) {
  return (
    <a
      role="tab"
      href={`#${id}`}
      aria-selected={tab === id}
      data-testid={`tab-${id}`}
      onClick={(e) => {
        e.preventDefault();
        onTab(id);
      }}
    >
      {children}
    </a>
  );
}

function ProblemsList() {
  const problems = useEditor((s) => s.problems);
  const store = useEditorStore();
  const flow = useReactFlow();
  if (problems.length === 0)
    return (
      <p className="muted" data-testid="problems-empty">
        No problems: the server accepts this draft as it is saved.
      </p>
    );
  return (
    <ul className="pe-problems" data-testid="problems-list">
      {problems.map((p, i) => (
        <li key={i}>
          <button
            type="button"
            data-testid="problem"
            data-node={p.node ?? ""}
            onClick={() => {
              if (!p.node) return;
              store.dispatch({ type: "select", nodes: [p.node], edges: [] });
              void flow.fitView({ nodes: [{ id: p.node }], maxZoom: 1, duration: 200 });
            }}
          >
            <span className="pe-problem-where mono">
              {p.node ?? "pipeline"}
              {p.field ? ` · ${p.field}` : ""}
            </span>
            <span title={p.message}>{p.message.split("\n")[0]}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}

interface Row {
  kind: "record" | "error";
  port: string;
  key: unknown;
  value: unknown;
  timestamp?: number;
  origin: { topic: string; partition: number; offset: number };
  error?: string;
}

/** The rows to show for the selection: a node's emitted records and failures, or an edge's records. */
function rowsFor(
  preview: TPreview,
  node: string | undefined,
  edge: string | undefined,
  edges: { id: string; from: string; port: string }[],
): Row[] {
  if (edge) {
    const e = edges.find((x) => x.id === edge);
    if (!e) return [];
    return (preview.nodes[e.from]?.records ?? []).filter((r) => r.port === e.port).map((r) => ({ kind: "record" as const, ...r }));
  }
  if (!node) return [];
  const n = preview.nodes[node];
  if (!n) return [];
  return [
    ...n.records.map((r) => ({ kind: "record" as const, ...r })),
    ...n.errors.map((x) => ({ kind: "error" as const, port: "error", key: x.key, value: x.value, origin: x.origin, error: x.error })),
  ];
}

const compact = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

function PreviewRecords() {
  const preview = useEditor((s) => s.preview);
  const node = useEditor((s) => (s.selectedNodes.length === 1 ? s.selectedNodes[0] : undefined));
  const edge = useEditor((s) => (s.selectedEdges.length === 1 && s.selectedNodes.length === 0 ? s.selectedEdges[0] : undefined));
  const docEdges = useEditor((s) => s.doc.edges);
  const [view, setView] = useState<"table" | "json">("table");
  if (!preview)
    return (
      <p className="muted" data-testid="preview-empty">
        Run a preview to see what each node would emit on the topics’ latest records. Nothing is written.
      </p>
    );
  const edges = docEdges.map((e) => ({ id: edgeId(e), from: e.from.node, port: e.from.port }));
  const rows = rowsFor(preview, node, edge, edges);
  const stats = node ? preview.nodes[node] : undefined;
  return (
    <div className="stack" data-testid="preview-panel">
      <div className="spread">
        <span className="small" data-testid="preview-summary">
          {formatCount(preview.read)} records read{preview.truncated ? " (stopped at the budget)" : ""}
          {preview.watermark !== null ? ` · watermark ${formatTime(preview.watermark)}` : ""}
          {node && stats
            ? ` · ${node}: in ${formatCount(stats.received)}, out ${formatCount(stats.emitted)}, failed ${formatCount(stats.failed)}`
            : edge
              ? ` · ${edge}: ${formatCount(preview.edges[edge] ?? 0)} records`
              : " · select a node or a connection to see its records"}
        </span>
        <div className="row" role="group" aria-label="view">
          <button type="button" aria-pressed={view === "table"} data-testid="preview-view-table" onClick={() => setView("table")}>
            Table
          </button>
          <button type="button" aria-pressed={view === "json"} data-testid="preview-view-json" onClick={() => setView("json")}>
            JSON
          </button>
        </div>
      </div>
      {(node || edge) && rows.length === 0 && (
        <p className="muted" data-testid="preview-no-records">
          No record passed here in the preview.
        </p>
      )}
      {rows.length > 0 && view === "json" && (
        <pre className="pe-json" data-testid="preview-json">
          {JSON.stringify(rows, null, 2)}
        </pre>
      )}
      {rows.length > 0 && view === "table" && (
        <div className="pe-table-wrap">
          <table data-testid="preview-records">
            <thead>
              <tr>
                <th>port</th>
                <th>key</th>
                <th>value</th>
                <th>time</th>
                <th>from</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) => (
                <tr key={i} className={r.kind === "error" ? "pe-row-error" : undefined} data-testid="preview-row" data-kind={r.kind}>
                  <td>{r.kind === "error" ? <span className="badge pe-dead">dead letter</span> : r.port}</td>
                  <td className="mono" data-testid="preview-key">
                    {compact(r.key)}
                  </td>
                  <td className="mono pe-value" title={compact(r.value)} data-testid="preview-value">
                    {r.error ? <span className="pe-failed">{r.error} · </span> : null}
                    {compact(r.value)}
                  </td>
                  <td className="small">{r.timestamp !== undefined ? formatTime(r.timestamp) : ""}</td>
                  <td className="small mono">
                    {r.origin.topic}/{r.origin.partition}@{r.origin.offset}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
