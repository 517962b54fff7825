"use client";
/**
 * The running view's data: while the open pipeline is deployed (running, paused or failed) its
 * metrics are read once a second and put in the editor's store, where the canvas draws them
 * (counts and rates on edges, badges on nodes); otherwise the store holds none.
 */
import { useQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import type { TPipelineMetrics } from "@/server/schemas/pipeline";
import { api, enc } from "../hooks/api";
import type { EditorStore } from "./editor-store";

/** How often the running view reads the metrics (the server's rates are over the last 5 s). */
export const RUNNING_METRICS_MS = 1000;

const DEPLOYED = new Set(["running", "paused", "failed"]);

export function useRunningMetrics(name: string, store: EditorStore, state: string): void {
  const deployed = DEPLOYED.has(state);
  const metrics = useQuery({
    queryKey: ["pipeline-metrics", name],
    queryFn: ({ signal }) => api<TPipelineMetrics>("GET", `/api/v1/pipelines/${enc(name)}/metrics`, undefined, signal),
    enabled: deployed,
    refetchInterval: deployed ? RUNNING_METRICS_MS : false,
  });
  const data = deployed ? (metrics.data ?? null) : null;
  useEffect(() => store.dispatch({ type: "metrics", metrics: data }), [store, data]);
}
