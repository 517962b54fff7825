/**
 * Per-second records/bytes in (appends) and out (fetches) per topic, for the console overview,
 * kept for the last HISTORY_SECONDS seconds in memory of this process.
 *
 * In: the broker's `append` events. Out: its `fetch` events (every reader goes through the
 * façade's fetch or fetchBatches: REST fetch, group polls, live tail, console search).
 */
import type { Broker } from "../broker/broker.ts";
import type { AppendEvent } from "../broker/events.ts";
import { perBroker } from "./per-broker.ts";

export const HISTORY_SECONDS = 60;

interface Series {
  /** second index (epoch seconds) of each slot; a stale slot counts as zero */
  sec: Float64Array;
  inRecords: Float64Array;
  inBytes: Float64Array;
  outRecords: Float64Array;
  outBytes: Float64Array;
}

function newSeries(): Series {
  return {
    sec: new Float64Array(HISTORY_SECONDS).fill(-1),
    inRecords: new Float64Array(HISTORY_SECONDS),
    inBytes: new Float64Array(HISTORY_SECONDS),
    outRecords: new Float64Array(HISTORY_SECONDS),
    outBytes: new Float64Array(HISTORY_SECONDS),
  };
}

function slot(s: Series, second: number): number {
  const i = second % HISTORY_SECONDS;
  if (s.sec[i] !== second) {
    s.sec[i] = second;
    s.inRecords[i] = s.inBytes[i] = s.outRecords[i] = s.outBytes[i] = 0;
  }
  return i;
}

export class ThroughputMeter {
  readonly topics = new Map<string, Series>();

  private series(topic: string): Series {
    let s = this.topics.get(topic);
    if (!s) this.topics.set(topic, (s = newSeries()));
    return s;
  }

  addIn(topic: string, records: number, bytes: number, now = Date.now()): void {
    const s = this.series(topic);
    const i = slot(s, Math.floor(now / 1000));
    s.inRecords[i] += records;
    s.inBytes[i] += bytes;
  }

  addOut(topic: string, records: number, bytes: number, now = Date.now()): void {
    if (records === 0 && bytes === 0) return;
    const s = this.series(topic);
    const i = slot(s, Math.floor(now / 1000));
    s.outRecords[i] += records;
    s.outBytes[i] += bytes;
  }

  forget(topic: string): void {
    this.topics.delete(topic);
  }

  /** Per-second points for the complete seconds before `now`, oldest first. */
  history(topic: string, now = Date.now()): { t: number; inRecords: number; inBytes: number; outRecords: number; outBytes: number }[] {
    const s = this.topics.get(topic);
    const current = Math.floor(now / 1000);
    const out = [];
    for (let sec = current - HISTORY_SECONDS + 1; sec < current; sec++) {
      const i = sec % HISTORY_SECONDS;
      const live = s !== undefined && s.sec[i] === sec;
      out.push({
        t: sec * 1000,
        inRecords: live ? s.inRecords[i] : 0,
        inBytes: live ? s.inBytes[i] : 0,
        outRecords: live ? s.outRecords[i] : 0,
        outBytes: live ? s.outBytes[i] : 0,
      });
    }
    return out;
  }
}

/** The meter of this broker; the server attaches it at start-up so counting starts with it. */
export function meterFor(broker: Broker): ThroughputMeter {
  return perBroker(broker, "throughput-meter", () => {
    const meter = new ThroughputMeter();
    broker.events.on("append", (e: AppendEvent) => meter.addIn(e.topic, e.recordCount, e.sizeBytes));
    broker.events.on("topic-deleted", (e) => meter.forget(e.topic));
    broker.events.on("fetch", (e) => meter.addOut(e.topic, e.recordCount, e.sizeBytes));
    return meter;
  });
}
