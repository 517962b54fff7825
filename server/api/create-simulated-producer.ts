import type { TSimulatedProducer, TSimulatedProducerConfig } from "../schemas/topology.ts";
import { getBroker, getSimulations } from "./registry.ts";

/** Starts a simulated producer on an existing topic (UNKNOWN_TOPIC_OR_PARTITION otherwise). */
export async function createSimulatedProducer(req: TSimulatedProducerConfig): Promise<TSimulatedProducer> {
  await getBroker().describeTopic(req.topic);
  return getSimulations().createProducer(req);
}
