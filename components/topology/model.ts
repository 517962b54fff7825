/**
 * What the topology canvas draws, whatever it was read from: producers with their rates, topics
 * with their partitions, consumer groups with their members and the partitions each owns,
 * pipelines with their nodes. Rates are records per second; lag is records. Simulated clients
 * (run by the server for teaching) carry `simulated` so the canvas marks them.
 */

export interface PartitionView {
  partition: number;
  logStartOffset: number;
  highWatermark: number;
  /** records/s appended lately */
  rate: number;
}

export interface TopicView {
  name: string;
  partitions: PartitionView[];
  /** records/s appended lately, all partitions */
  rate: number;
  /** a topic a pipeline keeps for itself (changelog, repartition) */
  internal: boolean;
  /** created by a simulation or a scenario */
  simulated: boolean;
}

export interface ProducerView {
  /** stable id on the canvas */
  id: string;
  /** what the node is titled with: the client id, else the producer id */
  label: string;
  producerId: number | null;
  transactionalId: string | null;
  idempotent: boolean;
  simulated: boolean;
  /** the simulation this producer is (its pause and delete go there) */
  simulationId: string | null;
  /** a simulated producer's state (running, paused, …) */
  state: string | null;
  rate: number;
  topics: { topic: string; rate: number }[];
}

export interface MemberView {
  memberId: string;
  clientId: string;
  simulated: boolean;
  /** the member's state as the server names it (Stable, …; a simulated one: running, paused, killed, …) */
  state: string;
  owned: { topic: string; partitions: number[] }[];
  /** still owned, being given up */
  revoking: { topic: string; partitions: number[] }[];
  /** a simulated member: what its action buttons address */
  sim: { simulationId: string; index: number; state: string } | null;
  /** false: a simulated member the broker no longer lists (killed and timed out, stopped, joining) */
  inGroup: boolean;
}

export interface GroupTopicView {
  topic: string;
  /** records/s consumed (committed) lately */
  rate: number;
  lag: number;
  /** lag per partition (partitions without an entry: 0) */
  partitionLag: Record<number, number>;
}

export interface GroupView {
  id: string;
  state: string;
  epoch: number;
  simulated: boolean;
  simulationId: string | null;
  members: MemberView[];
  topics: GroupTopicView[];
  totalLag: number;
}

export interface PipelineView {
  name: string;
  state: string;
  inputs: string[];
  outputs: string[];
  nodes: { id: string; kind: string }[];
  edges: { from: string; to: string }[];
  /** its group's (pipeline-<name>) lag and consumption rate */
  lag: number;
  rate: number;
  /** the consumer group it runs as */
  group: string;
}

export interface TopologyView {
  at: number;
  producers: ProducerView[];
  topics: TopicView[];
  groups: GroupView[];
  pipelines: PipelineView[];
}

export const EMPTY_TOPOLOGY: TopologyView = { at: 0, producers: [], topics: [], groups: [], pipelines: [] };

/**
 * Names a pipeline keeps for itself — its topics (changelog, repartition) and its tasks'
 * transactional ids, all `pipeline-<name>-…`: drawn as the pipeline, not on their own.
 */
export function isPipelineInternalTopic(name: string, pipelines: readonly string[]): boolean {
  return pipelines.some((p) => name.startsWith(`pipeline-${p}-`));
}

/** Where clicking a thing on the canvas leads: its console page. */
export const consolePage = {
  topic: (name: string, partition?: number) =>
    `/topics/${encodeURIComponent(name)}${partition === undefined ? "" : `?tab=messages&partition=${partition}`}`,
  group: (id: string) => `/groups/${encodeURIComponent(id)}`,
  pipeline: (name: string) => `/pipelines/${encodeURIComponent(name)}`,
  producer: (p: ProducerView) =>
    p.transactionalId !== null
      ? "/transactions"
      : p.topics.length > 0
        ? `/topics/${encodeURIComponent(p.topics[0].topic)}?tab=live`
        : "/topics",
};
