"use client";
import { useState } from "react";
import type { TMetrics } from "@/server/schemas/console";
import { useSocket, type SocketStatus } from "./use-socket";

/** How often the server pushes metrics over the WebSocket. */
export const METRICS_PUSH_MS = 1000;

/** Throughput and totals, pushed by the server over the console's WebSocket every second. */
export function useMetrics(): { data: TMetrics | undefined; status: SocketStatus } {
  const [data, setData] = useState<TMetrics | undefined>(undefined);
  const status = useSocket(
    "metrics",
    () => [{ type: "subscribe-metrics", id: "metrics" }],
    (msg) => {
      if (msg.type === "metrics") setData(msg.metrics);
    },
  );
  return { data, status };
}
