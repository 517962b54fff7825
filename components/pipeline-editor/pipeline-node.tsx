"use client";
/**
 * A pipeline node on the canvas: its kind, id and a one-line summary of its config, its ports
 * (from the shared schema's portsOf), a red badge with the count of the server's problems pinned
 * to it, and what the last preview saw (in / out / failed); while the pipeline is deployed, its
 * error and late counts as badges, a source's lag and watermark, the failure when it names the
 * node, and on a selected sink a link to its topic's live tail. Memoised: React Flow re-renders it
 * only when its flow node object changed (see flow-model.ts).
 */
import { Handle, Position, type NodeProps, type NodeTypes } from "@xyflow/react";
import Link from "next/link";
import { memo } from "react";
import { portsOf, type TNodeKind } from "@/server/schemas/pipeline";
import { enc } from "../hooks/api";
import { formatCount, formatTime } from "../ui/format";
import { summaryOf, type NodeLive, type PipelineFlowNode } from "./flow-model";
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
  const { node, problems, stats, live } = data;
  const info = KINDS[node.config.kind];
  const { inputs, outputs } = portsOf(node.config);
  const ports = Math.max(inputs.length, outputs.length);
  return (
    <div
      className={`pe-node pe-kind-${info.group}${selected ? " selected" : ""}${problems.length ? " has-problems" : ""}${live?.failure ? " failed" : ""}`}
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
      {live && <LiveFacts id={node.id} live={live} />}
      {live && selected && (node.config.kind === "sink" || node.config.kind === "deadLetter") && node.config.topic && (
        <Link
          className="pe-live-tail nodrag"
          href={`/topics/${enc(node.config.topic)}?tab=live`}
          data-testid={`live-tail-${node.id}`}
          title={`what arrives in ${node.config.topic}, live`}
        >
          Live tail ↗
        </Link>
      )}
      <PortHandles node={node.id} ports={outputs} side="out" />
    </div>
  );
});

/** What the deployed pipeline reports of a node: badges for errors and late records, lag, watermark, failure. */
function LiveFacts({ id, live }: { id: string; live: NodeLive }) {
  return (
    <>
      {(live.errors > 0 || live.late > 0) && (
        <div className="pe-live-badges">
          {live.errors > 0 && (
            <span className="pe-live-badge error" data-testid={`node-errors-${id}`} title="records this node failed on">
              ✖ {formatCount(live.errors)}
            </span>
          )}
          {live.late > 0 && (
            <span className="pe-live-badge late" data-testid={`node-late-${id}`} title="records past every window's grace period">
              late {formatCount(live.late)}
            </span>
          )}
        </div>
      )}
      {(live.lag !== null || live.watermark !== null) && (
        <div className="pe-node-stats pe-live-stats" data-testid={`node-live-${id}`}>
          {live.lag !== null && <span title="records of its topics not yet read">lag {formatCount(live.lag)}</span>}
          {live.watermark !== null && (
            <span className="mono" title={`watermark: event time seen complete (${new Date(live.watermark).toISOString()})`}>
              wm {formatTime(live.watermark).slice(5, 16)}
            </span>
          )}
        </div>
      )}
      {live.failure && (
        <div className="pe-node-failure" data-testid={`node-failure-${id}`} title={live.failure}>
          {live.failure}
        </div>
      )}
    </>
  );
}

const PipelineNode = memo(function PipelineNode({ data, selected }: NodeProps<PipelineFlowNode>) {
  return <NodeBody data={data} selected={selected} />;
});

/** One node type per kind (all drawn by the same component), at module scope as React Flow asks. */
export const NODE_TYPES: NodeTypes = Object.fromEntries(Object.keys(KINDS).map((k) => [k as TNodeKind, PipelineNode]));
