"use client";
/**
 * The topology's nodes: a producer, a topic (its partitions as a strip of bars, or expanded as
 * lanes, one handle each, whose bars grow with the offsets), a consumer group (its members, the
 * partitions each owns, and for simulated members the actions start, pause, kill, restart) and
 * a pipeline (a sketch of its graph). Each is memoised: React Flow redraws a node only when the
 * canvas hands it a new data object (see use-flow-elements.ts). Simulated clients are marked.
 */
import { Handle, Position, type Node, type NodeProps, type NodeTypes } from "@xyflow/react";
import { memo, useContext, type ReactNode } from "react";
import { PipelineSketch } from "../pipelines/pipeline-sketch";
import { formatCount, formatRate } from "../ui/format";
import type { TMemberAction } from "@/server/schemas/topology";
import { TopologyActions, type GroupAction, type ProducerAction } from "./actions-context";
import { groupHeight, handle, SIZE, topicHeight, type TopoNodeData } from "./graph";
import { Icon } from "./icons";
import type { GroupView, MemberView, PartitionView, TopicView } from "./model";

export type TopoFlowNode = Node<TopoNodeData>;

const rate = (r: number) => `${formatRate(r)}/s`;

function SimBadge() {
  return (
    <span className="topo-sim" title="simulated by the server for teaching; it uses the same paths as a real client">
      sim
    </span>
  );
}

/**
 * A long name cut in the middle: names often share a prefix and differ at the end
 * (orders-eu-1, orders-eu-2), so the end is what tells them apart.
 */
export function middleEllipsis(name: string, max: number): string {
  if (name.length <= max) return name;
  const tail = Math.ceil((max - 1) * 0.55);
  return `${name.slice(0, max - 1 - tail)}…${name.slice(name.length - tail)}`;
}

function Head({
  glyph,
  title,
  testId,
  max,
  children,
}: {
  glyph: string;
  title: string;
  testId: string;
  max: number;
  children?: ReactNode;
}) {
  return (
    <div className="topo-head">
      <span className="topo-glyph" aria-hidden>
        {glyph}
      </span>
      <span className="topo-title" title={title} data-testid={testId}>
        {middleEllipsis(title, max)}
      </span>
      {children}
    </div>
  );
}

function ProducerNodeView({ data }: NodeProps<Node<Extract<TopoNodeData, { kind: "producer" }>>>) {
  const p = data.producer;
  const kind = p.transactionalId !== null ? "transactional" : p.idempotent ? "idempotent" : "plain";
  return (
    <div
      className={`topo-node topo-producer${p.simulated ? " simulated" : ""}`}
      data-testid={`topo-producer-${p.id}`}
      style={SIZE.producer}
    >
      <Head glyph="⇢" title={p.label} testId={`topo-producer-title-${p.id}`} max={p.simulated ? 18 : 22}>
        {p.simulated && <SimBadge />}
      </Head>
      <div className="topo-line topo-split muted">
        <span>
          {kind}
          {p.producerId !== null && <> · id {p.producerId}</>}
          {p.state && p.state !== "running" && <> · {p.state}</>}
        </span>
        {p.simulationId && <ProducerButtons simulationId={p.simulationId} paused={p.state === "paused"} />}
      </div>
      <div className="topo-line">
        <strong data-testid={`topo-producer-rate-${p.id}`}>{rate(p.rate)}</strong>
        <span className="muted"> → {p.topics.map((t) => t.topic).join(", ") || "—"}</span>
      </div>
      <Handle type="source" position={Position.Right} id={handle.out} className="topo-handle" />
    </div>
  );
}

/** The partitions of a collapsed topic as a strip of bars, each as tall as its share of the topic's records. */
function PartitionStrip({ topic, maxOffset }: { topic: TopicView; maxOffset: number }) {
  const n = topic.partitions.length;
  const w = 200;
  const h = 22;
  const bw = Math.max(1, w / Math.max(1, n) - 1);
  return (
    <svg className="topo-strip" width={w} height={h} aria-hidden>
      {topic.partitions.map((p, i) => {
        const bh = Math.max(1, (h * p.highWatermark) / maxOffset);
        return <rect key={p.partition} x={(i * w) / n} y={h - bh} width={bw} height={bh} className={p.rate > 0 ? "busy" : undefined} />;
      })}
    </svg>
  );
}

function Lane({ topic, p, maxOffset }: { topic: string; p: PartitionView; maxOffset: number }) {
  const fill = (100 * p.highWatermark) / maxOffset;
  const start = (100 * p.logStartOffset) / maxOffset;
  return (
    <div
      className="topo-lane"
      data-partition={p.partition}
      data-testid={`topo-lane-${topic}-${p.partition}`}
      style={{ height: SIZE.topic.lane }}
    >
      <span className="topo-lane-name">p{p.partition}</span>
      <span className="topo-lane-bar" title={`offsets ${formatCount(p.logStartOffset)} – ${formatCount(p.highWatermark)}`}>
        <span className="topo-lane-deleted" style={{ width: `${start}%` }} />
        <span
          className={`topo-lane-fill${p.rate > 0 ? " busy" : ""}`}
          style={{ left: `${start}%`, width: `${Math.max(0, fill - start)}%` }}
        />
      </span>
      <span className="topo-lane-offset" data-testid={`topo-lane-offset-${topic}-${p.partition}`}>
        {formatCount(p.highWatermark)}
      </span>
      <Handle type="source" position={Position.Right} id={handle.partition(p.partition)} className="topo-handle topo-lane-handle" />
    </div>
  );
}

function TopicNodeView({ data }: NodeProps<Node<Extract<TopoNodeData, { kind: "topic" }>>>) {
  const { topic, expanded, maxOffset } = data;
  const actions = useContext(TopologyActions);
  const records = topic.partitions.reduce((s, p) => s + p.highWatermark - p.logStartOffset, 0);
  return (
    <div
      className={`topo-node topo-topic${expanded ? " expanded" : ""}`}
      data-testid={`topo-topic-${topic.name}`}
      data-drop-topic={topic.name}
      data-partitions={topic.partitions.length}
      data-records={records}
      style={{ width: SIZE.topic.width, height: topicHeight(topic.partitions.length, expanded) }}
    >
      <Handle type="target" position={Position.Left} id={handle.in} className="topo-handle" />
      <Head glyph="▤" title={topic.name} testId={`topo-topic-title-${topic.name}`} max={topic.simulated ? 10 : 17}>
        {topic.simulated && <SimBadge />}
        <button
          type="button"
          className="topo-mini nodrag"
          data-testid={`topo-add-partitions-${topic.name}`}
          aria-label={`add partitions to ${topic.name}`}
          title="add partitions"
          onClick={(e) => {
            e.stopPropagation();
            actions.addPartitions(topic.name);
          }}
        >
          +
        </button>
        <button
          type="button"
          className="topo-mini nodrag"
          data-testid={`topo-expand-${topic.name}`}
          aria-expanded={expanded}
          title={expanded ? "collapse the partitions into the topic" : "show each partition as a lane"}
          onClick={(e) => {
            e.stopPropagation();
            actions.toggleTopic(topic.name);
          }}
        >
          {expanded ? "▾" : "▸"} {topic.partitions.length}
        </button>
      </Head>
      <div className="topo-line muted">
        {topic.partitions.length} {topic.partitions.length === 1 ? "partition" : "partitions"} · <strong>{rate(topic.rate)}</strong> ·{" "}
        {formatCount(records)} records
      </div>
      {expanded ? (
        <div className="topo-lanes">
          {topic.partitions.map((p) => (
            <Lane key={p.partition} topic={topic.name} p={p} maxOffset={maxOffset} />
          ))}
        </div>
      ) : (
        <PartitionStrip topic={topic} maxOffset={maxOffset} />
      )}
      {/* pipelines read a topic as a whole: from its head when the lanes are shown */}
      <Handle type="source" position={Position.Right} id={handle.out} className="topo-handle" style={expanded ? { top: 23 } : undefined} />
    </div>
  );
}

const partitionsText = (list: MemberView["owned"]) =>
  list
    .filter((o) => o.partitions.length > 0)
    .map((o) => `${o.topic} ${[...o.partitions].sort((a, b) => a - b).join(" ")}`)
    .join(" · ");

function ownedText(m: MemberView): string {
  if (!m.inGroup) return m.state === "joining" ? "joining…" : "not in the group";
  const owned = partitionsText(m.owned) || "no partitions";
  const revoking = partitionsText(m.revoking);
  return revoking ? `${owned} · giving up ${revoking}` : owned;
}

/** Which actions a simulated member offers in each of its states. */
const MEMBER_ACTIONS: Record<string, TMemberAction[]> = {
  running: ["pause", "kill", "restart"],
  joining: ["kill"],
  paused: ["start", "kill", "restart"],
  killed: ["start", "restart"],
  stopped: ["start"],
  failed: ["start", "restart"],
};
const ACTION_HELP: Record<TMemberAction, string> = {
  start: "start: read again (a stopped or killed member joins again)",
  pause: "pause: stop reading but keep heartbeating — its partitions stay with it and their lag grows",
  kill: "kill: stop heartbeating without leaving, as a crashed process does; the broker removes it after the session timeout",
  restart: "restart: kill it and start a fresh member in its place",
  stop: "stop: leave the group cleanly",
};

function MemberButtons({ group, m }: { group: string; m: MemberView }) {
  const actions = useContext(TopologyActions);
  if (!m.sim) return null;
  const sim = m.sim;
  return (
    <span className="topo-buttons nodrag">
      {(MEMBER_ACTIONS[sim.state] ?? ["start"]).map((a) => (
        <button
          key={a}
          type="button"
          className={`topo-mini topo-act-${a}`}
          data-testid={`topo-member-action-${group}-${sim.index}-${a}`}
          aria-label={`${a} ${m.clientId}`}
          title={ACTION_HELP[a]}
          onClick={(e) => {
            e.stopPropagation();
            actions.memberAction(sim.simulationId, sim.index, a);
          }}
        >
          <Icon name={a} />
        </button>
      ))}
    </span>
  );
}

function ProducerButtons({ simulationId, paused }: { simulationId: string; paused: boolean }) {
  const actions = useContext(TopologyActions);
  const act = (a: ProducerAction) => (e: React.MouseEvent) => {
    e.stopPropagation();
    actions.producerAction(simulationId, a);
  };
  return (
    <span className="topo-buttons nodrag">
      <button
        type="button"
        className="topo-mini"
        data-testid={`topo-producer-${paused ? "resume" : "pause"}-${simulationId}`}
        aria-label={paused ? "resume producing" : "pause producing"}
        title={paused ? "resume producing" : "pause producing"}
        onClick={act(paused ? "resume" : "pause")}
      >
        <Icon name={paused ? "start" : "pause"} />
      </button>
      <button
        type="button"
        className="topo-mini"
        data-testid={`topo-producer-delete-${simulationId}`}
        aria-label="delete the simulated producer"
        title="delete the simulated producer"
        onClick={act("delete")}
      >
        <Icon name="delete" />
      </button>
    </span>
  );
}

function GroupButtons({ simulationId, group }: { simulationId: string; group: string }) {
  const actions = useContext(TopologyActions);
  const act = (a: GroupAction) => (e: React.MouseEvent) => {
    e.stopPropagation();
    actions.groupAction(simulationId, a);
  };
  return (
    <span className="topo-buttons nodrag">
      <button
        type="button"
        className="topo-mini"
        data-testid={`topo-group-add-member-${group}`}
        aria-label="add a simulated member"
        title="add a simulated member"
        onClick={act("add-member")}
      >
        <Icon name="plus" />1
      </button>
      <button
        type="button"
        className="topo-mini"
        data-testid={`topo-group-delete-${group}`}
        aria-label="delete the simulated group (its members leave)"
        title="delete the simulated group (its members leave)"
        onClick={act("delete")}
      >
        <Icon name="delete" />
      </button>
    </span>
  );
}

function MemberRow({ group, m }: { group: GroupView; m: MemberView }) {
  const count = m.inGroup ? m.owned.reduce((s, o) => s + o.partitions.length, 0) : 0;
  return (
    <div
      className={`topo-member${m.simulated ? " simulated" : ""}${m.inGroup ? "" : " gone"}`}
      data-testid={`topo-member-${group.id}-${m.clientId}`}
      data-member={m.memberId}
      data-sim-index={m.sim?.index}
      data-state={m.state}
      data-in-group={m.inGroup}
      data-owned={count}
      style={{ height: SIZE.group.member }}
    >
      <Handle type="target" position={Position.Left} id={handle.member(m.memberId)} className="topo-handle topo-member-handle" />
      <div className="topo-member-head">
        <span className={`topo-dot state-${m.state.toLowerCase()}`} title={m.state} aria-hidden />
        <span className="topo-member-name" title={`${m.clientId} (${m.memberId}) · ${m.state}`}>
          {middleEllipsis(m.clientId, m.sim ? 14 : 24)}
        </span>
        <span className="topo-member-count muted" data-testid={`topo-member-count-${group.id}-${m.clientId}`}>
          {m.inGroup ? `${count} ${count === 1 ? "partition" : "partitions"}` : m.state}
        </span>
        <MemberButtons group={group.id} m={m} />
      </div>
      <div className="topo-member-owned mono" title={ownedText(m)}>
        {ownedText(m)}
      </div>
    </div>
  );
}

const GROUP_STATE_WORD: Record<string, string> = {
  Stable: "stable",
  PreparingRebalance: "rebalancing",
  CompletingRebalance: "rebalancing",
  Empty: "empty",
  Dead: "dead",
};

function GroupNodeView({ data }: NodeProps<Node<Extract<TopoNodeData, { kind: "group" }>>>) {
  const g = data.group;
  const actions = useContext(TopologyActions);
  const rateIn = g.topics.reduce((s, t) => s + t.rate, 0);
  return (
    <div
      className={`topo-node topo-group${g.simulated ? " simulated" : ""}`}
      data-testid={`topo-group-${g.id}`}
      style={{ width: SIZE.group.width, height: groupHeight(g.members.length) }}
    >
      <Handle type="target" position={Position.Left} id={handle.in} className="topo-handle" />
      <Head glyph="◎" title={g.id} testId={`topo-group-title-${g.id}`} max={g.simulated ? 16 : 19}>
        {g.simulated && <SimBadge />}
        <button
          type="button"
          className="topo-mini nodrag"
          data-testid={`topo-timeline-${g.id}`}
          title="the group's rebalance timeline"
          onClick={(e) => {
            e.stopPropagation();
            actions.showTimeline(g.id);
          }}
        >
          timeline
        </button>
      </Head>
      <div className="topo-line topo-split muted">
        <span>
          <span className={`topo-state ${g.state}`} title={g.state} data-testid={`topo-group-state-${g.id}`}>
            {GROUP_STATE_WORD[g.state] ?? g.state}
          </span>{" "}
          · epoch <span data-testid={`topo-group-epoch-${g.id}`}>{g.epoch}</span> · lag{" "}
          <strong className={g.totalLag > 0 ? "warn" : undefined} data-testid={`topo-group-lag-${g.id}`}>
            {formatCount(g.totalLag)}
          </strong>{" "}
          · {rate(rateIn)}
        </span>
        {g.simulationId && <GroupButtons simulationId={g.simulationId} group={g.id} />}
      </div>
      {g.members.length === 0 ? (
        <div className="topo-member-empty muted small">no members</div>
      ) : (
        g.members.map((m) => <MemberRow key={m.memberId} group={g} m={m} />)
      )}
    </div>
  );
}

function PipelineNodeView({ data }: NodeProps<Node<Extract<TopoNodeData, { kind: "pipeline" }>>>) {
  const p = data.pipeline;
  return (
    <div className="topo-node topo-pipeline" data-testid={`topo-pipeline-${p.name}`} style={SIZE.pipeline}>
      <Handle type="target" position={Position.Left} id={handle.in} className="topo-handle" />
      <Head glyph="⚙" title={p.name} testId={`topo-pipeline-title-${p.name}`} max={20}>
        <span className={`state-chip ${p.state}`}>{p.state}</span>
      </Head>
      <div className="topo-line muted">
        lag <strong className={p.lag > 0 ? "warn" : undefined}>{formatCount(p.lag)}</strong> · {rate(p.rate)}
      </div>
      <div className="topo-sketch">
        <PipelineSketch nodes={p.nodes} edges={p.edges} label={`the pipeline ${p.name}`} />
      </div>
      <Handle type="source" position={Position.Right} id={handle.out} className="topo-handle" />
    </div>
  );
}

/** At module scope, as React Flow asks: one component per kind. */
export const NODE_TYPES: NodeTypes = {
  producer: memo(ProducerNodeView),
  topic: memo(TopicNodeView),
  consumerGroup: memo(GroupNodeView),
  pipeline: memo(PipelineNodeView),
} as NodeTypes;
