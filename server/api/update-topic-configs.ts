import type { TTopic } from "../schemas/topic.ts";
import { getBroker } from "./registry.ts";

/** Sets topic configs; a null value resets that config to its default. */
export function updateTopicConfigs(name: string, configs: Record<string, string | number | null>): Promise<TTopic> {
  return getBroker().updateTopicConfigs(name, configs);
}
