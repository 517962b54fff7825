import { getBroker } from "./registry.ts";

/** Producers with state per partition (id, epoch, last sequence, open transaction start). */
export function listProducers() {
  return { producers: getBroker().listProducers() };
}
