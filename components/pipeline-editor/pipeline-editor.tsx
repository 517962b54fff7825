"use client";
/**
 * The pipeline editor: palette, canvas, config panel, problems and preview under one store.
 * `/pipelines/<name>` edits a stored pipeline (its draft autosaved and validated, previewed,
 * deployed, paused, resumed, stopped); `/pipelines/new[?template=id]` draws one before it is
 * created.
 */
import { ReactFlowProvider, useReactFlow } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import "./editor.css";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useRef, useState, type ReactNode } from "react";
import { ZPipelineName } from "@/server/schemas/pipeline";
import { pipelineTemplate } from "@/server/schemas/pipeline-templates";
import { api, ApiRequestError, enc, errorMessage } from "../hooks/api";
import { useUrlState } from "../hooks/use-url-state";
import { Dialog } from "../ui/dialog";
import { ErrorBox, Loading } from "../ui/status";
import { layoutDoc } from "./auto-layout";
import { BottomPanel, type BottomTab } from "./bottom-panel";
import { Canvas } from "./canvas";
import { ConfigPanel } from "./config-panel";
import { definitionOf, docFrom, EditorContext, EditorStore, useEditor, useEditorStore, type EditorDoc } from "./editor-store";
import { HelpPopover } from "./help-popover";
import { Palette } from "./palette";
import { PreviewSampleControl, sampleRequest, type PreviewSample } from "./preview-sample";
import { useRunningMetrics } from "./use-running-metrics";
import {
  resetNeeded,
  useDraftSync,
  useLifecycle,
  usePipelineDetail,
  usePreview,
  type SaveStatus,
  type TPipelineDetail,
} from "./use-pipeline-api";

function EditorFrame({
  store,
  toolbar,
  checking,
  tab,
  onTab,
  pipeline,
}: {
  store: EditorStore;
  toolbar: ReactNode;
  checking: boolean;
  tab: BottomTab;
  onTab: (t: BottomTab) => void;
  pipeline?: string;
}) {
  return (
    <EditorContext.Provider value={store}>
      <ReactFlowProvider>
        <section className="pe-editor" data-testid="pipeline-editor">
          {toolbar}
          <div className="pe-body">
            <Palette />
            <Canvas />
            <ConfigPanel checking={checking} />
          </div>
          <BottomPanel tab={tab} onTab={onTab} pipeline={pipeline} />
          <SelectionInUrl />
        </section>
      </ReactFlowProvider>
    </EditorContext.Provider>
  );
}

/** The selected node in the URL (?node=id), so a view of one node can be linked. */
function SelectionInUrl() {
  const { get, set } = useUrlState();
  const store = useEditorStore();
  const selected = useEditor((s) => (s.selectedNodes.length === 1 ? s.selectedNodes[0] : null));
  const nodeCount = useEditor((s) => s.doc.nodes.length);
  const applied = useRef(false);
  useEffect(() => {
    if (applied.current || nodeCount === 0) return;
    applied.current = true;
    const wanted = get("node");
    if (wanted && store.getState().doc.nodes.some((n) => n.id === wanted)) store.dispatch({ type: "select", nodes: [wanted], edges: [] });
  }, [get, nodeCount, store]);
  useEffect(() => {
    if (!applied.current) return;
    if ((get("node") || null) !== selected) set({ node: selected });
  }, [selected, get, set]);
  return null;
}

/** Undo, redo, auto-layout, export, import: what every editor toolbar has. */
function EditTools() {
  const store = useEditorStore();
  const flow = useReactFlow();
  const canUndo = useEditor((s) => s.past.length > 0);
  const canRedo = useEditor((s) => s.future.length > 0);
  const file = useRef<HTMLInputElement>(null);
  const doExport = () => {
    const def = definitionOf(store.getState().doc);
    const url = URL.createObjectURL(new Blob([JSON.stringify(def, null, 2)], { type: "application/json" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = `${def.name || "pipeline"}.pipeline.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  const doImport = async (f: File) => {
    try {
      const parsed = JSON.parse(await f.text()) as unknown;
      const p = parsed as { nodes?: unknown; edges?: unknown };
      if (!p || typeof p !== "object" || !Array.isArray(p.nodes) || !Array.isArray(p.edges))
        throw new Error("the file holds no pipeline (nodes and edges)");
      const cur = store.getState().doc;
      store.dispatch({ type: "replaceGraph", doc: docFrom(parsed, cur.name) });
      requestAnimationFrame(() => void flow.fitView({ maxZoom: 1, padding: 0.2 }));
    } catch (e) {
      store.dispatch({ type: "notice", text: `Import failed: ${errorMessage(e)}`, at: Date.now() });
    }
  };
  return (
    <div className="row pe-tools">
      <button type="button" data-testid="undo" disabled={!canUndo} onClick={() => store.dispatch({ type: "undo" })} title="Undo (Ctrl+Z)">
        ↶ Undo
      </button>
      <button
        type="button"
        data-testid="redo"
        disabled={!canRedo}
        onClick={() => store.dispatch({ type: "redo" })}
        title="Redo (Ctrl+Shift+Z)"
      >
        ↷ Redo
      </button>
      <button
        type="button"
        data-testid="auto-layout"
        onClick={async () => {
          const s = store.getState();
          const box = document.querySelector(".pe-canvas")?.getBoundingClientRect();
          const laid = await layoutDoc(s.doc, s.measured, box && box.height > 0 ? box.width / box.height : undefined);
          // an edit made while ELK worked wins over the layout
          if (store.getState().doc !== s.doc) return;
          store.dispatch({ type: "replaceGraph", doc: laid });
          requestAnimationFrame(() => void flow.fitView({ maxZoom: 1, padding: 0.2, duration: 200 }));
        }}
      >
        Auto-layout
      </button>
      <button type="button" data-testid="export" onClick={doExport}>
        Export
      </button>
      <button type="button" data-testid="import" onClick={() => file.current?.click()}>
        Import
      </button>
      <input
        ref={file}
        type="file"
        accept="application/json,.json"
        hidden
        data-testid="import-file"
        onChange={(e) => {
          const f = e.target.files?.[0];
          e.target.value = "";
          if (f) void doImport(f);
        }}
      />
      <HelpPopover />
    </div>
  );
}

function Crumb() {
  return (
    <>
      <Link href="/pipelines" className="muted">
        Pipelines
      </Link>
      <span className="muted">/</span>
    </>
  );
}

const SAVE_TEXT: Record<SaveStatus, string> = { saved: "Draft saved", dirty: "Unsaved changes…", saving: "Saving…", error: "Save failed" };

function StateBadge({ detail }: { detail: TPipelineDetail }) {
  return (
    <span className={`badge pe-state pe-state-${detail.state}`} data-testid="pipeline-state" data-state={detail.state}>
      {detail.state}
      {detail.version !== null ? ` · v${detail.version}` : ""}
    </span>
  );
}

/** The editor of a stored pipeline. */
export function PipelineEditor({ name }: { name: string }) {
  const detail = usePipelineDetail(name);
  if (detail.isPending) return <Loading testId="pipeline-loading" height={480} />;
  if (detail.error) {
    const missing = detail.error instanceof ApiRequestError && detail.error.status === 404;
    return (
      <section data-testid="pipeline-missing">
        <h1>{name}</h1>
        <ErrorBox error={detail.error} testId="pipeline-error" />
        {missing && (
          <p>
            <Link href="/pipelines/new">Draw a new pipeline</Link> or go back to the <Link href="/pipelines">pipelines</Link>.
          </p>
        )}
      </section>
    );
  }
  return <StoredPipelineEditor name={name} detail={detail.data} />;
}

function StoredPipelineEditor({ name, detail: first }: { name: string; detail: TPipelineDetail }) {
  const [store] = useState(() => new EditorStore(docFrom(first.draft, name)));
  const detail = usePipelineDetail(name).data ?? first;
  const sync = useDraftSync(name, store, detail);
  const preview = usePreview(name, store);
  const { deploy, change } = useLifecycle(name, store);
  useRunningMetrics(name, store, detail.state);
  const [sample, setSample] = useState<PreviewSample>({ kind: "last", limit: 100 });
  const [tab, setTab] = useState<BottomTab>("problems");
  const [resetAsk, setResetAsk] = useState<string[] | null>(null);

  const runPreview = async () => {
    setTab("preview");
    await preview.mutateAsync(sampleRequest(sample)).catch(() => setTab("problems"));
  };
  const runValidate = async () => {
    await sync.save();
    const r = await sync.validate().catch(() => null);
    if (r && !r.valid) setTab("problems");
  };
  const runDeploy = async (resetState: boolean) => {
    setResetAsk(null);
    await sync.save();
    try {
      await deploy.mutateAsync(resetState);
    } catch (e) {
      const nodes = resetNeeded(e);
      if (nodes) setResetAsk(nodes);
      else setTab("problems");
    }
  };
  const busy = deploy.isPending || change.isPending;
  const s = detail.state;
  const shownError =
    (deploy.error && !resetNeeded(deploy.error) ? deploy.error : null) ??
    change.error ??
    preview.error ??
    (sync.status === "error" ? sync.error : null);

  const toolbar = (
    <>
      <header className="pe-toolbar">
        <div className="row">
          <Crumb />
          <h1 className="pe-name" data-testid="pipeline-name">
            {name}
          </h1>
          <StateBadge detail={detail} />
          <span className="small muted" data-testid="save-status" data-status={sync.status}>
            {SAVE_TEXT[sync.status]}
          </span>
          <Link href={`/pipelines/${enc(name)}/versions`} className="small" data-testid="editor-versions-link">
            Versions
          </Link>
        </div>
        <div className="row">
          <EditTools />
          <button type="button" data-testid="validate" onClick={() => void runValidate()} disabled={sync.validating}>
            Validate
          </button>
          <span className="row pe-preview-group">
            <PreviewSampleControl sample={sample} onChange={setSample} />
            <button type="button" data-testid="preview" onClick={() => void runPreview()} disabled={preview.isPending}>
              {preview.isPending ? "Previewing…" : "Preview"}
            </button>
          </span>
          <button type="button" className="primary" data-testid="deploy" disabled={busy} onClick={() => void runDeploy(false)}>
            {deploy.isPending ? "Deploying…" : "Deploy"}
          </button>
          {s === "running" && (
            <button type="button" data-testid="pause" disabled={busy} onClick={() => change.mutate("pause")}>
              Pause
            </button>
          )}
          {s === "paused" && (
            <button type="button" data-testid="resume" disabled={busy} onClick={() => change.mutate("resume")}>
              Resume
            </button>
          )}
          {(s === "running" || s === "paused" || s === "failed") && (
            <button type="button" data-testid="stop" disabled={busy} onClick={() => change.mutate("stop")}>
              Stop
            </button>
          )}
        </div>
      </header>
      {detail.error && (
        <div className="alert" data-testid="pipeline-failure">
          Failed{detail.error.node ? ` at ${detail.error.node}` : ""}: {detail.error.message}
        </div>
      )}
      {sync.newer && (
        <div className="notice pe-newer" role="status" data-testid="newer-draft">
          A newer draft of this pipeline was saved elsewhere ({new Date(sync.newer.updatedAt).toLocaleTimeString()}).
          <button type="button" data-testid="newer-load" onClick={sync.takeNewer}>
            Load it
          </button>
          <button type="button" data-testid="newer-keep" onClick={sync.keepMine}>
            Keep mine
          </button>
        </div>
      )}
      <ErrorBox error={shownError} testId="editor-error" />
      <Dialog open={resetAsk !== null} onClose={() => setResetAsk(null)} title="Deploy with a state reset?" testId="reset-dialog">
        <p>
          The stateful node{resetAsk && resetAsk.length === 1 ? "" : "s"} <b className="mono">{resetAsk?.join(", ")}</b> changed since the
          running version. Their stored state (windows, tables, join buffers) does not fit the new definition: deploying drops it and the
          pipeline starts over from its sources’ start.
        </p>
        <div className="row" style={{ justifyContent: "flex-end" }}>
          <button type="button" onClick={() => setResetAsk(null)} data-testid="reset-cancel">
            Cancel
          </button>
          <button type="button" className="danger" onClick={() => void runDeploy(true)} data-testid="reset-confirm">
            Reset state and deploy
          </button>
        </div>
      </Dialog>
    </>
  );
  return (
    <EditorFrame
      store={store}
      toolbar={toolbar}
      checking={sync.status !== "saved" || sync.validating}
      tab={tab}
      onTab={setTab}
      pipeline={name}
    />
  );
}

/** A pipeline drawn before it exists: from a template or from nothing; Create stores it. */
export function NewPipelineEditor({ template }: { template?: string }) {
  const t = template ? pipelineTemplate(template) : undefined;
  const [store] = useState(
    () => new EditorStore(t ? docFrom(structuredClone(t.definition), t.id) : ({ name: "", nodes: [], edges: [] } satisfies EditorDoc)),
  );
  const [name, setName] = useState(t?.id ?? "");
  const [tab, setTab] = useState<BottomTab>("problems");
  const [creating, setCreating] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const router = useRouter();
  const nameProblem = name ? ZPipelineName.safeParse(name).error?.issues[0]?.message : undefined;
  const create = async () => {
    setCreating(true);
    setError(null);
    try {
      await api("POST", "/api/v1/pipelines", { ...definitionOf(store.getState().doc), name });
      router.replace(`/pipelines/${enc(name)}`);
    } catch (e) {
      setError(e);
      setCreating(false);
    }
  };
  const toolbar = (
    <>
      <header className="pe-toolbar">
        <div className="row">
          <Crumb />
          <h1 className="pe-name">New pipeline</h1>
          {t && (
            <span className="badge" data-testid="template-badge">
              from template: {t.title}
            </span>
          )}
        </div>
        <div className="row">
          <EditTools />
          <input
            aria-label="pipeline name"
            placeholder="pipeline name"
            data-testid="new-pipeline-name"
            value={name}
            aria-invalid={nameProblem ? true : undefined}
            onChange={(e) => setName(e.target.value)}
          />
          <button
            type="button"
            className="primary"
            data-testid="create-pipeline"
            disabled={!name || !!nameProblem || creating}
            onClick={() => void create()}
            title="Store the draft; then validate, preview and deploy it"
          >
            {creating ? "Creating…" : "Create pipeline"}
          </button>
        </div>
      </header>
      {nameProblem && (
        <div className="field-error" data-testid="new-pipeline-name-error">
          {nameProblem}
        </div>
      )}
      {t && <p className="small muted pe-template-help">{t.description}</p>}
      <ErrorBox error={error} testId="editor-error" />
    </>
  );
  return <EditorFrame store={store} toolbar={toolbar} checking={false} tab={tab} onTab={setTab} />;
}
