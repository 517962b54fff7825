"use client";
/**
 * The live topology for the canvas: the server's snapshot pushed over the console's WebSocket
 * once a second (`subscribe-topology`), merged with the simulations list (simulated members'
 * states and indexes). A server without the feed refuses the subscription; then the picture is
 * put together from the console's REST readings once a second instead (from-console.ts).
 */
import { startTransition, useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { TGroup, TGroupList } from "@/server/schemas/group";
import type { TTopicList } from "@/server/schemas/topic";
import type { TTopologySnapshot } from "@/server/schemas/topology";
import { api, enc } from "../hooks/api";
import { useSocket, type SocketStatus } from "../hooks/use-socket";
import { topologyFromConsole, type ConsoleReading, type PipelineEntry, type ProducerEntry } from "./from-console";
import { topologyFromSnapshot } from "./from-snapshot";
import type { TopologyView } from "./model";
import { useSimulations } from "./use-simulations";

export const TOPOLOGY_REFRESH_MS = 1000;

interface PipelineListed {
  name: string;
  state: string;
  updatedAt: string;
}

export interface TopologyState {
  view: TopologyView | null;
  error: unknown;
  /** the WebSocket's state; "polling" when the server has no topology feed */
  status: SocketStatus | "polling";
  /** the server runs simulated clients */
  simulations: boolean;
  refresh(): void;
}

export function useTopology(): TopologyState {
  const sims = useSimulations();
  const [snapshot, setSnapshot] = useState<TTopologySnapshot | null>(null);
  const [feedError, setFeedError] = useState<string | null>(null);
  const status = useSocket(
    feedError === null ? "topology" : null,
    () => [{ type: "subscribe-topology", id: "topology" }],
    (msg) => {
      // a snapshot redraws the canvas: as a transition, so React can split the work and keep the page answering
      if (msg.type === "topology") startTransition(() => setSnapshot(msg.topology));
      else if (msg.type === "error" && msg.id === "topology") setFeedError(msg.error.message);
    },
  );
  const polled = useConsoleTopology(feedError !== null);
  const simList = sims.data ?? null;
  const view = useMemo(() => (snapshot ? topologyFromSnapshot(snapshot, simList) : polled.view), [snapshot, simList, polled.view]);
  const refetch = sims.refetch;
  const refresh = useCallback(() => {
    void refetch();
    polled.refresh();
  }, [refetch, polled]);
  return {
    view,
    error: snapshot ? null : polled.error,
    status: feedError === null ? status : "polling",
    simulations: sims.data !== null && sims.data !== undefined,
    refresh,
  };
}

/** The topology from the console's REST readings, once a second while `enabled`. */
function useConsoleTopology(enabled: boolean): { view: TopologyView | null; error: unknown; refresh(): void } {
  const [view, setView] = useState<TopologyView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const kick = useRef<() => void>(() => {});

  useEffect(() => {
    if (!enabled) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let before: ConsoleReading | null = null;
    let inFlight: AbortController | null = null;
    const definitions = new Map<string, { updatedAt: string; definition: PipelineEntry["definition"] }>();

    const read = async (signal: AbortSignal): Promise<ConsoleReading> => {
      const [topics, groupList, producers, pipelines] = await Promise.all([
        api<TTopicList>("GET", "/api/v1/topics", undefined, signal),
        api<TGroupList>("GET", "/api/v1/groups", undefined, signal),
        api<{ producers: ProducerEntry[] }>("GET", "/api/v1/producers", undefined, signal),
        api<{ pipelines: PipelineListed[] }>("GET", "/api/v1/pipelines", undefined, signal),
      ]);
      const groups = (
        await Promise.all(
          groupList.groups.map((g) => api<TGroup>("GET", `/api/v1/groups/${enc(g.groupId)}`, undefined, signal).catch(() => null)),
        )
      ).filter((g): g is TGroup => g !== null);
      const entries: PipelineEntry[] = await Promise.all(
        pipelines.pipelines.map(async (p) => {
          let d = definitions.get(p.name);
          if (!d || d.updatedAt !== p.updatedAt) {
            const detail = await api<{ draft: unknown; deployed: unknown }>(
              "GET",
              `/api/v1/pipelines/${enc(p.name)}`,
              undefined,
              signal,
            ).catch(() => null);
            d = { updatedAt: p.updatedAt, definition: (detail?.deployed ?? detail?.draft ?? null) as PipelineEntry["definition"] };
            definitions.set(p.name, d);
          }
          return { name: p.name, state: p.state, definition: d.definition };
        }),
      );
      return { at: Date.now(), topics: topics.topics, groups, producers: producers.producers, pipelines: entries };
    };

    const tick = async () => {
      if (timer) clearTimeout(timer);
      timer = null;
      inFlight?.abort();
      const ctl = new AbortController();
      inFlight = ctl;
      try {
        const now = await read(ctl.signal);
        if (stopped || ctl.signal.aborted) return;
        startTransition(() => setView(topologyFromConsole(now, before)));
        setError(null);
        before = now;
      } catch (e) {
        if (stopped || ctl.signal.aborted) return;
        setError(e);
      }
      if (inFlight === ctl) inFlight = null;
      if (!stopped) timer = setTimeout(tick, TOPOLOGY_REFRESH_MS);
    };
    kick.current = () => void tick();
    void tick();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      inFlight?.abort();
    };
  }, [enabled]);

  const refresh = useCallback(() => kick.current(), []);
  return useMemo(() => ({ view, error, refresh }), [view, error, refresh]);
}
