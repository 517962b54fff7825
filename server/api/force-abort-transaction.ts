import { getBroker } from "./registry.ts";

/**
 * An operator aborts a hanging transaction (Kafka's `kafka-transactions.sh forceTerminate`): its
 * producer is fenced (epoch bumped) and an abort marker goes into every partition, so
 * read_committed readers move past it. Unknown id: 404; no transaction in progress: 409.
 */
export function forceAbortTransaction(transactionalId: string) {
  return getBroker().forceAbortTransaction(transactionalId);
}
