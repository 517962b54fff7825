import { z } from "zod";

export const ZInitProducerRequest = z
  .object({
    transactionalId: z.string().min(1).max(255).optional().describe("not supported yet: transactions are not wired in"),
  })
  .strict()
  .meta({ id: "InitProducerRequest" });

export const ZInitProducerResponse = z
  .object({ producerId: z.number().int(), producerEpoch: z.number().int() })
  .meta({ id: "InitProducerResponse" });
