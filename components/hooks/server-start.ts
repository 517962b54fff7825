"use client";
/**
 * Notices that the server process was restarted (by its supervisor, after a crash) while the
 * console stayed open: every server response carries its process's start time in
 * `x-tributary-started-at`; a later value than the first one seen means a new process. The
 * first one is the page's own (its navigation entry's `Server-Timing: started`), so a restart
 * between the page's load and its first API call or socket still counts.
 */
const HEADER = "x-tributary-started-at";

let firstSeen: number | null = pageServedAt();
let restartedAt: number | null = null;
const listeners = new Set<(at: number) => void>();

/** The start time of the process that served this page, if the browser exposes it. */
function pageServedAt(): number | null {
  if (typeof performance === "undefined" || typeof performance.getEntriesByType !== "function") return null;
  const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming | undefined;
  const at = Number(nav?.serverTiming?.find((t) => t.name === "started")?.description);
  return Number.isFinite(at) && at > 0 ? at : null;
}

/** Feeds one response's start-time header (from any API call). */
export function observeServerStart(res: Response): void {
  const at = Number(res.headers.get(HEADER));
  if (!Number.isFinite(at) || at <= 0) return;
  if (firstSeen === null) firstSeen = at;
  else if (at > firstSeen && at !== restartedAt) {
    restartedAt = at;
    for (const l of listeners) l(at);
  }
}

/** Asks the server now (e.g. when the WebSocket connects again after a drop). */
export function checkServerStart(): void {
  fetch("/api/v1/openapi.json", { method: "HEAD", cache: "no-store" })
    .then(observeServerStart)
    .catch(() => undefined);
}

/** Calls `fn` with the new start time whenever a restart is noticed; returns the unsubscribe. */
export function onServerRestart(fn: (at: number) => void): () => void {
  listeners.add(fn);
  if (restartedAt !== null) fn(restartedAt);
  return () => listeners.delete(fn);
}
