import type { TTopic } from "../schemas/topic.ts";
import { getBroker } from "./registry.ts";

/** Grows a topic to `partitions` partitions in total. */
export function addPartitions(name: string, partitions: number): Promise<TTopic> {
  return getBroker().addPartitions(name, partitions);
}
