/**
 * Pushes the console overview's metrics (storage, counts, throughput in/out per topic) to a
 * socket once a second while it is subscribed. A congested socket skips a tick rather than
 * queueing: the next frame carries the whole last minute anyway.
 */
import type { WebSocket } from "ws";
import { readMetrics } from "../api/read-metrics.ts";
import type { TLiveServerMessage } from "../schemas/live.ts";

export const METRICS_EVERY_MS = 1000;

export class MetricsFeed {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly ws: WebSocket,
    private readonly highWaterBytes: number,
  ) {}

  has(id: string): boolean {
    return this.timers.has(id);
  }

  subscribe(id: string): void {
    const tick = async () => {
      if (this.ws.readyState !== this.ws.OPEN || this.ws.bufferedAmount > this.highWaterBytes) return;
      try {
        const metrics = await readMetrics();
        if (this.timers.has(id)) this.send({ type: "metrics", id, metrics });
      } catch {
        // a failed read is skipped; the next tick tries again
      }
    };
    this.timers.set(id, setInterval(() => void tick(), METRICS_EVERY_MS));
    void tick();
  }

  unsubscribe(id: string): void {
    clearInterval(this.timers.get(id));
    this.timers.delete(id);
  }

  close(): void {
    for (const t of this.timers.values()) clearInterval(t);
    this.timers.clear();
  }

  private send(msg: TLiveServerMessage): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(msg));
  }
}
