import type { TCreateTopicRequest, TTopic } from "../schemas/topic.ts";
import { getBroker } from "./registry.ts";

/** Creates a topic; TOPIC_ALREADY_EXISTS (409) when the name is taken. */
export function createTopic(input: TCreateTopicRequest): Promise<TTopic> {
  return getBroker().createTopic(input);
}
