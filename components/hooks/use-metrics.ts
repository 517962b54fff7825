"use client";
import { useQuery } from "@tanstack/react-query";
import type { TMetrics } from "@/server/schemas/console";
import { api } from "./api";

export const METRICS_POLL_MS = 1000;

/** Throughput and totals, polled every second (see the overview's note). */
export function useMetrics() {
  return useQuery({
    queryKey: ["metrics"],
    queryFn: ({ signal }) => api<TMetrics>("GET", "/api/v1/metrics", undefined, signal),
    refetchInterval: METRICS_POLL_MS,
  });
}
