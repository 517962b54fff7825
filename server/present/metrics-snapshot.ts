import type { TMetrics, TRate, TThroughputPoint } from "../schemas/console.ts";
import type { Broker } from "../broker/broker.ts";
import { meterFor } from "./throughput-meter.ts";

/** Rates are the mean of the last few complete seconds, so one bursty second does not jump. */
const WINDOW_SECONDS = 3;

function rates(history: TThroughputPoint[]): { in: TRate; out: TRate } {
  const last = history.slice(-WINDOW_SECONDS);
  const sum = (f: (p: TThroughputPoint) => number) => last.reduce((s, p) => s + f(p), 0) / WINDOW_SECONDS;
  return {
    in: { recordsPerSec: sum((p) => p.inRecords), bytesPerSec: sum((p) => p.inBytes) },
    out: { recordsPerSec: sum((p) => p.outRecords), bytesPerSec: sum((p) => p.outBytes) },
  };
}

/**
 * The overview's numbers: storage, topic/partition/group counts, and per-second throughput in
 * and out (total and per topic) over the last minute, as measured by this server process.
 */
export async function metricsSnapshot(broker: Broker): Promise<TMetrics> {
  const meter = meterFor(broker);
  const now = Date.now();
  const topics = await broker.listTopics();
  let groups = 0;
  try {
    groups = (await broker.listGroups()).length;
  } catch {
    // consumer groups disabled on this broker
  }
  const byTopic = topics.map((t) => {
    const history = meter.history(t.name, now);
    return { topic: t.name, ...rates(history), history };
  });
  const history: TThroughputPoint[] = meter.history("", now).map((p, i) => {
    const point = { ...p };
    for (const t of byTopic) {
      const q = t.history[i];
      point.inRecords += q.inRecords;
      point.inBytes += q.inBytes;
      point.outRecords += q.outRecords;
      point.outBytes += q.outBytes;
    }
    return point;
  });
  return {
    at: now,
    storage: {
      sizeBytes: topics.reduce((s, t) => s + t.sizeBytes, 0),
      recordCount: topics.reduce((s, t) => s + t.recordCount, 0),
    },
    topics: topics.length,
    partitions: topics.reduce((s, t) => s + t.partitions.length, 0),
    groups,
    windowSeconds: WINDOW_SECONDS,
    total: rates(history),
    history,
    byTopic,
  };
}
