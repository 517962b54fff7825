/**
 * The live topology (issue #17) from the broker's state as it is now: producers that produced
 * recently (producer-activity.ts), topics with their partitions' offsets and append rates,
 * consumer groups with their members, what each owns and the lag, and the pipelines handed in
 * by the caller. Every list is capped (TOPOLOGY_LIMITS) and says when it was.
 */
import type { Broker, TopicDescription } from "../broker/broker.ts";
import {
  TOPOLOGY_LIMITS,
  type TTopologyGroup,
  type TTopologyPipeline,
  type TTopologySnapshot,
  type TTopologyTopic,
} from "../schemas/topology.ts";
import { meterFor } from "./throughput-meter.ts";
import { activityFor, RATE_WINDOW_SECONDS } from "./producer-activity.ts";
import { perBroker } from "./per-broker.ts";

/** What the broker does not know: which clients, groups and topics are simulations, and the pipelines. */
export interface TopologyContext {
  pipelines: TTopologyPipeline[];
  /** Simulation id by the client id of a simulated producer or group member. */
  simulatedClients: ReadonlyMap<string, string>;
  /** Simulation id by simulated group id. */
  simulatedGroups: ReadonlyMap<string, string>;
  /** Topics a simulation or scenario created. */
  simulatedTopics: ReadonlySet<string>;
  /** Clients and groups a scenario's script runs itself: simulated, but no simulation to act on. */
  scripted: { client(clientId: string): boolean; group(groupId: string): boolean };
}

export const NO_CONTEXT: TopologyContext = {
  pipelines: [],
  simulatedClients: new Map(),
  simulatedGroups: new Map(),
  simulatedTopics: new Set(),
  scripted: { client: () => false, group: () => false },
};

/** The committed offsets' sum per group at recent readings, for its committed records per second. */
const commitSamples = (broker: Broker) => perBroker(broker, "commit-samples", () => new Map<string, { at: number; sum: number }[]>());

function committedPerSec(broker: Broker, groupId: string, sum: number, now: number, seen: Set<string>): number {
  const byGroup = commitSamples(broker);
  seen.add(groupId);
  const samples = byGroup.get(groupId) ?? [];
  samples.push({ at: now, sum });
  // readings of the last window (and the one before it, as the base)
  while (samples.length > 2 && now - samples[1].at >= RATE_WINDOW_SECONDS * 1000) samples.shift();
  byGroup.set(groupId, samples);
  const first = samples[0];
  const dt = (now - first.at) / 1000;
  return dt > 0 ? Math.max(0, (sum - first.sum) / dt) : 0;
}

function forgetGroupsNotSeen(broker: Broker, seen: Set<string>): void {
  const byGroup = commitSamples(broker);
  for (const id of byGroup.keys()) if (!seen.has(id)) byGroup.delete(id);
}

const isInternalTopic = (name: string) => name.startsWith("pipeline-") && (name.endsWith("-changelog") || name.includes("-repartition-"));

export async function topologySnapshot(broker: Broker, context: TopologyContext = NO_CONTEXT): Promise<TTopologySnapshot> {
  const now = Date.now();
  const activity = activityFor(broker);
  const meter = meterFor(broker);
  const topicList = await broker.listTopics();
  const groupList = await broker.describeGroups(topicList).catch(() => []);
  groupList.sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));

  // ---- producers
  let txnIds = new Map<number, string>();
  try {
    txnIds = new Map(broker.listTransactions().map((t) => [t.producerId, t.transactionalId]));
  } catch {
    // transactions are not enabled on this broker
  }
  const recent = activity.recentProducers(now);
  const producers = recent.slice(0, TOPOLOGY_LIMITS.producers).map((p) => {
    const simulationId = p.clientId !== null ? (context.simulatedClients.get(p.clientId) ?? null) : null;
    return {
      id: `${p.producerId}:${p.clientId ?? ""}`,
      clientId: p.clientId,
      producerId: p.producerId >= 0 ? p.producerId : null,
      producerEpoch: p.producerId >= 0 ? p.producerEpoch : null,
      transactionalId: txnIds.get(p.producerId) ?? null,
      idempotent: p.producerId >= 0,
      transactional: p.transactional,
      simulated: simulationId !== null || (p.clientId !== null && context.scripted.client(p.clientId)),
      simulationId,
      recordsPerSec: p.rate.perSecond(now),
      lastProducedAt: p.lastAt,
      topics: [...p.topics]
        .map(([topic, t]) => ({ topic, recordsPerSec: t.rate.perSecond(now), partitions: [...t.partitions.keys()].sort((a, b) => a - b) }))
        .sort((a, b) => (a.topic < b.topic ? -1 : 1)),
    };
  });

  // ---- topics: the busiest when there are too many, listed by name
  const rateOf = (t: TopicDescription) => {
    const h = meter.history(t.name, now).slice(-RATE_WINDOW_SECONDS);
    return {
      in: h.reduce((s, x) => s + x.inRecords, 0) / RATE_WINDOW_SECONDS,
      out: h.reduce((s, x) => s + x.outRecords, 0) / RATE_WINDOW_SECONDS,
    };
  };
  const rated = topicList.map((t) => ({ t, rate: rateOf(t) }));
  const chosen =
    rated.length > TOPOLOGY_LIMITS.topics
      ? [...rated]
          .sort((a, b) => b.rate.in + b.rate.out - (a.rate.in + a.rate.out) || (a.t.name < b.t.name ? -1 : 1))
          .slice(0, TOPOLOGY_LIMITS.topics)
      : rated;
  chosen.sort((a, b) => (a.t.name < b.t.name ? -1 : 1));
  let partitionBudget = TOPOLOGY_LIMITS.partitions;
  let partitionsTruncated = false;
  const topics: TTopologyTopic[] = chosen.map(({ t, rate }) => {
    const take = Math.max(0, Math.min(t.partitions.length, TOPOLOGY_LIMITS.partitionsPerTopic, partitionBudget));
    partitionBudget -= take;
    if (take < t.partitions.length) partitionsTruncated = true;
    return {
      name: t.name,
      partitionCount: t.partitions.length,
      recordsPerSec: rate.in,
      readRecordsPerSec: rate.out,
      internal: isInternalTopic(t.name),
      simulated: context.simulatedTopics.has(t.name),
      partitions: t.partitions.slice(0, take).map((p) => ({
        partition: p.partition,
        logStartOffset: p.logStartOffset,
        highWatermark: p.highWatermark,
        recordsPerSec: activity.partitionRate(t.name, p.partition, now),
      })),
      partitionsTruncated: take < t.partitions.length,
    };
  });

  // ---- groups
  const seen = new Set<string>();
  const groups: TTopologyGroup[] = groupList.slice(0, TOPOLOGY_LIMITS.groups).map((g) => {
    const topicsOf = new Set<string>();
    for (const m of g.members) for (const t of m.subscribedTopics) topicsOf.add(t);
    for (const o of g.offsets) topicsOf.add(o.topic);
    const committedSum = g.offsets.reduce((s, o) => s + (o.committedOffset ?? 0), 0);
    const simulationId = context.simulatedGroups.get(g.groupId) ?? null;
    return {
      groupId: g.groupId,
      state: g.state,
      groupEpoch: g.groupEpoch,
      assignor: g.assignor,
      topics: [...topicsOf].sort(),
      simulated: simulationId !== null || context.scripted.group(g.groupId),
      simulationId,
      pipeline: context.pipelines.find((p) => p.group === g.groupId)?.name ?? null,
      totalLag: g.totalLag,
      committedPerSec: committedPerSec(broker, g.groupId, committedSum, now, seen),
      members: g.members.slice(0, TOPOLOGY_LIMITS.membersPerGroup).map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        memberEpoch: m.memberEpoch,
        state: m.state,
        simulated: context.simulatedClients.has(m.clientId) || context.scripted.client(m.clientId),
        assignment: m.assignment,
        pendingRevocation: m.pendingRevocation,
      })),
      membersTruncated: g.members.length > TOPOLOGY_LIMITS.membersPerGroup,
      lag: g.offsets.slice(0, TOPOLOGY_LIMITS.lagPerGroup).map((o) => ({
        topic: o.topic,
        partition: o.partition,
        committedOffset: o.committedOffset,
        highWatermark: o.highWatermark,
        lag: o.lag,
        owner: o.owner,
      })),
      lagTruncated: g.offsets.length > TOPOLOGY_LIMITS.lagPerGroup,
    };
  });
  forgetGroupsNotSeen(broker, seen);

  const pipelines = context.pipelines.slice(0, TOPOLOGY_LIMITS.pipelines);
  return {
    at: now,
    windowSeconds: RATE_WINDOW_SECONDS,
    producers,
    topics,
    groups,
    pipelines,
    totals: {
      producers: recent.length,
      topics: topicList.length,
      partitions: topicList.reduce((s, t) => s + t.partitions.length, 0),
      groups: groupList.length,
      pipelines: context.pipelines.length,
    },
    truncated: {
      producers: recent.length > producers.length,
      topics: topicList.length > topics.length,
      partitions: partitionsTruncated,
      groups: groupList.length > groups.length,
      pipelines: context.pipelines.length > pipelines.length,
    },
  };
}
