"use client";
import { useEffect, useRef, useState } from "react";
import { checkServerStart } from "./server-start";
import type { TLiveClientMessage, TLiveServerMessage } from "@/server/schemas/live";

export type SocketStatus = "connecting" | "open" | "closed";

/**
 * The console's WebSocket to /ws, shared by every live view: on each (re)connection it sends
 * `hello` (the subscriptions), hands every frame to `onMessage` (kept in a ref, so callers need
 * not memoise it) and reconnects a second after the socket drops. `key` null closes it; a new
 * key reconnects with the new subscriptions.
 */
export function useSocket(
  key: string | null,
  hello: () => TLiveClientMessage[],
  onMessage: (msg: TLiveServerMessage) => void,
): SocketStatus {
  const [status, setStatus] = useState<SocketStatus>("closed");
  const handler = useRef(onMessage);
  handler.current = onMessage;
  const greet = useRef(hello);
  greet.current = hello;

  useEffect(() => {
    if (key === null) {
      setStatus("closed");
      return;
    }
    let ws: WebSocket | null = null;
    let stopped = false;
    let retry: ReturnType<typeof setTimeout> | null = null;
    const connect = () => {
      setStatus("connecting");
      const sock = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
      ws = sock;
      sock.onopen = () => {
        setStatus("open");
        // the process answering may be a restarted one (after a drop, or since the page loaded)
        checkServerStart();
        for (const m of greet.current()) sock.send(JSON.stringify(m));
      };
      sock.onmessage = (ev) => handler.current(JSON.parse(ev.data as string) as TLiveServerMessage);
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
  }, [key]);

  return status;
}
