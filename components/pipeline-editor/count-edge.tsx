"use client";
/** An edge with the count of records that crossed it in the last preview, drawn at its middle. */
import { BaseEdge, EdgeLabelRenderer, getBezierPath, type EdgeProps, type EdgeTypes } from "@xyflow/react";
import { memo } from "react";
import { formatCount } from "../ui/format";
import type { PipelineFlowEdge } from "./flow-model";

function CountEdgeView(props: EdgeProps<PipelineFlowEdge>) {
  const [path, labelX, labelY] = getBezierPath(props);
  const count = props.data?.count ?? null;
  return (
    <>
      <BaseEdge
        id={props.id}
        path={path}
        markerEnd={props.markerEnd}
        className={props.selected ? "pe-edge selected" : "pe-edge"}
        interactionWidth={16}
      />
      {count !== null && (
        <EdgeLabelRenderer>
          <div
            className={`pe-edge-count nodrag nopan${props.selected ? " selected" : ""}`}
            data-testid={`edge-count-${props.id}`}
            style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
          >
            {formatCount(count)}
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  );
}

export const EDGE_TYPES: EdgeTypes = { count: memo(CountEdgeView) };
