/**
 * The server's topology snapshot (server/schemas/topology.ts) as the canvas draws it, with the
 * simulations list merged in: a simulated member the broker already removed (killed, stopped)
 * is still drawn — without partitions — so the user can start it again, and every simulated
 * member carries what its action buttons need (the simulation and its index).
 */
import type { TSimulationList, TTopologyGroup, TTopologySnapshot } from "@/server/schemas/topology";
import type { GroupTopicView, GroupView, MemberView, PipelineView, ProducerView, TopicView, TopologyView } from "./model";

export function topologyFromSnapshot(s: TTopologySnapshot, sims: TSimulationList | null): TopologyView {
  const simProducer = new Map((sims?.producers ?? []).map((p) => [p.id, p]));
  const producers: ProducerView[] = s.producers.map((p) => {
    const sim = p.simulationId ? simProducer.get(p.simulationId) : undefined;
    return {
      id: p.id,
      label: p.clientId ?? `producer ${p.producerId ?? "?"}`,
      producerId: p.producerId,
      transactionalId: p.transactionalId,
      idempotent: p.idempotent,
      simulated: p.simulated,
      simulationId: p.simulationId,
      state: sim?.state ?? null,
      rate: p.recordsPerSec,
      topics: p.topics.map((t) => ({ topic: t.topic, rate: t.recordsPerSec })),
    };
  });
  // a paused simulated producer stops producing and so drops out of the snapshot: keep drawing it
  const shown = new Set(s.producers.map((p) => p.simulationId).filter(Boolean));
  for (const sim of sims?.producers ?? []) {
    if (shown.has(sim.id) || sim.state === "stopped") continue;
    producers.push({
      id: `sim:${sim.id}`,
      label: sim.clientId,
      producerId: sim.producerId,
      transactionalId: null,
      idempotent: sim.idempotent,
      simulated: true,
      simulationId: sim.id,
      state: sim.state,
      rate: 0,
      topics: [{ topic: sim.topic, rate: 0 }],
    });
  }

  const topics: TopicView[] = s.topics.map((t) => ({
    name: t.name,
    rate: t.recordsPerSec,
    internal: t.internal,
    simulated: t.simulated,
    partitions: t.partitions.map((p) => ({
      partition: p.partition,
      logStartOffset: p.logStartOffset,
      highWatermark: p.highWatermark,
      rate: p.recordsPerSec,
    })),
  }));
  const topicRate = new Map(topics.map((t) => [t.name, t.rate]));

  const simGroups = new Map((sims?.groups ?? []).map((g) => [g.id, g]));
  const groups: GroupView[] = s.groups.map((g) => {
    const sim = g.simulationId ? simGroups.get(g.simulationId) : undefined;
    return {
      id: g.groupId,
      state: g.state,
      epoch: g.groupEpoch,
      simulated: g.simulated,
      simulationId: g.simulationId,
      members: membersOf(g, sim),
      topics: groupTopics(g, topicRate),
      totalLag: g.totalLag,
    };
  });

  const byGroup = new Map(groups.map((g) => [g.id, g]));
  const pipelines: PipelineView[] = s.pipelines.map((p) => {
    const g = byGroup.get(p.group);
    return {
      name: p.name,
      state: p.state,
      inputs: p.inputTopics,
      outputs: p.outputTopics,
      nodes: p.nodes,
      edges: p.edges,
      lag: g?.totalLag ?? 0,
      rate: g?.topics.reduce((sum, t) => sum + t.rate, 0) ?? 0,
      group: p.group,
    };
  });
  return { at: s.at, producers, topics, groups, pipelines };
}

function membersOf(g: TTopologyGroup, sim: TSimulationList["groups"][number] | undefined): MemberView[] {
  const simByMember = new Map((sim?.members ?? []).filter((m) => m.memberId).map((m) => [m.memberId as string, m]));
  const members: MemberView[] = g.members.map((m) => {
    const s = simByMember.get(m.memberId);
    return {
      memberId: m.memberId,
      clientId: m.clientId,
      simulated: m.simulated,
      state: s?.state ?? m.state,
      owned: m.assignment,
      revoking: m.pendingRevocation,
      sim: s && sim ? { simulationId: sim.id, index: s.index, state: s.state } : null,
      inGroup: true,
    };
  });
  // simulated members the broker no longer lists (killed and timed out, stopped, still joining)
  const listed = new Set(g.members.map((m) => m.memberId));
  for (const s of sim?.members ?? []) {
    if (s.memberId && listed.has(s.memberId)) continue;
    members.push({
      memberId: s.memberId ?? `sim:${sim!.id}:${s.index}`,
      clientId: s.clientId,
      simulated: true,
      state: s.state,
      owned: [],
      revoking: [],
      sim: { simulationId: sim!.id, index: s.index, state: s.state },
      inGroup: false,
    });
  }
  return members;
}

/** Lag per topic and partition; the group's committed rate shared among its topics by how fast each grows. */
function groupTopics(g: TTopologyGroup, topicRate: ReadonlyMap<string, number>): GroupTopicView[] {
  const by = new Map<string, GroupTopicView>();
  for (const t of g.topics) by.set(t, { topic: t, rate: 0, lag: 0, partitionLag: {} });
  for (const l of g.lag) {
    let e = by.get(l.topic);
    if (!e) by.set(l.topic, (e = { topic: l.topic, rate: 0, lag: 0, partitionLag: {} }));
    e.lag += l.lag;
    e.partitionLag[l.partition] = l.lag;
  }
  const list = [...by.values()];
  const weights = list.map((t) => topicRate.get(t.topic) ?? 0);
  const total = weights.reduce((a, b) => a + b, 0);
  list.forEach((t, i) => (t.rate = g.committedPerSec * (total > 0 ? weights[i] / total : 1 / list.length)));
  return list;
}
