"use client";
/**
 * What the canvas's nodes can ask of the page — expand a topic, add partitions, open a group's
 * timeline, act on a simulated client — handed down by context so the memoised nodes need not
 * carry callbacks in their data. The page gives a value that never changes.
 */
import { createContext } from "react";
import type { TMemberAction } from "@/server/schemas/topology";

export type ProducerAction = "pause" | "resume" | "delete";
export type GroupAction = "add-member" | "delete";

export interface TopologyActionsValue {
  toggleTopic(topic: string): void;
  addPartitions(topic: string): void;
  showTimeline(group: string): void;
  memberAction(simulationId: string, index: number, action: TMemberAction): void;
  producerAction(simulationId: string, action: ProducerAction): void;
  groupAction(simulationId: string, action: GroupAction): void;
}

const nothing = () => {};
export const TopologyActions = createContext<TopologyActionsValue>({
  toggleTopic: nothing,
  addPartitions: nothing,
  showTimeline: nothing,
  memberAction: nothing,
  producerAction: nothing,
  groupAction: nothing,
});
