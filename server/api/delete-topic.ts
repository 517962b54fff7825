import { getBroker } from "./registry.ts";

/** Deletes a topic and all its records. */
export function deleteTopic(name: string): Promise<void> {
  return getBroker().deleteTopic(name);
}
