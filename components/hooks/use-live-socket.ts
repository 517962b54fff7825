"use client";
import { useRef, useState } from "react";
import { useSocket, type SocketStatus } from "./use-socket";
import type { TRecord } from "@/server/schemas/record";
import type { TLiveFilter, TLiveServerMessage } from "@/server/schemas/live";

export type LiveStatus = SocketStatus;

/** Where a tail starts, per partition (the WebSocket's `from`). */
export type LiveStart = "latest" | "earliest" | { offset: number } | { timestamp: number };

export interface LiveSubscription {
  topic: string;
  /** omitted: every partition */
  partitions?: number[];
  /** default: latest */
  from?: LiveStart;
  /** evaluated on the server: only matches are sent */
  filter?: TLiveFilter;
}

export type LiveFilterStats = Omit<Extract<TLiveServerMessage, { type: "filter-stats" }>, "type" | "id">;

export interface LiveHandlers {
  onRecords(records: TRecord[]): void;
  onLagging?(skipped: number, message: string): void;
  onError?(message: string): void;
  onFilterStats?(stats: LiveFilterStats): void;
}

/** The server's refusal of the subscription; `field` names what was wrong (e.g. `filter.cel`). */
export interface LiveError {
  message: string;
  field?: string;
}

/**
 * Live tail over the console's WebSocket (use-socket.ts): subscribes to a topic from `from`
 * (latest by default), with an optional server-side filter, and hands record frames to
 * `handlers` (kept in a ref, so callers need not memoise them). A change of topic, partitions,
 * start or filter opens a new subscription.
 */
export function useLiveSocket(sub: LiveSubscription | null, handlers: LiveHandlers): { status: LiveStatus; error: LiveError | null } {
  const [error, setError] = useState<LiveError | null>(null);
  const h = useRef(handlers);
  h.current = handlers;
  const key = sub ? JSON.stringify([sub.topic, sub.partitions ?? "*", sub.from ?? "latest", sub.filter ?? null]) : null;
  const status = useSocket(
    key,
    () =>
      sub
        ? [{ type: "subscribe", id: "tail", topic: sub.topic, partitions: sub.partitions, from: sub.from ?? "latest", filter: sub.filter }]
        : [],
    (msg) => {
      if (msg.type === "records") h.current.onRecords(msg.records);
      else if (msg.type === "lagging") h.current.onLagging?.(msg.skippedTo - msg.skippedFrom, msg.message);
      else if (msg.type === "filter-stats") h.current.onFilterStats?.(msg);
      else if (msg.type === "error") {
        const field = msg.error.details?.field;
        setError({ message: msg.error.message, field: typeof field === "string" ? field : undefined });
        h.current.onError?.(msg.error.message);
      } else if (msg.type === "subscribed") setError(null);
    },
  );
  return { status, error };
}
