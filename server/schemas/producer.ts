import { z } from "zod";
import { ZCommitMetadata, ZGroupId, ZMemberId, ZTransactionalId } from "./ids.ts";
import { ZTopicName } from "./topic.ts";

export { ZTransactionalId };
const zTransactionalId = ZTransactionalId;
const zProducerId = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const zProducerEpoch = z.number().int().min(0).max(32767);

export const ZInitProducerRequest = z
  .object({
    transactionalId: zTransactionalId
      .optional()
      .describe(
        "with it: a transactional producer; a second init with the same id bumps the epoch, fences the first and aborts its open transaction",
      ),
    transactionTimeoutMs: z
      .number()
      .int()
      .min(1)
      .max(900_000)
      .optional()
      .describe("transaction.timeout.ms: an open transaction older than this is aborted by the broker (default 60000)"),
  })
  .strict()
  .refine((r) => r.transactionTimeoutMs === undefined || r.transactionalId !== undefined, "transactionTimeoutMs needs a transactionalId")
  .meta({ id: "InitProducerRequest" });

export const ZInitProducerResponse = z
  .object({ producerId: z.number().int(), producerEpoch: z.number().int(), transactionalId: z.string().optional() })
  .meta({ id: "InitProducerResponse" });

/** Who is asking: the producer id and epoch `POST /api/v1/producers` returned. */
export const ZEndTransactionRequest = z
  .object({ producerId: zProducerId, producerEpoch: zProducerEpoch })
  .strict()
  .meta({ id: "EndTransactionRequest" });

/** sendOffsetsToTransaction (KIP-447): fenced by the group member's id and epoch. */
export const ZTransactionOffsetsRequest = z
  .object({
    producerId: zProducerId,
    producerEpoch: zProducerEpoch,
    groupId: ZGroupId,
    memberId: ZMemberId.describe("the consumer group member whose input offsets these are"),
    memberEpoch: z.number().int().min(0).describe("its current member epoch (generation); an older one is fenced"),
    offsets: z
      .array(
        z
          .object({
            topic: ZTopicName,
            partition: z.number().int().min(0).max(999),
            offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).describe("the next offset to consume"),
            metadata: ZCommitMetadata.nullable().optional(),
          })
          .strict(),
      )
      .min(1)
      .max(10_000),
  })
  .strict()
  .meta({ id: "TransactionOffsetsRequest" });

export const TXN_STATE_NAMES = ["Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead"] as const;

export const ZTransaction = z
  .object({
    transactionalId: z.string(),
    producerId: z.number().int(),
    producerEpoch: z.number().int(),
    state: z.enum(TXN_STATE_NAMES),
    timeoutMs: z.number().int(),
    partitions: z.array(z.object({ topic: z.string(), partition: z.number().int() })),
    groups: z.array(z.string()).describe("groups with offsets pending in the transaction"),
    startedAt: z.number().int().nullable(),
    ageMs: z.number().int().nullable(),
    lastUpdatedAt: z.number().int(),
    pending: z.object({ commit: z.boolean(), reason: z.string() }).nullable(),
    lastResult: z.object({ commit: z.boolean(), reason: z.string(), completedAt: z.number().int() }).nullable(),
  })
  .meta({ id: "Transaction" });

export const ZListTransactionsQuery = z
  .object({
    state: z
      .string()
      .regex(
        /^(Empty|Ongoing|PrepareCommit|PrepareAbort|CompleteCommit|CompleteAbort|open)(,(Empty|Ongoing|PrepareCommit|PrepareAbort|CompleteCommit|CompleteAbort|open))*$/,
        "state must be a comma-separated list of transaction states (or 'open')",
      )
      .optional(),
  })
  .strict();

export const ZListTransactionsResponse = z.object({ transactions: z.array(ZTransaction) }).meta({ id: "ListTransactionsResponse" });

export const ZProducerEntry = z
  .object({
    topic: z.string(),
    partition: z.number().int(),
    producerId: z.number().int(),
    producerEpoch: z.number().int(),
    lastSequence: z.number().int(),
    lastTimestamp: z.number().int(),
    coordinatorEpoch: z.number().int(),
    currentTxnStartOffset: z.number().int().nullable(),
  })
  .meta({ id: "ProducerEntry" });

export const ZListProducersResponse = z.object({ producers: z.array(ZProducerEntry) }).meta({ id: "ListProducersResponse" });
