/**
 * Who produced what, lately: per producer (producer id and client id, from the broker's `produce`
 * events) its records per second in all and per topic, the partitions it wrote, and per
 * partition the records appended per second. Kept in memory of this process for the last few
 * seconds; a producer silent for TOPOLOGY_LIMITS.recentProducerMs is forgotten.
 *
 * Bounded: at most MAX_PRODUCERS producers (the one silent longest makes room), MAX_TOPICS_PER_PRODUCER
 * topics each; partition counters exist only for partitions that exist (a deleted topic's go).
 */
import type { Broker } from "../broker/broker.ts";
import type { ProduceEvent } from "../broker/events.ts";
import { TOPOLOGY_LIMITS } from "../schemas/topology.ts";
import { perBroker } from "./per-broker.ts";

/** Rates are the mean of this many complete seconds (as the overview's metrics). */
export const RATE_WINDOW_SECONDS = 3;
const SLOTS = RATE_WINDOW_SECONDS + 1;
const MAX_PRODUCERS = 1000;
const MAX_TOPICS_PER_PRODUCER = 256;

/** Counts per second for the last few seconds (a ring of slots keyed by the epoch second). */
export class RateCounter {
  private readonly sec = new Float64Array(SLOTS).fill(-1);
  private readonly n = new Float64Array(SLOTS);

  add(count: number, now: number): void {
    const second = Math.floor(now / 1000);
    const i = second % SLOTS;
    if (this.sec[i] !== second) {
      this.sec[i] = second;
      this.n[i] = 0;
    }
    this.n[i] += count;
  }

  /** Mean per second over the complete seconds of the window before `now`. */
  perSecond(now: number): number {
    const current = Math.floor(now / 1000);
    let sum = 0;
    for (let s = current - RATE_WINDOW_SECONDS; s < current; s++) {
      const i = s % SLOTS;
      if (this.sec[i] === s) sum += this.n[i];
    }
    return sum / RATE_WINDOW_SECONDS;
  }
}

export interface ProducerActivity {
  key: string;
  producerId: number;
  producerEpoch: number;
  clientId: string | null;
  transactional: boolean;
  lastAt: number;
  rate: RateCounter;
  topics: Map<string, { rate: RateCounter; partitions: Map<number, number> }>;
}

export class ActivityTracker {
  /** In order of last activity (an event moves its producer to the end). */
  private readonly producers = new Map<string, ProducerActivity>();
  private readonly partitions = new Map<string, Map<number, RateCounter>>();

  onProduce(e: ProduceEvent, now = Date.now()): void {
    const key = `${e.producerId}:${e.clientId ?? ""}`;
    let p = this.producers.get(key);
    if (p) this.producers.delete(key);
    else {
      if (this.producers.size >= MAX_PRODUCERS) this.producers.delete(this.producers.keys().next().value as string);
      p = {
        key,
        producerId: e.producerId,
        producerEpoch: e.producerEpoch,
        clientId: e.clientId,
        transactional: false,
        lastAt: now,
        rate: new RateCounter(),
        topics: new Map(),
      };
    }
    this.producers.set(key, p);
    p.producerEpoch = e.producerEpoch;
    p.transactional ||= e.transactional;
    p.lastAt = now;
    p.rate.add(e.recordCount, now);
    let t = p.topics.get(e.topic);
    if (!t && p.topics.size < MAX_TOPICS_PER_PRODUCER) p.topics.set(e.topic, (t = { rate: new RateCounter(), partitions: new Map() }));
    if (t) {
      t.rate.add(e.recordCount, now);
      t.partitions.set(e.partition, now);
    }
    let parts = this.partitions.get(e.topic);
    if (!parts) this.partitions.set(e.topic, (parts = new Map()));
    let c = parts.get(e.partition);
    if (!c) parts.set(e.partition, (c = new RateCounter()));
    c.add(e.recordCount, now);
  }

  forgetTopic(topic: string): void {
    this.partitions.delete(topic);
    for (const p of this.producers.values()) p.topics.delete(topic);
  }

  /** Producers that produced within TOPOLOGY_LIMITS.recentProducerMs, most recently active first. */
  recentProducers(now = Date.now()): ProducerActivity[] {
    const out: ProducerActivity[] = [];
    for (const [key, p] of this.producers) {
      if (now - p.lastAt > TOPOLOGY_LIMITS.recentProducerMs) this.producers.delete(key);
      else out.push(p);
    }
    return out.reverse();
  }

  /** Records appended per second to a partition (0 when none lately). */
  partitionRate(topic: string, partition: number, now = Date.now()): number {
    return this.partitions.get(topic)?.get(partition)?.perSecond(now) ?? 0;
  }
}

/** The tracker of this broker; the server attaches it at start-up so counting starts with it. */
export function activityFor(broker: Broker): ActivityTracker {
  return perBroker(broker, "activity-tracker", () => {
    const tracker = new ActivityTracker();
    broker.events.on("produce", (e) => tracker.onProduce(e));
    broker.events.on("topic-deleted", (e) => tracker.forgetTopic(e.topic));
    return tracker;
  });
}
