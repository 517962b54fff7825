/**
 * The topology put together from the console's own REST readings (topics, groups, producers,
 * pipelines), for a server without the topology snapshot. Rates come from two readings in a row:
 * offsets appended (topics), offsets committed (groups), sequence numbers written (idempotent
 * producers), each per second between the readings.
 */
import type { TGroup } from "@/server/schemas/group";
import type { TTopic } from "@/server/schemas/topic";
import type { GroupView, PipelineView, ProducerView, TopicView, TopologyView } from "./model";

export interface ProducerEntry {
  topic: string;
  partition: number;
  producerId: number;
  producerEpoch: number;
  lastSequence: number;
  lastTimestamp: number;
  currentTxnStartOffset: number | null;
}

export interface PipelineEntry {
  name: string;
  state: string;
  definition: {
    nodes?: { id: string; config: { kind: string; topics?: string[]; topic?: string } }[];
    edges?: { from: { node: string }; to: { node: string } }[];
  } | null;
}

export interface ConsoleReading {
  at: number;
  topics: TTopic[];
  groups: TGroup[];
  producers: ProducerEntry[];
  pipelines: PipelineEntry[];
}

/** A producer counts as active while it wrote within this long. */
export const PRODUCER_ACTIVE_MS = 60_000;

const perSecond = (delta: number, ms: number) => (ms > 0 && delta > 0 ? (delta * 1000) / ms : 0);

export function topologyFromConsole(now: ConsoleReading, before: ConsoleReading | null): TopologyView {
  const ms = before ? now.at - before.at : 0;
  const hwBefore = new Map<string, number>();
  for (const t of before?.topics ?? []) for (const p of t.partitions) hwBefore.set(`${t.name}/${p.partition}`, p.highWatermark);

  const topics: TopicView[] = now.topics.map((t) => {
    const partitions = t.partitions.map((p) => {
      const prev = hwBefore.get(`${t.name}/${p.partition}`);
      return {
        partition: p.partition,
        logStartOffset: p.logStartOffset,
        highWatermark: p.highWatermark,
        rate: prev === undefined ? 0 : perSecond(p.highWatermark - prev, ms),
      };
    });
    return { name: t.name, partitions, rate: partitions.reduce((s, p) => s + p.rate, 0), internal: false, simulated: false };
  });

  const committedBefore = new Map<string, number>();
  for (const g of before?.groups ?? [])
    for (const o of g.offsets)
      if (o.committedOffset !== null) committedBefore.set(`${g.groupId}/${o.topic}/${o.partition}`, o.committedOffset);

  const groups: GroupView[] = now.groups.map((g) => {
    const byTopic = new Map<string, { rate: number; lag: number; partitionLag: Record<number, number> }>();
    const subscribed = new Set(g.members.flatMap((m) => m.subscribedTopics));
    for (const t of subscribed) byTopic.set(t, { rate: 0, lag: 0, partitionLag: {} });
    for (const o of g.offsets) {
      const entry = byTopic.get(o.topic) ?? { rate: 0, lag: 0, partitionLag: {} };
      byTopic.set(o.topic, entry);
      entry.lag += o.lag;
      entry.partitionLag[o.partition] = o.lag;
      const prev = committedBefore.get(`${g.groupId}/${o.topic}/${o.partition}`);
      if (prev !== undefined && o.committedOffset !== null) entry.rate += perSecond(o.committedOffset - prev, ms);
    }
    return {
      id: g.groupId,
      state: g.state,
      epoch: g.groupEpoch,
      simulated: false,
      simulationId: null,
      members: g.members.map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        simulated: false,
        state: m.state,
        owned: m.assignment,
        revoking: m.pendingRevocation,
        sim: null,
        inGroup: true,
      })),
      topics: [...byTopic].map(([topic, v]) => ({ topic, ...v })).sort((a, b) => (a.topic < b.topic ? -1 : 1)),
      totalLag: g.totalLag,
    };
  });

  return {
    at: now.at,
    topics,
    groups,
    producers: producersFrom(now, before, ms),
    pipelines: now.pipelines.map((p) => pipelineFrom(p, groups)),
  };
}

function producersFrom(now: ConsoleReading, before: ConsoleReading | null, ms: number): ProducerView[] {
  const seqBefore = new Map<string, { epoch: number; seq: number }>();
  for (const e of before?.producers ?? [])
    seqBefore.set(`${e.producerId}/${e.topic}/${e.partition}`, { epoch: e.producerEpoch, seq: e.lastSequence });
  const byId = new Map<number, ProducerView>();
  for (const e of now.producers) {
    if (now.at - e.lastTimestamp > PRODUCER_ACTIVE_MS) continue;
    let p: ProducerView | undefined = byId.get(e.producerId);
    if (!p) {
      p = {
        simulationId: null,
        id: String(e.producerId),
        label: `producer ${e.producerId}`,
        producerId: e.producerId,
        transactionalId: null,
        idempotent: true,
        simulated: false,
        state: null,
        rate: 0,
        topics: [],
      };
      byId.set(e.producerId, p);
    }
    const prev = seqBefore.get(`${e.producerId}/${e.topic}/${e.partition}`);
    const rate = prev && prev.epoch === e.producerEpoch ? perSecond(e.lastSequence - prev.seq, ms) : 0;
    p.rate += rate;
    const t = p.topics.find((x) => x.topic === e.topic);
    if (t) t.rate += rate;
    else p.topics.push({ topic: e.topic, rate });
  }
  return [...byId.values()];
}

function pipelineFrom(p: PipelineEntry, groups: readonly GroupView[]): PipelineView {
  const nodes = p.definition?.nodes ?? [];
  const inputs = new Set<string>();
  const outputs = new Set<string>();
  for (const n of nodes) {
    if (n.config.kind === "source") for (const t of n.config.topics ?? []) inputs.add(t);
    else if (n.config.kind === "table" && n.config.topic) inputs.add(n.config.topic);
    else if ((n.config.kind === "sink" || n.config.kind === "deadLetter") && n.config.topic) outputs.add(n.config.topic);
  }
  const group = groups.find((g) => g.id === `pipeline-${p.name}`);
  return {
    name: p.name,
    state: p.state,
    inputs: [...inputs],
    outputs: [...outputs],
    nodes: nodes.map((n) => ({ id: n.id, kind: n.config.kind })),
    edges: (p.definition?.edges ?? []).map((e) => ({ from: e.from.node, to: e.to.node })),
    group: `pipeline-${p.name}`,
    lag: group?.totalLag ?? 0,
    rate: group?.topics.reduce((s, t) => s + t.rate, 0) ?? 0,
  };
}
