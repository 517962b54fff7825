import { getBroker } from "./registry.ts";

/** sendOffsetsToTransaction (KIP-447): the group's offsets commit with the transaction, or not at all. */
export function addTransactionOffsets(
  transactionalId: string,
  req: {
    producerId: number;
    producerEpoch: number;
    groupId: string;
    memberId: string;
    memberEpoch: number;
    offsets: { topic: string; partition: number; offset: number; metadata?: string | null }[];
  },
) {
  return getBroker().addOffsetsToTransaction(transactionalId, {
    ...req,
    offsets: req.offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset, metadata: o.metadata ?? null })),
  });
}
