import { groupTimelineView } from "../present/group-timeline-view.ts";
import type { TGroupTimeline } from "../schemas/topology.ts";
import { getBroker } from "./registry.ts";

/** A group's rebalance timeline: its events, and per epoch who owned which partition and how long partitions had no owner. */
export async function readGroupTimeline(groupId: string): Promise<TGroupTimeline> {
  const { events, limit } = await getBroker().groupTimeline(groupId);
  return groupTimelineView(groupId, events, limit);
}
