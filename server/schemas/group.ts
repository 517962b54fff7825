import { z } from "zod";
import { ZTopicName } from "./topic.ts";
import { zQueryInt } from "./common.ts";
import { ZClientId, ZCommitMetadata, ZGroupId, ZMemberId, ZTopicPattern } from "./ids.ts";
import { ZRecord } from "./record.ts";

export { ZClientId, ZCommitMetadata, ZGroupId, ZMemberId, ZTopicPattern };

export const ZTopicPartitions = z.object({ topic: ZTopicName, partitions: z.array(z.number().int().min(0)).max(1000) }).strict();

export const ZAssignorName = z.enum(["sticky", "range", "roundrobin", "round-robin", "uniform", "cooperative-sticky"]);

/** Join: subscribe to topic names or a regex (KIP-848, server-side assignor). */
export const ZJoinGroupRequest = z
  .object({
    topics: z.array(ZTopicName).min(1).max(1000).optional(),
    topicPattern: ZTopicPattern.optional(),
    clientId: ZClientId.optional(),
    assignor: ZAssignorName.optional().describe("server-side assignor; default sticky; a group uses one at a time"),
    rebalanceTimeoutMs: z.number().int().min(1).max(3_600_000).optional(),
    autoOffsetReset: z.enum(["earliest", "latest", "none"]).default("latest"),
    isolationLevel: z
      .enum(["read_uncommitted", "read_committed"])
      .default("read_uncommitted")
      .describe("read_committed: polls deliver only committed transactional records, up to the last stable offset"),
  })
  .strict()
  .refine((r) => (r.topics === undefined) !== (r.topicPattern === undefined), "give exactly one of topics or topicPattern")
  .meta({ id: "JoinGroupRequest" });
export type TJoinGroupRequest = z.infer<typeof ZJoinGroupRequest>;

export const ZHeartbeatRequest = z
  .object({
    // joining (epoch 0) goes through POST …/members, which hands out the member id
    memberEpoch: z
      .number()
      .int()
      .min(1, "memberEpoch must be the epoch from the last reply (>= 1); join through POST /groups/{group}/members"),
    ownedPartitions: z
      .array(ZTopicPartitions)
      .max(1000)
      .optional()
      .describe("what the member still owns; omitted = everything it was given"),
  })
  .strict()
  .meta({ id: "HeartbeatRequest" });

export const ZHeartbeatResponse = z
  .object({
    groupId: z.string(),
    memberId: z.string(),
    memberEpoch: z.number().int(),
    generationId: z.number().int().describe("same as memberEpoch (the member's generation)"),
    heartbeatIntervalMs: z.number().int(),
    assignment: z.array(ZTopicPartitions),
  })
  .meta({ id: "HeartbeatResponse" });
export type THeartbeatResponse = z.infer<typeof ZHeartbeatResponse>;

export const ZPollQuery = z
  .object({
    maxRecords: zQueryInt("maxRecords", 1, 10_000).optional(),
    maxBytes: zQueryInt("maxBytes", 1, 16 * 1024 * 1024).optional(),
    waitMs: zQueryInt("waitMs", 0, 30_000).optional(),
  })
  .strict();

export const ZPollResponse = z
  .object({
    records: z.array(ZRecord),
    positions: z
      .array(z.object({ topic: z.string(), partition: z.number().int(), offset: z.number().int() }))
      .describe(
        "the member's next offset on each partition this poll moved, past transaction markers: what to commit once its records are processed",
      ),
    assignment: z.array(ZTopicPartitions),
  })
  .meta({ id: "PollResponse" });

export const ZCommitRequest = z
  .object({
    memberEpoch: z.number().int().min(0),
    offsets: z
      .array(
        z
          .object({
            topic: ZTopicName,
            partition: z.number().int().min(0),
            offset: z.number().int().min(0),
            metadata: ZCommitMetadata.nullable().optional(),
          })
          .strict(),
      )
      .max(10_000)
      .optional()
      .describe("the next offsets to consume; omitted = the member's current positions"),
  })
  .strict()
  .meta({ id: "CommitRequest" });

export const ZCommitResponse = z
  .object({ committed: z.array(z.object({ topic: z.string(), partition: z.number().int(), offset: z.number().int() })) })
  .meta({ id: "CommitResponse" });

/** Where an offset reset moves a group's positions (kafka-consumer-groups --reset-offsets --to-*). */
export const ZResetTarget = z.discriminatedUnion("to", [
  z.object({ to: z.literal("earliest") }).strict(),
  z.object({ to: z.literal("latest") }).strict(),
  z.object({ to: z.literal("timestamp"), timestamp: z.number().int().min(0) }).strict(),
  z.object({ to: z.literal("offset"), offset: z.number().int().min(0) }).strict(),
  z.object({ to: z.literal("shift"), shiftBy: z.number().int() }).strict(),
]);
/** The one ResetTarget type: the broker, the client, the API and the console all use this. */
export type ResetTarget = z.infer<typeof ZResetTarget>;

export const ZResetOffsetsRequest = z
  .object({
    to: ZResetTarget,
    topics: z
      .array(z.object({ topic: ZTopicName, partitions: z.array(z.number().int().min(0)).max(1000).optional() }).strict())
      .max(1000)
      .optional()
      .describe("omitted = every topic the group has committed offsets for"),
    dryRun: z.boolean().default(true),
  })
  .strict()
  .meta({ id: "ResetOffsetsRequest" });
export type TResetOffsetsRequest = z.infer<typeof ZResetOffsetsRequest>;

export const ZResetPlanEntry = z.object({
  topic: z.string(),
  partition: z.number().int(),
  currentOffset: z.number().int().nullable(),
  newOffset: z.number().int(),
  logStartOffset: z.number().int(),
  highWatermark: z.number().int(),
  /** Records consumed again (> 0) when moving back. */
  recordsToReread: z.number().int(),
  /** Records never consumed (> 0) when moving forward. */
  recordsToSkip: z.number().int(),
});
/** One partition of an offset reset's plan: the one type the broker, the API and the client use. */
export type ResetPlanEntry = z.infer<typeof ZResetPlanEntry>;

export const ZResetOffsetsResponse = z
  .object({ groupId: z.string(), dryRun: z.boolean(), plan: z.array(ZResetPlanEntry) })
  .meta({ id: "ResetOffsetsResponse" });
export type TResetOffsetsResponse = z.infer<typeof ZResetOffsetsResponse>;

/**
 * What a partition's lag counts from: its committed offset, or without one where a consumer would
 * start (auto.offset.reset): the log start offset ("earliest"; also when no member says) or the
 * high watermark ("latest": lag 0).
 */
export const ZLagBasis = z
  .enum(["committed", "earliest", "latest"])
  .describe(
    "committed: highWatermark - committedOffset; earliest / latest: no committed offset, lag estimated from the log start / high watermark",
  );
export type TLagBasis = z.infer<typeof ZLagBasis>;

export const ZGroupState = z.enum(["Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"]);

export const ZGroupSummary = z.object({
  groupId: z.string(),
  state: ZGroupState,
  members: z.number().int(),
  assignor: z.string().nullable(),
  totalLag: z.number().int().describe("over every partition, those without a committed offset included (see Group.offsets[].lagBasis)"),
  uncommittedPartitions: z.number().int().describe("partitions in totalLag without a committed offset: their lag is estimated"),
});
export const ZGroupList = z.object({ groups: z.array(ZGroupSummary) }).meta({ id: "GroupList" });
export type TGroupList = z.infer<typeof ZGroupList>;

export const ZGroupMember = z.object({
  memberId: z.string(),
  memberEpoch: z.number().int(),
  clientId: z.string(),
  host: z.string(),
  subscribedTopicNames: z.array(z.string()).nullable(),
  subscribedTopicRegex: z.string().nullable(),
  subscribedTopics: z.array(z.string()),
  assignment: z.array(ZTopicPartitions),
  pendingRevocation: z.array(ZTopicPartitions),
  targetAssignment: z.array(ZTopicPartitions),
  state: z.string(),
  lastHeartbeatMs: z.number().int(),
});

export const ZGroup = z
  .object({
    groupId: z.string(),
    state: ZGroupState,
    groupEpoch: z.number().int(),
    assignmentEpoch: z.number().int(),
    assignor: z.string().nullable(),
    members: z.array(ZGroupMember),
    offsets: z.array(
      z.object({
        topic: z.string(),
        partition: z.number().int(),
        committedOffset: z.number().int().nullable(),
        metadata: z.string().nullable(),
        logStartOffset: z.number().int(),
        highWatermark: z.number().int(),
        lag: z.number().int(),
        lagBasis: ZLagBasis,
        owner: z.string().nullable(),
      }),
    ),
    totalLag: z.number().int(),
    lagHistory: z.array(z.object({ timestamp: z.number().int(), totalLag: z.number().int() })),
  })
  .meta({ id: "Group" });
export type TGroup = z.infer<typeof ZGroup>;

export const ZDeleteOffsetsQuery = z.object({ topic: ZTopicName }).strict();
