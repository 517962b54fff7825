"use client";
/**
 * An edge of the topology: as thick as the records/s along it (log scale), its dashes moving
 * faster the busier it is (idle: still), with a lag badge where records wait for a group or a
 * pipeline. A partition no member owns is drawn dashed in the warning color, badge "no owner".
 */
import { BaseEdge, EdgeLabelRenderer, getBezierPath, type Edge, type EdgeProps, type EdgeTypes } from "@xyflow/react";
import { memo, type CSSProperties } from "react";
import { formatCount } from "../ui/format";
import { flowPeriodFor, strokeWidthFor, type TopoEdgeData } from "./graph";

export type TopoFlowEdge = Edge<TopoEdgeData, "flow">;

function FlowEdgeView(props: EdgeProps<TopoFlowEdge>) {
  const [path, labelX, labelY] = getBezierPath(props);
  const d = props.data ?? { rate: 0, lag: null };
  const period = flowPeriodFor(d.rate);
  const style: CSSProperties & Record<string, string | number> = { strokeWidth: strokeWidthFor(d.rate) };
  if (period !== null) style["--topo-flow-period"] = `${period}s`;
  const cls = `topo-edge${period !== null ? " flowing" : ""}${d.unowned ? " unowned" : ""}${d.lag ? " lagging" : ""}`;
  const showBadge = d.unowned || (d.lag !== null && (d.lag > 0 || props.sourceHandleId === "out"));
  // a lane's badge sits at the lane's end, in its row, so twelve of them do not pile up mid-way
  const fromLane = props.sourceHandleId !== "out" && props.sourceHandleId !== undefined && props.sourceHandleId !== null;
  const at = fromLane ? { x: props.sourceX + 30, y: props.sourceY } : { x: labelX, y: labelY };
  return (
    <>
      <BaseEdge id={props.id} path={path} className={cls} style={style} interactionWidth={12} />
      {showBadge && (
        <EdgeLabelRenderer>
          <div
            className={`topo-edge-badge nodrag nopan${d.unowned ? " unowned" : d.lag ? " lagging" : ""}`}
            data-testid={`topo-edge-badge-${props.id}`}
            title={d.unowned ? "no member of the group owns this partition" : `${formatCount(d.lag ?? 0)} records not yet consumed`}
            style={{ transform: `translate(-50%, -50%) translate(${at.x}px, ${at.y}px)` }}
          >
            {d.unowned ? "no owner" : `lag ${formatCount(d.lag ?? 0)}`}
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  );
}

export const EDGE_TYPES: EdgeTypes = { flow: memo(FlowEdgeView) } as EdgeTypes;
