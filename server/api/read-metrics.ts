import type { TMetrics } from "../schemas/console.ts";
import { metricsSnapshot } from "../present/metrics-snapshot.ts";
import { getBroker } from "./registry.ts";

/** The overview's numbers (storage, counts, throughput in and out) of the running broker. */
export function readMetrics(): Promise<TMetrics> {
  return metricsSnapshot(getBroker());
}
