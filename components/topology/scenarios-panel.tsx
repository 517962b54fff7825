"use client";
/**
 * One-click teaching scenarios beside the live canvas: each with its explanation, Start and
 * Reset, the steps as the broker showed them, and a result panel with the outcome the server
 * measured (reached or not, a summary, the figures). A scenario creates only its own topics,
 * groups and simulated clients, and reset removes them.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { TScenario, TScenarioId, TScenarioList } from "@/server/schemas/topology";
import { api } from "../hooks/api";
import { DeliveryComparison, isComparedMeasure } from "./delivery-comparison";
import { formatCount } from "../ui/format";
import { ErrorBox, Loading } from "../ui/status";
import { isOrderingViewMeasure, OrderingView } from "./ordering-view";

const KEY = ["scenarios"] as const;

export function useScenarios(enabled = true) {
  return useQuery({
    queryKey: KEY,
    enabled,
    queryFn: ({ signal }) => api<TScenarioList>("GET", "/api/v1/scenarios", undefined, signal).then((r) => r.scenarios),
    refetchInterval: (q) => (q.state.data?.some((s) => s.state === "running") ? 1000 : 3000),
  });
}

function useScenarioAction(action: "start" | "reset") {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: TScenarioId) => api<TScenario>("POST", `/api/v1/scenarios/${id}/${action}`),
    onSettled: () => qc.invalidateQueries({ queryKey: KEY }),
  });
}

const clock = (ts: number) => new Date(ts).toLocaleTimeString("en-GB", { hour12: false });

/** A measure as it reads best: numbers grouped, lists of numbers as "4 · 4 · 4", milliseconds as seconds. */
function measureText(name: string, v: number | string | number[]): string {
  if (Array.isArray(v)) return v.join(" · ");
  if (typeof v === "number") return /ms$/i.test(name) ? `${(v / 1000).toFixed(1)} s` : formatCount(v);
  return v;
}

/** camelCase measure names as words: partitionsBefore → partitions before, takeoverMs → takeover. */
const measureName = (name: string) =>
  name
    .replace(/Ms$/, "")
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .toLowerCase();

function Result({ s }: { s: TScenario }) {
  if (s.state === "failed")
    return (
      <div className="topo-result failed" data-testid={`scenario-result-${s.id}`} data-reached="false">
        <strong>Failed</strong>
        <ErrorBox error={s.error ?? "the scenario stopped"} />
      </div>
    );
  if (!s.outcome)
    return s.state === "running" ? (
      <div className="topo-result muted small" data-testid={`scenario-result-${s.id}`}>
        Running… the result is measured from the broker when it finishes.
      </div>
    ) : null;
  return (
    <div
      className={`topo-result ${s.outcome.reached ? "reached" : "missed"}`}
      data-testid={`scenario-result-${s.id}`}
      data-reached={s.outcome.reached}
    >
      <strong>{s.outcome.reached ? "✓ Outcome reached" : "✗ Outcome not reached"}</strong>
      <p>{s.outcome.summary}</p>
      <DeliveryComparison measures={s.outcome.measures} />
      {s.id === "ordering" && <OrderingView measures={s.outcome.measures} />}
      <dl className="topo-measures">
        {Object.entries(s.outcome.measures)
          .filter(([k]) => !isComparedMeasure(k) && (s.id !== "ordering" || !isOrderingViewMeasure(k)))
          .map(([k, v]) => (
            <div key={k} data-testid={`scenario-measure-${k}`}>
              <dt>{measureName(k)}</dt>
              <dd>{measureText(k, v)}</dd>
            </div>
          ))}
      </dl>
    </div>
  );
}

function ScenarioCard({ s, open, onOpen, onStarted }: { s: TScenario; open: boolean; onOpen(): void; onStarted(s: TScenario): void }) {
  const start = useScenarioAction("start");
  const reset = useScenarioAction("reset");
  const busy = start.isPending || reset.isPending;
  return (
    <section className={`topo-scenario${open ? " open" : ""}`} data-testid={`scenario-${s.id}`} data-state={s.state}>
      <div className="spread">
        <button type="button" className="topo-scenario-title" aria-expanded={open} onClick={onOpen}>
          {s.title}
        </button>
        <span className={`topo-pill topo-scenario-state ${s.state}`} data-testid={`scenario-state-${s.id}`}>
          {s.state}
        </span>
      </div>
      {open && (
        <div className="stack small">
          <p className="topo-explanation">{s.explanation}</p>
          <div className="row">
            <button
              type="button"
              className="primary"
              data-testid={`scenario-start-${s.id}`}
              disabled={busy || s.state === "running"}
              onClick={() => start.mutate(s.id, { onSuccess: onStarted })}
            >
              {s.state === "idle" ? "Start" : "Run again"}
            </button>
            <button
              type="button"
              data-testid={`scenario-reset-${s.id}`}
              disabled={busy || (s.state === "idle" && s.topics.length === 0)}
              title="stop its simulated clients and delete the topics and groups it created"
              onClick={() => reset.mutate(s.id)}
            >
              Reset
            </button>
          </div>
          <ErrorBox error={start.error ?? reset.error} testId={`scenario-error-${s.id}`} />
          {s.steps.length > 0 && (
            <ol className="topo-steps" data-testid={`scenario-steps-${s.id}`}>
              {s.steps.map((st, i) => (
                <li key={i}>
                  <span className="mono muted">{clock(st.at)}</span> {st.text}
                </li>
              ))}
            </ol>
          )}
          <Result s={s} />
          {s.topics.length > 0 && <div className="muted">Created: {[...s.topics, ...s.groups].join(", ")} — removed by Reset.</div>}
        </div>
      )}
    </section>
  );
}

export function ScenariosPanel({ onClose, onStarted }: { onClose(): void; onStarted(s: TScenario): void }) {
  const q = useScenarios();
  const [open, setOpen] = useState<TScenarioId | null>(null);
  const shown = open ?? q.data?.find((s) => s.state !== "idle")?.id ?? q.data?.[0]?.id ?? null;
  return (
    <aside className="topo-side" aria-label="teaching scenarios" data-testid="scenarios-panel">
      <div className="spread">
        <h2 style={{ margin: 0 }}>Scenarios</h2>
        <button type="button" className="topo-mini" aria-label="close the scenarios" data-testid="scenarios-close" onClick={onClose}>
          ✕
        </button>
      </div>
      <p className="small muted" style={{ margin: 0 }}>
        One click each: it builds what it needs on the broker with simulated clients, runs, and measures the outcome. It only touches what
        it created.
      </p>
      {q.error ? (
        <ErrorBox error={q.error} testId="scenarios-error" />
      ) : !q.data ? (
        <Loading height={200} testId="scenarios-loading" />
      ) : (
        q.data.map((s) => <ScenarioCard key={s.id} s={s} open={shown === s.id} onOpen={() => setOpen(s.id)} onStarted={onStarted} />)
      )}
    </aside>
  );
}
