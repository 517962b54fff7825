"use client";
import { useEffect, useRef, useState } from "react";
import type { TLiveServerMessage } from "@/server/schemas/live";
import type { TRecord } from "@/server/schemas/record";

export type LiveStatus = "connecting" | "open" | "closed";

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
 * The console's one WebSocket (/ws): subscribes to a topic from the latest offset and hands
 * record frames to `handlers` (kept in a ref, so callers need not memoise them). Reconnects
 * after a second when the socket drops; `enabled: false` closes it.
 */
export function useLiveSocket(sub: LiveSubscription | null, handlers: LiveHandlers): { status: LiveStatus; error: string | null } {
  const [status, setStatus] = useState<LiveStatus>("closed");
  const [error, setError] = useState<string | null>(null);
  const h = useRef(handlers);
  h.current = handlers;
  const key = sub ? `${sub.topic}|${sub.partitions?.join(",") ?? "*"}` : null;

  useEffect(() => {
    if (!sub) {
      setStatus("closed");
      return;
    }
    let ws: WebSocket | null = null;
    let stopped = false;
    let retry: ReturnType<typeof setTimeout> | null = null;
    const connect = () => {
      setStatus("connecting");
      const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
      const sock = new WebSocket(url);
      ws = sock;
      sock.onopen = () => {
        setStatus("open");
        setError(null);
        sock.send(JSON.stringify({ type: "subscribe", id: "tail", topic: sub.topic, partitions: sub.partitions, from: "latest" }));
      };
      sock.onmessage = (ev) => {
        const msg = JSON.parse(ev.data as string) as TLiveServerMessage;
        if (msg.type === "records") h.current.onRecords(msg.records);
        else if (msg.type === "lagging") h.current.onLagging?.(msg.skippedTo - msg.skippedFrom, msg.message);
        else if (msg.type === "error") {
          setError(msg.error.message);
          h.current.onError?.(msg.error.message);
        }
      };
      sock.onclose = () => {
        if (ws !== sock) return;
        setStatus("closed");
        if (!stopped) retry = setTimeout(connect, 1000);
      };
    };
    connect();
    return () => {
      stopped = true;
      if (retry) clearTimeout(retry);
      const s = ws;
      ws = null;
      s?.close();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  return { status, error };
}
