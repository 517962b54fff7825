"use client";
/**
 * /topology: the live picture of what flows where — producers, topics and their partitions,
 * consumer groups with their members, pipelines — pushed by the server every second; a palette
 * to build with simulated clients by dragging; a group's rebalance timeline beside the canvas.
 */
import { ReactFlowProvider } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import "../pipelines/pipelines.css";
import "./topology.css";
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from "react";
import type { TScenario, TScenarioId } from "@/server/schemas/topology";
import { errorMessage } from "../hooks/api";
import { ErrorBox, Loading } from "../ui/status";
import { TopologyActions, type TopologyActionsValue } from "./actions-context";
import { BuildDialog, type BuildForm } from "./build-forms";
import { nodeId } from "./graph";
import type { TopologyView } from "./model";
import { Palette, TOPOLOGY_DRAG_MIME, type PaletteKind } from "./palette";
import { RebalanceTimeline } from "./rebalance-timeline";
import { ScenariosPanel, useScenarios } from "./scenarios-panel";
import { TopologyCanvas } from "./topology-canvas";
import {
  useAddSimulatedMembers,
  useDeleteSimulatedGroup,
  useDeleteSimulatedProducer,
  useSimulatedMemberAction,
  useUpdateSimulatedProducer,
} from "./use-simulations";
import { useTopology } from "./use-topology";

const NOTICE_MS = 6000;
/** How long the canvas keeps what the user just built in view while it grows (members join, edges appear). */
const FOCUS_MS = 8000;

/** The topic node under a point of the page, if any (a drop target). */
function topicAt(x: number, y: number): string | null {
  for (const el of document.elementsFromPoint(x, y)) {
    const t = el.closest("[data-drop-topic]");
    if (t) return t.getAttribute("data-drop-topic");
  }
  return null;
}

const visibleTopics = (view: TopologyView | null) =>
  (view?.topics ?? []).filter((t) => !t.internal && !t.name.startsWith("__")).map((t) => t.name);

/** What the panel beside the canvas shows. */
type Side = { kind: "timeline"; group: string } | { kind: "scenarios" } | null;

/**
 * A scenario just started: once its topics exist, they are shown with their partitions as lanes
 * and brought into view (the scenarios are about who reads which partition).
 */
function useScenarioOnCanvas(
  setExpanded: (f: (s: ReadonlySet<string>) => ReadonlySet<string>) => void,
  setFocus: (f: { id: string; until: number }) => void,
) {
  const [pending, setPending] = useState<TScenarioId | null>(null);
  const scenarios = useScenarios(pending !== null);
  const topics = scenarios.data?.find((s) => s.id === pending)?.topics;
  useEffect(() => {
    if (!topics?.length) return;
    setPending(null);
    setExpanded((s) => new Set([...s, ...topics]));
    setFocus({ id: nodeId.topic(topics[0]), until: Date.now() + FOCUS_MS });
  }, [topics, setExpanded, setFocus]);
  return useCallback((s: TScenario) => setPending(s.id), []);
}

/** The page's answers to the nodes' buttons, behind a value that never changes (see actions-context.tsx). */
function useActions(
  view: TopologyView | null,
  setExpanded: (f: (s: ReadonlySet<string>) => ReadonlySet<string>) => void,
  setFocus: (f: { id: string; until: number }) => void,
) {
  const [side, setSide] = useState<Side>(null);
  const [form, setForm] = useState<BuildForm | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const memberAction = useSimulatedMemberAction();
  const updateProducer = useUpdateSimulatedProducer();
  const deleteProducer = useDeleteSimulatedProducer();
  const addMembers = useAddSimulatedMembers();
  const deleteGroup = useDeleteSimulatedGroup();
  const latest = useRef({ view, memberAction, updateProducer, deleteProducer, addMembers, deleteGroup });
  latest.current = { view, memberAction, updateProducer, deleteProducer, addMembers, deleteGroup };

  useEffect(() => {
    if (!notice) return;
    const t = setTimeout(() => setNotice(null), NOTICE_MS);
    return () => clearTimeout(t);
  }, [notice]);

  const actions = useMemo<TopologyActionsValue>(() => {
    const failed = (what: string) => ({ onError: (e: unknown) => setNotice(`${what}: ${errorMessage(e)}`) });
    return {
      toggleTopic: (topic) =>
        setExpanded((s) => {
          const next = new Set(s);
          if (!next.delete(topic)) next.add(topic);
          return next;
        }),
      addPartitions: (topic) => {
        const t = latest.current.view?.topics.find((x) => x.name === topic);
        if (t) setForm({ kind: "partitions", topic, current: t.partitions.length });
      },
      showTimeline: (group) => {
        setSide({ kind: "timeline", group });
        // the canvas narrows for the panel: keep the group in view
        setFocus({ id: nodeId.group(group), until: Date.now() + 1500 });
      },
      memberAction: (id, index, action) =>
        latest.current.memberAction.mutate({ id, index, action }, failed(`Could not ${action} the member`)),
      producerAction: (id, action) => {
        const l = latest.current;
        if (action === "delete") l.deleteProducer.mutate(id, failed("Could not delete the producer"));
        else l.updateProducer.mutate({ id, paused: action === "pause" }, failed(`Could not ${action} the producer`));
      },
      groupAction: (id, action) => {
        const l = latest.current;
        if (action === "delete") l.deleteGroup.mutate(id, failed("Could not delete the group"));
        else l.addMembers.mutate({ id, count: 1 }, failed("Could not add a member"));
      },
    };
  }, [setExpanded, setFocus]);
  return { actions, side, setSide, form, setForm, notice, setNotice };
}

export function TopologyPage() {
  const { view, error, status, refresh } = useTopology();
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(() => new Set());
  const [focus, setFocus] = useState<{ id: string; until: number } | null>(null);
  const { actions, side, setSide, form, setForm, notice, setNotice } = useActions(view, setExpanded, setFocus);
  const showScenario = useScenarioOnCanvas(setExpanded, setFocus);
  const [dragging, setDragging] = useState<PaletteKind | null>(null);
  const topics = useMemo(() => visibleTopics(view), [view]);

  const onDragOver = useCallback((e: DragEvent) => {
    if (!e.dataTransfer.types.includes(TOPOLOGY_DRAG_MIME)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "copy";
  }, []);

  const onDrop = useCallback(
    (e: DragEvent) => {
      const kind = e.dataTransfer.getData(TOPOLOGY_DRAG_MIME) as PaletteKind;
      if (!kind) return;
      e.preventDefault();
      setDragging(null);
      if (kind === "topic") return setForm({ kind: "topic" });
      const topic = topicAt(e.clientX, e.clientY);
      if (!topic) setNotice(`Drop the ${kind === "producer" ? "producer" : "group"} onto a topic — or choose the topic in the form.`);
      setForm({ kind, topic });
    },
    [setForm, setNotice],
  );

  const closeForm = useCallback(
    (built?: string) => {
      setForm(null);
      refresh();
      if (built) setFocus({ id: built, until: Date.now() + FOCUS_MS });
    },
    [setForm, refresh],
  );

  return (
    <section className="topo-page" data-testid="topology-page">
      <div className="topo-toolbar">
        <div className="row">
          <h1>Topology</h1>
          <span
            className={`topo-pill topo-live ${status}`}
            data-testid="topology-status"
            data-status={status}
            title={status === "open" ? "pushed by the server every second" : `WebSocket ${status}: reconnecting`}
          >
            {status === "open" ? "live" : status}
          </span>
        </div>
        <div className="row">
          <button
            type="button"
            data-testid="topology-scenarios"
            aria-pressed={side?.kind === "scenarios"}
            onClick={() => setSide(side?.kind === "scenarios" ? null : { kind: "scenarios" })}
          >
            Scenarios
          </button>
          <button type="button" data-testid="topology-expand-all" disabled={!view} onClick={() => setExpanded(new Set(topics))}>
            Expand all partitions
          </button>
          <button type="button" data-testid="topology-collapse-all" disabled={expanded.size === 0} onClick={() => setExpanded(new Set())}>
            Collapse all
          </button>
        </div>
      </div>
      {error && !view ? (
        <div className="stack">
          <ErrorBox error={error} testId="topology-error" />
          <div>
            <button type="button" data-testid="topology-retry" onClick={refresh}>
              Try again
            </button>
          </div>
        </div>
      ) : !view ? (
        <Loading height={480} testId="topology-loading" />
      ) : (
        <TopologyActions.Provider value={actions}>
          <ReactFlowProvider>
            <div className={`topo-body with-palette${side ? " with-side" : ""}`}>
              <Palette onPick={(kind) => setForm(kind === "topic" ? { kind } : { kind, topic: null })} onDragKind={setDragging} />
              <TopologyCanvas view={view} expanded={expanded} onDragOver={onDragOver} onDrop={onDrop} dropping={dragging} focus={focus}>
                {topics.length === 0 && (
                  <div className="topo-empty" data-testid="topology-empty">
                    No topics yet. Drag a topic from the palette onto the canvas, then a simulated producer and a consumer group onto it —
                    or produce from your own clients: what flows shows up here live. Or open Scenarios for a guided run.
                  </div>
                )}
                {(error || status !== "open") && (
                  <div className="topo-stale" role="status" data-testid="topology-stale">
                    {error ? <ErrorBox error={error} /> : "Not updating: the connection to the server dropped; reconnecting…"}
                  </div>
                )}
                {notice && (
                  <div className="topo-notice" role="status" data-testid="topology-notice">
                    {notice}
                  </div>
                )}
              </TopologyCanvas>
              {side?.kind === "timeline" && <RebalanceTimeline group={side.group} onClose={() => setSide(null)} />}
              {side?.kind === "scenarios" && <ScenariosPanel onClose={() => setSide(null)} onStarted={showScenario} />}
            </div>
          </ReactFlowProvider>
        </TopologyActions.Provider>
      )}
      <BuildDialog form={form} topics={topics} onClose={closeForm} />
    </section>
  );
}
