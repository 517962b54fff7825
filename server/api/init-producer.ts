import { getBroker } from "./registry.ts";

/** A new idempotent producer: its id and epoch, to stamp on every record batch it sends. */
export function initProducer(req: { transactionalId?: string }): Promise<{ producerId: number; producerEpoch: number }> {
  return getBroker().initProducer(req);
}
