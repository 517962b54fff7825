"use client";
import { useRef, useState } from "react";
import { useSocket, type SocketStatus } from "./use-socket";
import type { TRecord } from "@/server/schemas/record";

export type LiveStatus = SocketStatus;

export interface LiveSubscription {
  topic: string;
  /** omitted: every partition */
  partitions?: number[];
}

export interface LiveHandlers {
  onRecords(records: TRecord[]): void;
  onLagging?(skipped: number, message: string): void;
  onError?(message: string): void;
}

/**
 * Live tail over the console's WebSocket (use-socket.ts): subscribes to a topic from the latest
 * offset and hands record frames to `handlers` (kept in a ref, so callers need not memoise them).
 */
export function useLiveSocket(sub: LiveSubscription | null, handlers: LiveHandlers): { status: LiveStatus; error: string | null } {
  const [error, setError] = useState<string | null>(null);
  const h = useRef(handlers);
  h.current = handlers;
  const key = sub ? `${sub.topic}|${sub.partitions?.join(",") ?? "*"}` : null;
  const status = useSocket(
    key,
    () => (sub ? [{ type: "subscribe", id: "tail", topic: sub.topic, partitions: sub.partitions, from: "latest" }] : []),
    (msg) => {
      if (msg.type === "records") h.current.onRecords(msg.records);
      else if (msg.type === "lagging") h.current.onLagging?.(msg.skippedTo - msg.skippedFrom, msg.message);
      else if (msg.type === "error") {
        setError(msg.error.message);
        h.current.onError?.(msg.error.message);
      } else if (msg.type === "subscribed") setError(null);
    },
  );
  return { status, error };
}
