import type { TTopic } from "../schemas/topic.ts";
import { getBroker } from "./registry.ts";

/** One topic: partitions (log start, high watermark, last stable offset, records, bytes), configs. */
export function describeTopic(name: string): Promise<TTopic> {
  return getBroker().describeTopic(name);
}
