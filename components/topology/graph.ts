/**
 * The topology as a graph to draw: one node per producer, topic, consumer group and pipeline, at
 * a size fixed by what it shows (so the layout needs no measuring), and the edges between them —
 * producer → topic, topic → group (one edge while the topic is collapsed; one per owned partition,
 * lane to member, once it is expanded, and a dashed one to the group for each partition nobody in
 * it owns), topic → pipeline → topic. Pure: the canvas caches what it makes of it.
 */
import { isPipelineInternalTopic, type GroupView, type PipelineView, type ProducerView, type TopicView, type TopologyView } from "./model";

/** React Flow node types (not "group" nor "default": React Flow styles those itself). */
export type TopoNodeKind = "producer" | "topic" | "consumerGroup" | "pipeline";

export const SIZE = {
  producer: { width: 220, height: 72 },
  topic: { width: 240, collapsed: 92, head: 46, lane: 20, foot: 10 },
  group: { width: 270, head: 50, member: 44, empty: 30, foot: 8 },
  pipeline: { width: 240, height: 120 },
} as const;

export type TopoNodeData =
  | { kind: "producer"; producer: ProducerView }
  | {
      kind: "topic";
      topic: TopicView;
      expanded: boolean;
      /** the most records any partition of the topic holds, for lane scale */ maxOffset: number;
    }
  | { kind: "group"; group: GroupView }
  | { kind: "pipeline"; pipeline: PipelineView };

export interface TopoNode {
  id: string;
  kind: TopoNodeKind;
  width: number;
  height: number;
  data: TopoNodeData;
}

export type TopoEdgeData = {
  /** records/s along the edge */
  rate: number;
  /** records waiting (topic → group or pipeline), null where lag means nothing */
  lag: number | null;
  /** a partition of a group's topics no member of the group owns */
  unowned?: boolean;
};

export interface TopoEdge {
  id: string;
  source: string;
  sourceHandle: string;
  target: string;
  targetHandle: string;
  data: TopoEdgeData;
}

export const nodeId = {
  producer: (id: string) => `producer:${id}`,
  topic: (name: string) => `topic:${name}`,
  group: (id: string) => `group:${id}`,
  pipeline: (name: string) => `pipeline:${name}`,
};
export const handle = {
  in: "in",
  out: "out",
  partition: (p: number) => `p${p}`,
  member: (memberId: string) => `m:${memberId}`,
};

export function topicHeight(partitions: number, expanded: boolean): number {
  const t = SIZE.topic;
  return expanded ? t.head + partitions * t.lane + t.foot : t.collapsed;
}

export function groupHeight(members: number): number {
  const g = SIZE.group;
  return g.head + (members === 0 ? g.empty : members * g.member) + g.foot;
}

const byKey =
  <T>(key: (x: T) => string) =>
  (a: T, b: T) =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;

/**
 * Nodes and edges in a stable order (by name), whatever order the server lists things in (its
 * snapshot puts the busiest topics first): React Flow draws them in array order, and a new
 * order each second moved every edge's element in the page.
 */
export function buildGraph(unsorted: TopologyView, expanded: ReadonlySet<string>): { nodes: TopoNode[]; edges: TopoEdge[] } {
  const view = {
    producers: [...unsorted.producers].sort(byKey((p) => p.id)),
    topics: [...unsorted.topics].sort(byKey((t) => t.name)),
    groups: [...unsorted.groups].sort(byKey((g) => g.id)),
    pipelines: [...unsorted.pipelines].sort(byKey((p) => p.name)),
  };
  const pipelineNames = view.pipelines.map((p) => p.name);
  const pipelineGroups = new Set(view.pipelines.map((p) => p.group));
  const topics = view.topics.filter((t) => !t.internal && !t.name.startsWith("__") && !isPipelineInternalTopic(t.name, pipelineNames));
  const topicByName = new Map(topics.map((t) => [t.name, t]));
  const nodes: TopoNode[] = [];
  const edges: TopoEdge[] = [];

  for (const p of view.producers) {
    // a producer whose topics are all gone (deleted; the server lists producers for 30 s after they wrote) has nothing
    // to show — unless it is simulated: it stays, to be deleted
    if (!p.simulated && !p.topics.some((t) => topicByName.has(t.topic))) continue;
    // a pipeline's own transactional producers (one per task) are drawn as the pipeline's edges to its outputs
    if (isPipelineProducer(p, pipelineNames)) continue;
    const id = nodeId.producer(p.id);
    nodes.push({ id, kind: "producer", ...SIZE.producer, data: { kind: "producer", producer: p } });
    for (const t of p.topics) {
      if (!topicByName.has(t.topic)) continue;
      edges.push(edge(id, handle.out, nodeId.topic(t.topic), handle.in, { rate: t.rate, lag: null }));
    }
  }

  for (const t of topics) {
    const open = expanded.has(t.name);
    const maxOffset = Math.max(1, ...t.partitions.map((p) => p.highWatermark));
    nodes.push({
      id: nodeId.topic(t.name),
      kind: "topic",
      width: SIZE.topic.width,
      height: topicHeight(t.partitions.length, open),
      data: { kind: "topic", topic: t, expanded: open, maxOffset },
    });
  }

  for (const g of view.groups) {
    if (pipelineGroups.has(g.id)) continue;
    const id = nodeId.group(g.id);
    nodes.push({
      id,
      kind: "consumerGroup",
      width: SIZE.group.width,
      height: groupHeight(g.members.length),
      data: { kind: "group", group: g },
    });
    for (const gt of g.topics) {
      const topic = topicByName.get(gt.topic);
      if (!topic) continue;
      if (expanded.has(gt.topic)) edges.push(...partitionEdges(topic, g, id));
      else edges.push(edge(nodeId.topic(gt.topic), handle.out, id, handle.in, { rate: gt.rate, lag: gt.lag }));
    }
  }

  for (const p of view.pipelines) {
    const id = nodeId.pipeline(p.name);
    nodes.push({ id, kind: "pipeline", ...SIZE.pipeline, data: { kind: "pipeline", pipeline: p } });
    const share = p.inputs.length > 0 ? p.rate / p.inputs.length : 0;
    for (const input of p.inputs)
      if (topicByName.has(input)) edges.push(edge(nodeId.topic(input), handle.out, id, handle.in, { rate: share, lag: p.lag }));
    for (const output of p.outputs)
      if (topicByName.has(output))
        edges.push(edge(id, handle.out, nodeId.topic(output), handle.in, { rate: topicByName.get(output)!.rate, lag: null }));
  }
  return { nodes, edges };
}

/** A pipeline task's producer: transactional id `pipeline-<name>-<task>`, or writing to the pipeline's own topics. */
function isPipelineProducer(p: ProducerView, pipelines: readonly string[]): boolean {
  if (p.transactionalId !== null && isPipelineInternalTopic(p.transactionalId, pipelines)) return true;
  return p.topics.some((t) => isPipelineInternalTopic(t.topic, pipelines));
}

/** An expanded topic's lanes to the members owning them; a lane no member of the group owns goes, dashed, to the group. */
function partitionEdges(topic: TopicView, g: GroupView, groupNode: string): TopoEdge[] {
  const owner = new Map<number, string>();
  for (const m of g.members) for (const o of m.owned) if (o.topic === topic.name) for (const p of o.partitions) owner.set(p, m.memberId);
  const gt = g.topics.find((x) => x.topic === topic.name);
  return topic.partitions.map((p) => {
    const lag = gt?.partitionLag[p.partition] ?? 0;
    const m = owner.get(p.partition);
    return m === undefined
      ? edge(nodeId.topic(topic.name), handle.partition(p.partition), groupNode, handle.in, { rate: 0, lag, unowned: true })
      : edge(nodeId.topic(topic.name), handle.partition(p.partition), groupNode, handle.member(m), { rate: p.rate, lag });
  });
}

function edge(source: string, sourceHandle: string, target: string, targetHandle: string, data: TopoEdgeData): TopoEdge {
  return { id: `${source}#${sourceHandle}>${target}#${targetHandle}`, source, sourceHandle, target, targetHandle, data };
}

/**
 * What the layout depends on: the nodes with their sizes and which node feeds which. Rates, lag
 * and offsets change every second and leave it alone, so the layout runs only when this does.
 */
export function layoutKey(nodes: readonly TopoNode[], edges: readonly TopoEdge[]): string {
  const n = nodes.map((x) => `${x.id}:${x.width}x${x.height}`).sort();
  const e = [...new Set(edges.map((x) => `${x.source}>${x.target}`))].sort();
  return `${n.join("|")}\n${e.join("|")}`;
}

/**
 * Edge thickness by rate: 1.5 px idle, up to 7 px, on a log scale (10× the rate ≈ +1.4 px), in
 * half pixels, so a rate wobbling around a value does not redraw the edge every second.
 */
export function strokeWidthFor(rate: number): number {
  if (!(rate > 0)) return 1.5;
  return Math.min(7, Math.round((2 + Math.log10(1 + rate) * 1.4) * 2) / 2);
}

/** How fast the dashes of a busy edge move: a faster stream, a shorter period (s); null: no animation. */
export function flowPeriodFor(rate: number): number | null {
  if (!(rate > 0)) return null;
  if (rate >= 1000) return 0.4;
  if (rate >= 100) return 0.7;
  if (rate >= 10) return 1.1;
  return 1.8;
}
