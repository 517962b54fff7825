import { getBroker } from "./registry.ts";

/** Commits or aborts the producer's transaction; replies once every marker is written. */
export function endTransaction(transactionalId: string, req: { producerId: number; producerEpoch: number }, commit: boolean) {
  return getBroker().endTransaction(transactionalId, req.producerId, req.producerEpoch, commit);
}
