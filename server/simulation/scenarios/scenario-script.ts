/**
 * What a teaching scenario is: fixed topics it creates (refused if they exist: it never touches
 * what it did not create), a script that drives simulated clients and reads the broker through
 * the public client's Admin, and the outcome it measures.
 */
import type { Admin } from "../../client/admin.ts";
import type { TScenario, TScenarioId } from "../../schemas/topology.ts";
import type { SimulationManager } from "../simulation-manager.ts";

export type Outcome = NonNullable<TScenario["outcome"]>;

export interface ScenarioContext {
  admin: Admin;
  simulations: SimulationManager;
  /** The run's number: group ids carry it, so a member of an earlier run still expiring never joins this one's group. */
  run: number;
  /** Records a step of the story (shown in order). */
  step(text: string): void;
  /** Remembers a simulation so a reset deletes it. */
  own(kind: "simulation" | "group", id: string): void;
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
  ctx.own("simulation", producer.id);
  ctx.step(`A producer writes ${opts.ratePerSec} orders/s to ${opts.topic} (12 partitions), keyed by order id`);
  const group = await ctx.simulations.createGroup({
    groupId: opts.groupId,
    topics: [opts.topic],
    members: opts.members,
    processingMsPerRecord: opts.processingMsPerRecord,
    commitMode: opts.commitMode,
    autoOffsetReset: "earliest",
  });
  ctx.own("simulation", group.id);
  ctx.own("group", opts.groupId);
  return { producerId: producer.id, groupSimulationId: group.id };
}
