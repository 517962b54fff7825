"use client";
/**
 * The live topology for the canvas: the server's snapshot pushed over the console's WebSocket
 * once a second (`subscribe-topology`), merged with the simulations list (simulated members'
 * states and indexes, simulated producers while paused).
 */
import { startTransition, useCallback, useMemo, useState } from "react";
import type { TTopologySnapshot } from "@/server/schemas/topology";
import { useSocket, type SocketStatus } from "../hooks/use-socket";
import { topologyFromSnapshot } from "./from-snapshot";
import type { TopologyView } from "./model";
import { useSimulations } from "./use-simulations";

export interface TopologyState {
  view: TopologyView | null;
  /** the server refused the subscription, or the simulations could not be read */
  error: string | null;
  status: SocketStatus;
  /** subscribe again (after an error), read the simulations again (after a change) */
  refresh(): void;
}

export function useTopology(): TopologyState {
  const sims = useSimulations();
  const [snapshot, setSnapshot] = useState<TTopologySnapshot | null>(null);
  const [feedError, setFeedError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const status = useSocket(
    feedError === null ? `topology-${attempt}` : null,
    () => [{ type: "subscribe-topology", id: "topology" }],
    (msg) => {
      // a snapshot redraws the canvas: as a transition, so React can split the work and keep the page answering
      if (msg.type === "topology") startTransition(() => setSnapshot(msg.topology));
      else if (msg.type === "error" && msg.id === "topology") setFeedError(msg.error.message);
    },
  );
  const simList = sims.data ?? null;
  const view = useMemo(() => (snapshot ? topologyFromSnapshot(snapshot, simList) : null), [snapshot, simList]);
  const refetch = sims.refetch;
  const refresh = useCallback(() => {
    void refetch();
    setFeedError((e) => {
      if (e !== null) setAttempt((a) => a + 1);
      return null;
    });
  }, [refetch]);
  const simError = sims.error ? `simulations: ${sims.error instanceof Error ? sims.error.message : String(sims.error)}` : null;
  return { view, error: feedError ?? simError, status, refresh };
}
