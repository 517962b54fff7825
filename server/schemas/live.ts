import { z } from "zod";
import { ZTopicName } from "./topic.ts";
import { ZRecord } from "./record.ts";
import { ZMetrics } from "./console.ts";
import { ZAssignorName, ZGroupId, ZTopicPartitions } from "./group.ts";
import { zSafeString } from "./common.ts";
import { ZClientId, ZCommitMetadata, ZTopicPattern } from "./ids.ts";
import { MAX_CEL_LENGTH } from "./console.ts";
import { ZSubscribeTopologyMessage, ZTopologySnapshot } from "./topology.ts";
import { ZPipelineMetrics, ZPipelineName, ZPipelineStateChange } from "./pipeline.ts";

/** Where a live-tail subscription starts, per partition. */
export const ZStartPosition = z.union([
  z.enum(["latest", "earliest"]),
  z.object({ offset: z.number().int().min(0) }).strict(),
  z.object({ timestamp: z.number().int().min(0) }).strict(),
]);

/** Longest text filter of a live tail (the same bound as message search's). */
export const MAX_LIVE_FILTER_TEXT = 1000;

/**
 * Which records a live-tail subscription delivers: the text and CEL filters of message search,
 * evaluated on the server (a filtered tail of a busy topic sends only matches). Text filters
 * match case-insensitively; all given filters must match.
 */
export const ZLiveFilter = z
  .object({
    keyContains: z.string().max(MAX_LIVE_FILTER_TEXT).optional(),
    valueContains: z.string().max(MAX_LIVE_FILTER_TEXT).optional(),
    headerContains: z.string().max(MAX_LIVE_FILTER_TEXT).optional(),
    cel: z.string().max(MAX_CEL_LENGTH, `cel must be at most ${MAX_CEL_LENGTH} characters`).optional(),
  })
  .strict();
export type TLiveFilter = z.infer<typeof ZLiveFilter>;

/**
 * Subscriptions of every kind one socket may hold at once, counted together: live tail
 * (`subscribe`), metrics (`subscribe-metrics`), topology (`subscribe-topology`), pipelines
 * (`subscribe-pipeline-metrics`, `subscribe-pipeline-states`) and group memberships (`join-group`).
 */
export const MAX_SUBSCRIPTIONS_PER_SOCKET = 32;
/** Group memberships (join-group) one socket may hold at once; they also count toward MAX_SUBSCRIPTIONS_PER_SOCKET. */
export const MAX_GROUP_MEMBERSHIPS_PER_SOCKET = 8;

/** A subscription or membership id: the client's name for it, echoed in every frame about it. */
const ZLiveId = zSafeString("id", { min: 1, max: 64 });

/**
 * Join a consumer group as a member whose heartbeats the server sends on the socket's behalf
 * (KIP-848, server-side assignor). The id names the membership in every later frame; it shares
 * one namespace with live-tail subscription ids on the socket.
 */
export const ZJoinGroupMessage = z
  .object({
    type: z.literal("join-group"),
    id: ZLiveId,
    group: ZGroupId,
    topics: z.array(ZTopicName).min(1).max(1000).optional(),
    topicPattern: ZTopicPattern.optional(),
    clientId: ZClientId.optional(),
    assignor: ZAssignorName.optional(),
    rebalanceTimeoutMs: z.number().int().min(1).max(3_600_000).optional(),
    autoOffsetReset: z.enum(["earliest", "latest", "none"]).default("latest"),
    isolationLevel: z.enum(["read_uncommitted", "read_committed"]).default("read_uncommitted"),
    /**
     * true: the server commits what it has delivered (handed to the socket) every heartbeat, before
     * giving up revoked partitions, on leave-group and on close — at-most-once for records still in
     * flight when a connection drops. false: only the client's `commit` frames commit.
     */
    autoCommit: z.boolean().default(true),
  })
  .strict()
  .refine((m) => (m.topics === undefined) !== (m.topicPattern === undefined), "give exactly one of topics or topicPattern");

export const ZCommitOffset = z
  .object({
    topic: ZTopicName,
    partition: z.number().int().min(0),
    offset: z.number().int().min(0).describe("the next offset to consume"),
    metadata: ZCommitMetadata.nullable().optional(),
  })
  .strict();

export const ZLiveClientMessage = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("subscribe"),
      id: ZLiveId,
      topic: ZTopicName,
      partitions: z.array(z.number().int().min(0)).max(1000).optional(),
      from: ZStartPosition.default("latest"),
      filter: ZLiveFilter.optional(),
    })
    .strict(),
  z.object({ type: z.literal("unsubscribe"), id: ZLiveId }).strict(),
  /** The console overview's metrics, pushed once a second until unsubscribed. */
  z.object({ type: z.literal("subscribe-metrics"), id: ZLiveId }).strict(),
  /** The live topology (producers, topics, groups, pipelines), pushed once a second until unsubscribed. */
  ZSubscribeTopologyMessage,
  /** One pipeline's metrics (as GET /api/v1/pipelines/{name}/metrics), pushed once a second until unsubscribed. */
  z.object({ type: z.literal("subscribe-pipeline-metrics"), id: ZLiveId, pipeline: ZPipelineName }).strict(),
  /** Every pipeline's state, version and error (`pipeline-states`), then each change (`pipeline-state`), until unsubscribed. */
  z.object({ type: z.literal("subscribe-pipeline-states"), id: ZLiveId }).strict(),
  z.object({ type: z.literal("ping") }).strict(),
  ZJoinGroupMessage,
  /** Commits offsets for a membership; without offsets, the next offset after what was delivered, per partition. */
  z.object({ type: z.literal("commit"), id: ZLiveId, offsets: z.array(ZCommitOffset).max(10_000).optional() }).strict(),
  z.object({ type: z.literal("leave-group"), id: ZLiveId }).strict(),
]);
export type TLiveClientMessage = z.infer<typeof ZLiveClientMessage>;
export type TGroupClientMessage = Extract<TLiveClientMessage, { type: "join-group" | "commit" | "leave-group" }>;
export const GROUP_MESSAGE_TYPES: ReadonlySet<string> = new Set(["join-group", "commit", "leave-group"]);

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
  /**
   * A filtered subscription's counts since it started, at most once a second while they change:
   * records the filter looked at, the matches sent, records the CEL expression failed on (counted
   * as no match) and the first such failure; `throttled` while the subscription waits because its
   * socket spent its filtering time for the current second.
   */
  z.object({
    type: z.literal("filter-stats"),
    id: z.string(),
    scanned: z.number().int(),
    matched: z.number().int(),
    celErrors: z.number().int(),
    firstCelError: z.string().nullable(),
    throttled: z.boolean(),
  }),
  z.object({ type: z.literal("unsubscribed"), id: z.string() }),
  z.object({ type: z.literal("pong") }),
  z.object({ type: z.literal("metrics"), id: z.string(), metrics: ZMetrics }),
  z.object({ type: z.literal("topology"), id: z.string(), topology: ZTopologySnapshot }),
  z.object({ type: z.literal("pipeline-metrics"), id: z.string(), metrics: ZPipelineMetrics }),
  /**
   * Every pipeline's state: first after subscribe-pipeline-states, and again whole after the
   * socket was too slow to take a change as it happened.
   */
  z.object({ type: z.literal("pipeline-states"), id: z.string(), pipelines: z.array(ZPipelineStateChange) }),
  /** One pipeline's state, version or error changed (state null: deleted). */
  z.object({ type: z.literal("pipeline-state"), id: z.string(), pipeline: ZPipelineStateChange }),
  z.object({ type: z.literal("group-joined"), id: z.string(), group: z.string(), memberId: z.string(), memberEpoch: z.number().int() }),
  /**
   * The partitions the membership now receives records for. `revoked`: taken away by this change;
   * nothing more is delivered for them on this socket.
   */
  z.object({
    type: z.literal("assignment"),
    id: z.string(),
    memberEpoch: z.number().int(),
    assignment: z.array(ZTopicPartitions),
    revoked: z.array(ZTopicPartitions),
  }),
  z.object({
    type: z.literal("committed"),
    id: z.string(),
    offsets: z.array(z.object({ topic: z.string(), partition: z.number().int(), offset: z.number().int() })),
  }),
  /** The membership ended: after leave-group ("left"), or ended by the server (e.g. "fenced"). */
  z.object({ type: z.literal("group-left"), id: z.string(), reason: z.string() }),
  z.object({
    type: z.literal("error"),
    id: z.string().optional(),
    error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }),
  }),
]);
export type TLiveServerMessage = z.infer<typeof ZLiveServerMessage>;
