import type { TTopicList } from "../schemas/topic.ts";
import { getBroker } from "./registry.ts";

/** Every topic with its partitions' watermarks, sizes and effective configs. */
export async function findTopics(): Promise<TTopicList> {
  return { topics: await getBroker().listTopics() };
}
