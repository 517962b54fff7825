import { z } from "zod";
import { MAX_PARTITIONS, TOPIC_CONFIG_INTEGER_RANGES, TOPIC_NAME_MAX } from "./limits.ts";

/** Kafka's topic name rules. */
export const ZTopicName = z
  .string()
  .min(1, "topic name must not be empty")
  .max(TOPIC_NAME_MAX, `topic name must be at most ${TOPIC_NAME_MAX} characters`)
  .regex(/^[a-zA-Z0-9._-]+$/, "topic name may contain only ASCII letters, digits, '.', '_' and '-'")
  .refine((s) => s !== "." && s !== "..", "topic name cannot be '.' or '..'");

export const ZPartitionCount = z
  .number()
  .int("partitions must be an integer")
  .min(1, "a topic needs at least 1 partition")
  .max(MAX_PARTITIONS, `a topic can have at most ${MAX_PARTITIONS} partitions`);

/** Config overrides as Kafka names them; values as strings or numbers; null resets to default. */
export const ZTopicConfigsInput = z
  .record(z.string().min(1).max(255), z.union([z.string().max(1024), z.number(), z.null()]))
  .refine((o) => Object.keys(o).length <= 64, "at most 64 configs at once")
  .meta({
    id: "TopicConfigsInput",
    description:
      "retention.ms, retention.bytes, cleanup.policy (delete|compact|delete,compact), delete.retention.ms, max.message.bytes, message.timestamp.type (CreateTime|LogAppendTime), min.compaction.lag.ms",
  });

/** The values of the enumerated topic configs. */
export const TOPIC_CONFIG_ENUMS = {
  "cleanup.policy": ["delete", "compact", "delete,compact"],
  "message.timestamp.type": ["CreateTime", "LogAppendTime"],
} as const;

/** An integer config typed as text, within its range; the messages read as the broker's. */
function zIntegerConfigText(name: string, [min, max]: readonly [number, number]) {
  const unbounded = max === Number.MAX_SAFE_INTEGER;
  const range = `${name} must be between ${min} and ${max.toLocaleString("en-US")}`;
  return (
    z
      .string()
      .trim()
      // what the broker takes: any number notation JavaScript reads as an integer ("1e3" too)
      .refine((s) => s !== "" && Number.isInteger(Number(s)), `${name} must be a whole number`)
      .refine((s) => Number(s) >= min, unbounded ? `${name} must be ${min} or more${min === -1 ? " (-1: no limit)" : ""}` : range)
      .refine((s) => Number(s) <= max, unbounded ? `${name} must be at most ${max.toLocaleString("en-US")}` : range)
      .transform(Number)
  );
}

/**
 * Each known topic config's value as a form holds it (text), checked as the broker checks it and
 * turned into what the API takes; the create-topic dialog and the config editor validate with these.
 */
export const ZTopicConfigText: Readonly<Record<string, z.ZodType<string | number, string>>> = {
  ...Object.fromEntries(Object.entries(TOPIC_CONFIG_INTEGER_RANGES).map(([name, range]) => [name, zIntegerConfigText(name, range)])),
  ...Object.fromEntries(
    Object.entries(TOPIC_CONFIG_ENUMS).map(([name, values]) => [
      name,
      z
        .string()
        // as the broker reads it: "compact, delete" is "delete,compact"
        .transform((v) => (name === "cleanup.policy" ? v.replace(/\s+/g, "").replace(/^compact,delete$/, "delete,compact") : v.trim()))
        .refine((v) => (values as readonly string[]).includes(v), `${name} must be one of ${values.join(", ")}`),
    ]),
  ),
};

export const ZCreateTopicRequest = z
  .object({
    name: ZTopicName,
    partitions: ZPartitionCount.default(1),
    configs: ZTopicConfigsInput.optional(),
  })
  .strict()
  .meta({ id: "CreateTopicRequest" });
export type TCreateTopicRequest = z.infer<typeof ZCreateTopicRequest>;

export const ZUpdateTopicRequest = z.object({ configs: ZTopicConfigsInput }).strict().meta({ id: "UpdateTopicRequest" });

export const ZAddPartitionsRequest = z
  .object({ partitions: ZPartitionCount.describe("the new total number of partitions (must be larger than now)") })
  .strict()
  .meta({ id: "AddPartitionsRequest" });

export const ZPartition = z
  .object({
    partition: z.number().int(),
    logStartOffset: z.number().int(),
    highWatermark: z.number().int(),
    lastStableOffset: z.number().int().describe("first offset of the oldest open transaction; the high watermark when none is open"),
    openTransactions: z
      .array(z.object({ producerId: z.number().int(), firstOffset: z.number().int(), lastOffset: z.number().int() }))
      .describe("transactions open in this partition (they hold the last stable offset back)"),
    recordCount: z.number().int(),
    sizeBytes: z.number().int(),
  })
  .meta({ id: "Partition" });
export type TPartition = z.infer<typeof ZPartition>;

export const ZTopicConfigs = z
  .object({
    "retention.ms": z.number().int(),
    "retention.bytes": z.number().int(),
    "cleanup.policy": z.enum(["delete", "compact", "delete,compact"]),
    "delete.retention.ms": z.number().int(),
    "max.message.bytes": z.number().int(),
    "message.timestamp.type": z.enum(["CreateTime", "LogAppendTime"]),
    "min.compaction.lag.ms": z.number().int(),
  })
  .meta({ id: "TopicConfigs" });

export const ZTopic = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    partitions: z.array(ZPartition),
    configs: ZTopicConfigs,
    overrides: z.array(z.string()).describe("configs set on this topic; the others are defaults"),
    createdAt: z.string(),
    recordCount: z.number().int(),
    sizeBytes: z.number().int(),
  })
  .meta({ id: "Topic" });
export type TTopic = z.infer<typeof ZTopic>;

export const ZTopicList = z.object({ topics: z.array(ZTopic) }).meta({ id: "TopicList" });
export type TTopicList = z.infer<typeof ZTopicList>;
