"use client";
/**
 * The running view's data: while the open pipeline is deployed (running, paused or failed) the
 * server pushes its metrics once a second over the console's WebSocket (subscribe-pipeline-metrics)
 * and each reading goes to the editor's store, where the canvas draws it (counts and rates on
 * edges, badges on nodes); otherwise the store holds none.
 */
import { useEffect } from "react";
import { useSocket } from "../hooks/use-socket";
import type { EditorStore } from "./editor-store";

const DEPLOYED = new Set(["running", "paused", "failed"]);

export function useRunningMetrics(name: string, store: EditorStore, state: string): void {
  const deployed = DEPLOYED.has(state);
  useSocket(
    deployed ? `pipeline-metrics:${name}` : null,
    () => [{ type: "subscribe-pipeline-metrics", id: "running-view", pipeline: name }],
    (msg) => {
      if (msg.type === "pipeline-metrics" && msg.metrics.name === name) store.dispatch({ type: "metrics", metrics: msg.metrics });
    },
  );
  useEffect(() => {
    if (!deployed) store.dispatch({ type: "metrics", metrics: null });
  }, [deployed, store]);
}
