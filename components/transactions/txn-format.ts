/** Display helpers for the transactions page. */
import type { CSSProperties } from "react";
import type { TTransaction } from "../hooks/use-transactions";

/** A duration as people read it: 850 ms, 4.2 s, 37 s, 2 min 5 s, 1 h 3 min. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "—";
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return s % 60 === 0 ? `${s / 60} min` : `${Math.floor(s / 60)} min ${s % 60} s`;
  const m = Math.floor(s / 60);
  return m % 60 === 0 ? `${m / 60} h` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

const TONE: Record<TTransaction["state"], string> = {
  Empty: "var(--muted)",
  Ongoing: "var(--accent)",
  PrepareCommit: "var(--warn)",
  PrepareAbort: "var(--warn)",
  CompleteCommit: "var(--ok)",
  CompleteAbort: "var(--danger)",
  Dead: "var(--muted)",
};

/** The badge colours of a transaction state (theme variables, so both themes work). */
export function stateStyle(state: TTransaction["state"]): CSSProperties {
  const c = TONE[state] ?? "var(--muted)";
  return { color: c, borderColor: c, background: state === "Ongoing" ? "color-mix(in srgb, var(--accent) 10%, transparent)" : undefined };
}

export function resultStyle(commit: boolean): CSSProperties {
  const c = commit ? "var(--ok)" : "var(--danger)";
  return { color: c, borderColor: c };
}

/** What a completion reason means, for the tooltip. */
export const REASONS: Record<string, string> = {
  client: "ended by the producer (commit or abort call)",
  timeout: "aborted by the broker: open longer than the transaction timeout",
  fenced: "aborted because a newer producer instance initialised the same transactional id",
  recovery: "aborted at server start-up: it was still open when the server stopped",
  operator: "aborted by an operator (the console's Abort, or POST …/force-abort); its producer was fenced",
};
