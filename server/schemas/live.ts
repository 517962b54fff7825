import { z } from "zod";
import { ZTopicName } from "./topic.ts";
import { ZRecord } from "./record.ts";

/** Where a live-tail subscription starts, per partition. */
export const ZStartPosition = z.union([
  z.enum(["latest", "earliest"]),
  z.object({ offset: z.number().int().min(0) }).strict(),
  z.object({ timestamp: z.number().int().min(0) }).strict(),
]);

export const MAX_SUBSCRIPTIONS_PER_SOCKET = 32;

export const ZLiveClientMessage = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("subscribe"),
      id: z.string().min(1).max(64),
      topic: ZTopicName,
      partitions: z.array(z.number().int().min(0)).max(1000).optional(),
      from: ZStartPosition.default("latest"),
    })
    .strict(),
  z.object({ type: z.literal("unsubscribe"), id: z.string().min(1).max(64) }).strict(),
  z.object({ type: z.literal("ping") }).strict(),
]);
export type TLiveClientMessage = z.infer<typeof ZLiveClientMessage>;

export const ZLiveServerMessage = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("subscribed"),
    id: z.string(),
    topic: z.string(),
    partitions: z.array(z.object({ partition: z.number().int(), offset: z.number().int() })),
  }),
  z.object({
    type: z.literal("records"),
    id: z.string(),
    topic: z.string(),
    partition: z.number().int(),
    highWatermark: z.number().int(),
    records: z.array(ZRecord),
  }),
  z.object({
    type: z.literal("lagging"),
    id: z.string(),
    topic: z.string(),
    partition: z.number().int(),
    skippedFrom: z.number().int(),
    skippedTo: z.number().int(),
    message: z.string(),
  }),
  z.object({ type: z.literal("unsubscribed"), id: z.string() }),
  z.object({ type: z.literal("pong") }),
  z.object({
    type: z.literal("error"),
    id: z.string().optional(),
    error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }),
  }),
]);
export type TLiveServerMessage = z.infer<typeof ZLiveServerMessage>;
