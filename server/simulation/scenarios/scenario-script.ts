/**
 * What a teaching scenario is: fixed topics it creates (refused if they exist: it never touches
 * what it did not create), a script that drives simulated clients and reads the broker through
 * the public client's Admin, and the outcome it measures.
 */
import type { Admin } from "../../client/admin.ts";
import { PartitionReader, type Isolation } from "../../client/partition-reader.ts";
import type { TScenario, TScenarioId } from "../../schemas/topology.ts";
import type { SimulationManager } from "../simulation-manager.ts";

export type Outcome = NonNullable<TScenario["outcome"]>;

export interface ScenarioContext {
  admin: Admin;
  /** This server's own address, for the public client (producers, consumers, readers, the REST API). */
  baseUrl: string;
  simulations: SimulationManager;
  /** The run's number: group ids carry it, so a member of an earlier run still expiring never joins this one's group. */
  run: number;
  /** Records a step of the story (shown in order). */
  step(text: string): void;
  /**
   * Remembers what the run created so a reset deletes it; resolves once a group, topic or pipeline
   * is in the ledger (so a step shown after it survives a crash with it). Simulations end with the
   * process and resolve at once.
   */
  own(kind: "simulation" | "group" | "topic" | "pipeline", id: string): Promise<void>;
  /** Runs `cleanup` at reset, before the topics and groups are deleted (latest first): for clients and pipelines the script runs itself. */
  defer(cleanup: () => Promise<void>): void;
  /** Reads until `ok` holds (every 250 ms); fails with `what` after `timeoutMs` or when the run is reset. */
  until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T>;
  sleep(ms: number): Promise<void>;
}

export interface ScenarioScript {
  id: TScenarioId;
  title: string;
  explanation: string;
  /** Created at start with these partition counts, deleted on reset. */
  topics: Record<string, number>;
  run(ctx: ScenarioContext): Promise<Outcome>;
}

/** Partitions each member of a group owns now, per member id (from the broker's description). */
export async function ownedPerMember(admin: Admin, groupId: string): Promise<{ state: string; counts: Map<string, number> }> {
  const g = await admin.describeGroup(groupId);
  const counts = new Map<string, number>();
  for (const m of g.members)
    counts.set(
      m.memberId,
      m.assignment.reduce((n, a) => n + a.partitions.length, 0),
    );
  return { state: g.state, counts };
}

/** The counts sorted, for comparing a group's shape ("4,4,4"). */
export const shapeOf = (counts: Map<string, number>) => [...counts.values()].sort((a, b) => a - b).join(",");

/**
 * The clients every scenario starts with: a producer of orders keyed by order id over 1000 keys
 * on `topic`, and a group of `members` reading it from the earliest offset; both owned by the run.
 */
export async function startShop(
  ctx: ScenarioContext,
  opts: {
    topic: string;
    name: string;
    ratePerSec: number;
    groupId: string;
    members: number;
    processingMsPerRecord: number;
    commitMode: "auto" | "per-batch";
  },
): Promise<{ producerId: string; groupSimulationId: string }> {
  const producer = await ctx.simulations.createProducer({
    topic: opts.topic,
    ratePerSec: opts.ratePerSec,
    keys: { type: "uniform", count: 1000 },
    value: { type: "json", template: { order: "{{key}}", seq: "{{seq}}", at: "{{now}}" } },
    clientId: `${opts.name}-shop-${ctx.run}`,
    idempotent: true,
    paused: false,
  });
  void ctx.own("simulation", producer.id);
  ctx.step(`A producer writes ${opts.ratePerSec} orders/s to ${opts.topic} (12 partitions), keyed by order id`);
  const group = await ctx.simulations.createGroup({
    groupId: opts.groupId,
    topics: [opts.topic],
    members: opts.members,
    processingMsPerRecord: opts.processingMsPerRecord,
    commitMode: opts.commitMode,
    autoOffsetReset: "earliest",
  });
  void ctx.own("simulation", group.id);
  await ctx.own("group", opts.groupId);
  return { producerId: producer.id, groupSimulationId: group.id };
}

/** Every record of `topic` as text, partition by partition in offset order (read_committed: up to the last stable offset). */
export async function readAll(
  baseUrl: string,
  topic: string,
  partitions: number,
  isolation: Isolation,
): Promise<{ partition: number; offset: number; key: string | null; value: string }[]> {
  const out: { partition: number; offset: number; key: string | null; value: string }[] = [];
  for (let p = 0; p < partitions; p++) {
    const reader = new PartitionReader(baseUrl, topic, p, 0, isolation);
    for (;;) {
      const r = await reader.fetch(4 << 20);
      for (const rec of r.records)
        out.push({ partition: p, offset: rec.offset, key: rec.key?.toString() ?? null, value: rec.value?.toString() ?? "" });
      const end = isolation === "read_committed" ? r.lastStableOffset : r.highWatermark;
      if (r.records.length === 0 && reader.offset >= end) break;
    }
  }
  return out;
}
