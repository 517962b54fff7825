"use client";
/**
 * An edge with the count of records that crossed it drawn at its middle: while the pipeline runs,
 * what its upstream port emitted, thicker and flowing with the rate; else what the last preview saw.
 */
import { BaseEdge, EdgeLabelRenderer, getBezierPath, type EdgeProps, type EdgeTypes } from "@xyflow/react";
import { memo } from "react";
import { formatCount, formatRate } from "../ui/format";
import type { PipelineFlowEdge } from "./flow-model";

function CountEdgeView(props: EdgeProps<PipelineFlowEdge>) {
  const [path, labelX, labelY] = getBezierPath(props);
  const count = props.data?.count ?? null;
  const perSec = props.data?.perSec ?? null;
  const flowing = perSec !== null && perSec > 0;
  const width = perSec === null ? undefined : widthOf(perSec);
  return (
    <>
      <BaseEdge
        id={props.id}
        path={path}
        markerEnd={props.markerEnd}
        className={`pe-edge${props.selected ? " selected" : ""}${flowing ? " flowing" : ""}`}
        style={width === undefined ? undefined : { strokeWidth: width }}
        interactionWidth={16}
      />
      {count !== null && (
        <EdgeLabelRenderer>
          <div
            className={`pe-edge-count nodrag nopan${props.selected ? " selected" : ""}${perSec !== null ? " live" : ""}`}
            data-testid={`edge-count-${props.id}`}
            data-live={perSec !== null ? "true" : undefined}
            title={
              perSec !== null ? `${formatCount(count)} records, ${formatRate(perSec)}/s over the last 5 s` : "records in the last preview"
            }
            style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
          >
            <span data-testid={`edge-count-value-${props.id}`}>{formatCount(count)}</span>
            {perSec !== null && perSec > 0 && <span className="pe-edge-rate"> · {formatRate(perSec)}/s</span>}
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  );
}

/** Stroke width by rate: 1.5 idle, growing with the rate's order of magnitude up to 6. */
function widthOf(perSec: number): number {
  return Math.min(6, 1.5 + Math.log10(1 + perSec) * 1.2);
}

export const EDGE_TYPES: EdgeTypes = { count: memo(CountEdgeView) };
