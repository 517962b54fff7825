"use client";
/**
 * A pipeline node on the canvas: its kind, id and a one-line summary of its config, its ports
 * (from the shared schema's portsOf), a red badge with the count of the server's problems pinned
 * to it, and what the last preview saw (in / out / failed). Memoised: React Flow re-renders it
 * only when its flow node object changed (see flow-model.ts).
 */
import { Handle, Position, type NodeProps, type NodeTypes } from "@xyflow/react";
import { memo } from "react";
import { portsOf, type TNodeKind } from "@/server/schemas/pipeline";
import { formatCount } from "../ui/format";
import { summaryOf, type PipelineFlowNode } from "./flow-model";
import { KINDS } from "./node-kinds";

function PortHandles({ node, ports, side }: { node: string; ports: string[]; side: "in" | "out" }) {
  const showNames = ports.length > 1 || ports.some((p) => p !== side);
  return (
    <>
      {ports.map((port, i) => {
        const top = `${((i + 1) / (ports.length + 1)) * 100}%`;
        return (
          <Handle
            key={port}
            id={port}
            type={side === "in" ? "target" : "source"}
            position={side === "in" ? Position.Left : Position.Right}
            style={{ top }}
            className="pe-handle"
            data-testid={`port-${node}-${side}-${port}`}
            title={`${side === "in" ? "input" : "output"} '${port}'`}
          >
            {showNames && <span className={`pe-port-name pe-port-${side}`}>{port}</span>}
          </Handle>
        );
      })}
    </>
  );
}

/** What a node draws: only its data and selection (not its position, which changes on every move of a drag). */
const NodeBody = memo(function NodeBody({ data, selected }: { data: PipelineFlowNode["data"]; selected: boolean }) {
  const { node, problems, stats } = data;
  const info = KINDS[node.config.kind];
  const { inputs, outputs } = portsOf(node.config);
  const ports = Math.max(inputs.length, outputs.length);
  return (
    <div
      className={`pe-node pe-kind-${info.group}${selected ? " selected" : ""}${problems.length ? " has-problems" : ""}`}
      data-testid={`pipeline-node-${node.id}`}
      data-kind={node.config.kind}
      style={{ minHeight: ports > 2 ? 28 + ports * 18 : undefined }}
    >
      <PortHandles node={node.id} ports={inputs} side="in" />
      <div className="pe-node-kind">
        <span className="pe-glyph" aria-hidden>
          {info.glyph}
        </span>
        {info.title}
      </div>
      <div className="pe-node-head">
        <span className="pe-node-title" title={node.label ? `${node.label} (${node.id})` : node.id}>
          {node.label ?? node.id}
        </span>
        {problems.length > 0 && (
          <span className="pe-problem-badge" data-testid={`node-problems-${node.id}`} title={problems.map((p) => p.message).join("\n")}>
            {problems.length}
          </span>
        )}
      </div>
      <div className="pe-node-summary mono" title={summaryOf(node.config)}>
        {summaryOf(node.config)}
      </div>
      {stats && (
        <div className="pe-node-stats" data-testid={`node-stats-${node.id}`}>
          <span title="records received">in {formatCount(stats.received)}</span>
          {outputs.length > 0 && <span title="records emitted">out {formatCount(stats.emitted)}</span>}
          {stats.failed > 0 && (
            <span className="pe-failed" title="records failed (dead letters)">
              ✖ {formatCount(stats.failed)}
            </span>
          )}
        </div>
      )}
      <PortHandles node={node.id} ports={outputs} side="out" />
    </div>
  );
});

const PipelineNode = memo(function PipelineNode({ data, selected }: NodeProps<PipelineFlowNode>) {
  return <NodeBody data={data} selected={selected} />;
});

/** One node type per kind (all drawn by the same component), at module scope as React Flow asks. */
export const NODE_TYPES: NodeTypes = Object.fromEntries(Object.keys(KINDS).map((k) => [k as TNodeKind, PipelineNode]));
