/**
 * Records and bytes in (appends) and out (reads) per topic since this process started, for
 * Prometheus counters. Fed by the broker's `append` and `fetch` events: a few additions per
 * batch, no allocation once a topic is known. Deleted topics are dropped, so the map holds at
 * most the topics the broker holds.
 */
import type { Broker } from "../broker/broker.ts";

export interface TopicTraffic {
  recordsIn: number;
  bytesIn: number;
  recordsOut: number;
  bytesOut: number;
}

export class TrafficTotals {
  readonly topics = new Map<string, TopicTraffic>();

  private of(topic: string): TopicTraffic {
    let t = this.topics.get(topic);
    if (!t) this.topics.set(topic, (t = { recordsIn: 0, bytesIn: 0, recordsOut: 0, bytesOut: 0 }));
    return t;
  }

  addIn(topic: string, records: number, bytes: number): void {
    const t = this.of(topic);
    t.recordsIn += records;
    t.bytesIn += bytes;
  }

  addOut(topic: string, records: number, bytes: number): void {
    if (records === 0 && bytes === 0) return;
    const t = this.of(topic);
    t.recordsOut += records;
    t.bytesOut += bytes;
  }

  /** Forgets every topic not in `existing` (deleted, perhaps by another process). */
  keepOnly(existing: ReadonlySet<string>): void {
    for (const topic of this.topics.keys()) if (!existing.has(topic)) this.topics.delete(topic);
  }

  /** Counts the broker's traffic from now on. */
  static follow(broker: Broker): TrafficTotals {
    const totals = new TrafficTotals();
    broker.events.on("append", (e) => totals.addIn(e.topic, e.recordCount, e.sizeBytes));
    broker.events.on("fetch", (e) => totals.addOut(e.topic, e.recordCount, e.sizeBytes));
    broker.events.on("topic-deleted", (e) => totals.topics.delete(e.topic));
    return totals;
  }
}
