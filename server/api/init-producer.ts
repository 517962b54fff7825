import { getBroker } from "./registry.ts";

/**
 * A new producer id and epoch: idempotent, or (with a transactional id) transactional. A second
 * init with the same transactional id bumps the epoch, fences the first and aborts its open
 * transaction before replying.
 */
export async function initProducer(req: {
  transactionalId?: string;
  transactionTimeoutMs?: number;
}): Promise<{ producerId: number; producerEpoch: number; transactionalId?: string }> {
  const r = await getBroker().initProducer(req);
  return req.transactionalId === undefined ? r : { ...r, transactionalId: req.transactionalId };
}
