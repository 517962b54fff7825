/**
 * The live topology (issue #17): what the broker knows of who writes where and who reads what,
 * the rebalance timeline of a consumer group, and the simulated clients a user drops onto the
 * canvas. One contract for the REST API (`GET /api/v1/topology`, `GET /api/v1/groups/{group}/timeline`,
 * `/api/v1/simulations/...`), the WebSocket (`subscribe-topology` → `topology` frames once a
 * second) and the console's canvas.
 */
import { z } from "zod";
import { ZTopicName } from "./topic.ts";
import { ZClientId, ZGroupId } from "./ids.ts";
import { ZGroupState, ZTopicPartitions } from "./group.ts";
import { zSafeString } from "./common.ts";
import { TIMELINE_EVENTS_PER_GROUP } from "./limits.ts";

// ---- limits -------------------------------------------------------------------------------

/** What one topology snapshot holds at most; past a cap the rest is left out and `truncated` says so. */
export const TOPOLOGY_LIMITS = {
  producers: 200,
  /** Topics in the snapshot (busiest first, then by name). */
  topics: 200,
  /** Partitions listed per topic; a topic with more lists the first ones (`partitionsTruncated`). */
  partitionsPerTopic: 256,
  /** Partitions listed over all topics together. */
  partitions: 4096,
  groups: 100,
  membersPerGroup: 64,
  /** Lag entries per group (one per partition the group reads). */
  lagPerGroup: 512,
  pipelines: 100,
  /** A producer is shown while it produced within this long. */
  recentProducerMs: 30_000,
} as const;

/** The rebalance timeline keeps this many events per group (older ones are trimmed). */
export { TIMELINE_EVENTS_PER_GROUP };

/** What simulations may do: counts and rates past these are refused with a 400 naming the field. */
export const SIMULATION_LIMITS = {
  producers: 16,
  groups: 16,
  /** Records per second of one simulated producer. */
  ratePerSec: 5000,
  /** Records per second of all simulated producers together. */
  totalRatePerSec: 20_000,
  membersPerGroup: 16,
  /** Members of all simulated groups together. */
  members: 64,
  topicsPerGroup: 8,
  /** Simulated processing time per record. */
  processingMsPerRecord: 10_000,
  keys: 100_000,
  hotKeys: 16,
  /** Bytes of a JSON value template (as JSON text). */
  templateBytes: 4096,
  celLength: 2048,
} as const;

// ---- topology snapshot ------------------------------------------------------------------

const ZRatePerSec = z.number().min(0).describe("records per second, averaged over the snapshot's windowSeconds");

export const ZTopologyProducer = z
  .object({
    id: z.string().describe("stable key of this producer in snapshots: producer id and client id"),
    clientId: z.string().nullable().describe("the client id it sent with its produce requests (null: none given)"),
    producerId: z.number().int().nullable().describe("KIP-98 producer id; null for a producer that is not idempotent"),
    producerEpoch: z.number().int().nullable(),
    transactionalId: z.string().nullable(),
    idempotent: z.boolean(),
    transactional: z.boolean(),
    simulated: z.boolean(),
    /** The simulation (POST /api/v1/simulations/producers) this producer is, if any. */
    simulationId: z.string().nullable(),
    recordsPerSec: ZRatePerSec,
    lastProducedAt: z.number().int().describe("epoch ms of its last append"),
    topics: z.array(
      z.object({
        topic: z.string(),
        recordsPerSec: ZRatePerSec,
        /** Partitions it wrote to within the window. */
        partitions: z.array(z.number().int()),
      }),
    ),
  })
  .meta({ id: "TopologyProducer" });
export type TTopologyProducer = z.infer<typeof ZTopologyProducer>;

export const ZTopologyPartition = z.object({
  partition: z.number().int(),
  logStartOffset: z.number().int(),
  highWatermark: z.number().int(),
  recordsPerSec: ZRatePerSec.describe("appended records per second"),
});
export type TTopologyPartition = z.infer<typeof ZTopologyPartition>;

export const ZTopologyTopic = z
  .object({
    name: z.string(),
    partitionCount: z.number().int(),
    /** Appended records per second (all partitions). */
    recordsPerSec: ZRatePerSec,
    /** Records handed to readers per second (fetches, group polls, live tails). */
    readRecordsPerSec: ZRatePerSec,
    /** A topic a pipeline keeps for itself (changelog, repartition): `pipeline-<name>-…`. */
    internal: z.boolean(),
    /** Created by a simulation or a scenario (deleted with it). */
    simulated: z.boolean(),
    partitions: z.array(ZTopologyPartition),
    partitionsTruncated: z.boolean(),
  })
  .meta({ id: "TopologyTopic" });
export type TTopologyTopic = z.infer<typeof ZTopologyTopic>;

export const ZTopologyMember = z.object({
  memberId: z.string(),
  clientId: z.string(),
  memberEpoch: z.number().int(),
  /** KIP-848 reconciliation: Stable, UnrevokedPartitions, UnreleasedPartitions, Reconciling. */
  state: z.string(),
  simulated: z.boolean(),
  /** Owned now (the partitions it reads). */
  assignment: z.array(ZTopicPartitions),
  /** Still owned, being given up. */
  pendingRevocation: z.array(ZTopicPartitions),
});
export type TTopologyMember = z.infer<typeof ZTopologyMember>;

export const ZTopologyLag = z.object({
  topic: z.string(),
  partition: z.number().int(),
  committedOffset: z.number().int().nullable(),
  highWatermark: z.number().int(),
  lag: z.number().int(),
  owner: z.string().nullable().describe("member id owning the partition now"),
});
export type TTopologyLag = z.infer<typeof ZTopologyLag>;

export const ZTopologyGroup = z
  .object({
    groupId: z.string(),
    state: ZGroupState,
    groupEpoch: z.number().int(),
    assignor: z.string().nullable(),
    /** Topics its members subscribe to (or it has committed offsets for). */
    topics: z.array(z.string()),
    simulated: z.boolean(),
    simulationId: z.string().nullable(),
    /** The pipeline this group runs (`pipeline-<name>`), if any. */
    pipeline: z.string().nullable(),
    totalLag: z.number().int(),
    /** Committed records per second (how fast the group's committed offsets move). */
    committedPerSec: ZRatePerSec,
    members: z.array(ZTopologyMember),
    membersTruncated: z.boolean(),
    lag: z.array(ZTopologyLag),
    lagTruncated: z.boolean(),
  })
  .meta({ id: "TopologyGroup" });
export type TTopologyGroup = z.infer<typeof ZTopologyGroup>;

export const ZTopologyPipeline = z
  .object({
    name: z.string(),
    state: z.enum(["draft", "validated", "running", "paused", "stopped", "failed"]),
    version: z.number().int().nullable(),
    /** The consumer group it runs as. */
    group: z.string(),
    inputTopics: z.array(z.string()),
    outputTopics: z.array(z.string()),
    nodes: z.array(z.object({ id: z.string(), kind: z.string() })),
    edges: z.array(z.object({ from: z.string(), to: z.string() })).describe("node id → node id"),
  })
  .meta({ id: "TopologyPipeline" });
export type TTopologyPipeline = z.infer<typeof ZTopologyPipeline>;

export const ZTopologySnapshot = z
  .object({
    at: z.number().int(),
    windowSeconds: z.number().int().describe("rates are averaged over this many complete seconds"),
    producers: z.array(ZTopologyProducer),
    topics: z.array(ZTopologyTopic),
    groups: z.array(ZTopologyGroup),
    pipelines: z.array(ZTopologyPipeline),
    /** How many exist in all (the arrays may hold fewer, see truncated). */
    totals: z.object({
      producers: z.number().int(),
      topics: z.number().int(),
      partitions: z.number().int(),
      groups: z.number().int(),
      pipelines: z.number().int(),
    }),
    /** Which lists were cut at their cap (TOPOLOGY_LIMITS). */
    truncated: z.object({
      producers: z.boolean(),
      topics: z.boolean(),
      partitions: z.boolean(),
      groups: z.boolean(),
      pipelines: z.boolean(),
    }),
  })
  .meta({ id: "TopologySnapshot" });
export type TTopologySnapshot = z.infer<typeof ZTopologySnapshot>;

// ---- rebalance timeline -----------------------------------------------------------------

export const ZTimelineEventType = z.enum([
  /** A member joined (epoch-0 heartbeat). */
  "member-joined",
  /** A member left on its own. */
  "member-left",
  /** A member joined again with its id after losing its state: the old incarnation is removed. */
  "member-rejoined",
  /** The coordinator removed a member that stopped heartbeating. */
  "session-timeout",
  /** The coordinator removed a member that kept revoked partitions past its rebalance timeout. */
  "rebalance-timeout",
  /** A heartbeat with a stale member epoch was refused (FENCED_MEMBER_EPOCH): the member must rejoin. */
  "fenced",
  /** The group epoch moved; a new target assignment was computed at it. */
  "epoch-bumped",
  /** What a member owns or is asked to give up changed. */
  "assignment-changed",
]);
export type TTimelineEventType = z.infer<typeof ZTimelineEventType>;

export const ZTimelineEvent = z
  .object({
    seq: z.number().int().describe("increasing per server; orders events of one group"),
    at: z.number().int().describe("epoch ms"),
    type: ZTimelineEventType,
    groupEpoch: z.number().int().describe("the group epoch after the change"),
    memberId: z.string().nullable(),
    clientId: z.string().nullable(),
    memberEpoch: z.number().int().nullable(),
    /** assignment-changed: what the member owns and may read now. */
    assignment: z.array(ZTopicPartitions).nullable(),
    /** assignment-changed: still owned, being given up. */
    pendingRevocation: z.array(ZTopicPartitions).nullable(),
  })
  .meta({ id: "TimelineEvent" });
export type TTimelineEvent = z.infer<typeof ZTimelineEvent>;

/** A stretch of time during which a partition the group reads had no owner while the group had members. */
export const ZUnownedGap = z.object({
  topic: z.string(),
  partition: z.number().int(),
  from: z.number().int(),
  /** null: still without an owner. */
  to: z.number().int().nullable(),
  ms: z.number().int(),
});
export type TUnownedGap = z.infer<typeof ZUnownedGap>;

export const ZTimelineEpoch = z.object({
  groupEpoch: z.number().int(),
  from: z.number().int().describe("when the group reached this epoch"),
  /** When the next epoch began; null for the current one. */
  to: z.number().int().nullable(),
  /** Members at the end of the epoch and what each owned then (pending revocations included). */
  members: z.array(z.object({ memberId: z.string(), clientId: z.string(), owned: z.array(ZTopicPartitions) })),
  /** Per partition without an owner for some of the epoch: how long, in ms. */
  unowned: z.array(z.object({ topic: z.string(), partition: z.number().int(), ms: z.number().int() })),
});
export type TTimelineEpoch = z.infer<typeof ZTimelineEpoch>;

export const ZGroupTimeline = z
  .object({
    groupId: z.string(),
    events: z.array(ZTimelineEvent),
    /** Older events were trimmed (TIMELINE_EVENTS_PER_GROUP): ownership before the first event is unknown. */
    truncated: z.boolean(),
    limit: z.number().int(),
    epochs: z.array(ZTimelineEpoch),
    gaps: z.array(ZUnownedGap),
  })
  .meta({ id: "GroupTimeline" });
export type TGroupTimeline = z.infer<typeof ZGroupTimeline>;

// ---- simulations -------------------------------------------------------------------------

export const ZSimulationId = z
  .string()
  .min(1, "simulation id must not be empty")
  .max(64, "simulation id must be at most 64 characters")
  .regex(/^[a-z0-9-]+$/, "simulation id holds only lowercase letters, digits and '-'");

/** How a simulated producer picks keys. */
export const ZKeyDistribution = z
  .discriminatedUnion("type", [
    /** No key: records spread by the sticky partitioner. */
    z.object({ type: z.literal("none") }).strict(),
    /** Keys key-0 … key-(count-1), each equally likely. */
    z
      .object({
        type: z.literal("uniform"),
        count: z
          .number()
          .int()
          .min(1, "keys.count must be at least 1")
          .max(SIMULATION_LIMITS.keys, `keys.count must be at most ${SIMULATION_LIMITS.keys}`),
      })
      .strict(),
    /** `hot` keys (key-0 …) take `hotShare` of the records; the rest spread over all `count` keys. */
    z
      .object({
        type: z.literal("hot"),
        count: z
          .number()
          .int()
          .min(1, "keys.count must be at least 1")
          .max(SIMULATION_LIMITS.keys, `keys.count must be at most ${SIMULATION_LIMITS.keys}`),
        hot: z
          .number()
          .int()
          .min(1, "keys.hot must be at least 1")
          .max(SIMULATION_LIMITS.hotKeys, `keys.hot must be at most ${SIMULATION_LIMITS.hotKeys}`),
        hotShare: z.number().min(0, "keys.hotShare must be between 0 and 1").max(1, "keys.hotShare must be between 0 and 1").default(0.8),
      })
      .strict()
      .refine((k) => k.hot <= k.count, { message: "keys.hot must be at most keys.count", path: ["hot"] }),
  ])
  .describe("how keys are chosen; default uniform over 100 keys");
export type TKeyDistribution = z.infer<typeof ZKeyDistribution>;

/**
 * The value of each record. `cel`: a CEL expression over `seq` (int, 0, 1, …), `key` (string or
 * null), `now` (int, epoch ms) and `random` (double in [0, 1)), e.g. `{"order": key, "amount": seq % 100}`.
 * `json`: a JSON value in which the strings "{{seq}}", "{{key}}", "{{now}}" and "{{random}}" are
 * replaced (a whole string becomes the number; inside a longer string, its text).
 */
export const ZValueTemplate = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("cel"),
      expression: zSafeString("value.expression", { min: 1, max: SIMULATION_LIMITS.celLength, text: true }),
    })
    .strict(),
  z
    .object({
      type: z.literal("json"),
      template: z
        .unknown()
        .refine((v) => v !== undefined, "value.template is required")
        .refine(
          (v) => JSON.stringify(v ?? null).length <= SIMULATION_LIMITS.templateBytes,
          `value.template must be at most ${SIMULATION_LIMITS.templateBytes} bytes as JSON`,
        ),
    })
    .strict(),
]);
export type TValueTemplate = z.infer<typeof ZValueTemplate>;

export const ZCreateSimulatedProducerRequest = z
  .object({
    topic: ZTopicName,
    ratePerSec: z
      .number()
      .min(0.1, "ratePerSec must be at least 0.1")
      .max(SIMULATION_LIMITS.ratePerSec, `ratePerSec must be at most ${SIMULATION_LIMITS.ratePerSec}`),
    keys: ZKeyDistribution.default({ type: "uniform", count: 100 }),
    value: ZValueTemplate.default({ type: "json", template: { seq: "{{seq}}", key: "{{key}}", at: "{{now}}" } }),
    clientId: ZClientId.optional().describe("default sim-producer-<id>"),
    idempotent: z.boolean().default(true),
    /** Start paused (resume with PATCH). */
    paused: z.boolean().default(false),
  })
  .strict()
  .meta({ id: "CreateSimulatedProducerRequest" });
export type TCreateSimulatedProducerRequest = z.input<typeof ZCreateSimulatedProducerRequest>;
/** The request with its defaults applied. */
export type TSimulatedProducerConfig = z.output<typeof ZCreateSimulatedProducerRequest>;

export const ZUpdateSimulatedProducerRequest = z
  .object({
    ratePerSec: ZCreateSimulatedProducerRequest.shape.ratePerSec.optional(),
    paused: z.boolean().optional(),
  })
  .strict()
  .meta({ id: "UpdateSimulatedProducerRequest" });

export const ZSimulationState = z.enum(["running", "paused", "failed", "stopped"]);

export const ZSimulatedProducer = z
  .object({
    id: z.string(),
    clientId: z.string(),
    topic: z.string(),
    ratePerSec: z.number(),
    keys: ZKeyDistribution,
    value: ZValueTemplate,
    idempotent: z.boolean(),
    state: ZSimulationState,
    producerId: z.number().int().nullable(),
    /** Records acknowledged by the broker. */
    produced: z.number().int(),
    /** Failed sends (the producer keeps going). */
    errors: z.number().int(),
    lastError: z.string().nullable(),
    createdAt: z.number().int(),
  })
  .meta({ id: "SimulatedProducer" });
export type TSimulatedProducer = z.infer<typeof ZSimulatedProducer>;

/** When a simulated member commits what it processed. */
export const ZCommitMode = z
  .enum(["auto", "per-batch", "none"])
  .describe("auto: every second (the consumer's auto-commit); per-batch: after each processed batch; none: never");

export const ZCreateSimulatedGroupRequest = z
  .object({
    groupId: ZGroupId,
    topics: z
      .array(ZTopicName)
      .min(1, "topics must name at least one topic")
      .max(SIMULATION_LIMITS.topicsPerGroup, `topics must name at most ${SIMULATION_LIMITS.topicsPerGroup} topics`),
    members: z
      .number()
      .int()
      .min(1, "members must be at least 1")
      .max(SIMULATION_LIMITS.membersPerGroup, `members must be at most ${SIMULATION_LIMITS.membersPerGroup}`),
    processingMsPerRecord: z
      .number()
      .min(0, "processingMsPerRecord must be at least 0")
      .max(SIMULATION_LIMITS.processingMsPerRecord, `processingMsPerRecord must be at most ${SIMULATION_LIMITS.processingMsPerRecord}`)
      .default(0),
    commitMode: ZCommitMode.default("auto"),
    autoOffsetReset: z.enum(["earliest", "latest"]).default("earliest"),
    assignor: z.enum(["uniform", "range", "sticky", "roundrobin"]).optional(),
  })
  .strict()
  .meta({ id: "CreateSimulatedGroupRequest" });
export type TCreateSimulatedGroupRequest = z.input<typeof ZCreateSimulatedGroupRequest>;
/** The request with its defaults applied. */
export type TSimulatedGroupConfig = z.output<typeof ZCreateSimulatedGroupRequest>;

/**
 * start: a paused member reads again; a stopped or killed one joins again (a new member id).
 * pause: stops reading but keeps heartbeating (its partitions stay with it and their lag grows).
 * kill: stops heartbeating without leaving, as a crashed process does, so the broker removes it
 * after the session timeout. restart: kill, then at once a fresh member in its place.
 * stop: leaves the group cleanly (commits first, per the commit mode).
 */
export const ZMemberAction = z.enum(["start", "pause", "kill", "restart", "stop"]);
export type TMemberAction = z.infer<typeof ZMemberAction>;

/** A member's index in its simulated group, as a path segment. */
export const ZMemberIndex = z
  .string()
  .regex(/^\d{1,2}$/, "member must be the member's index (0, 1, …)")
  .transform(Number);

export const ZSimulatedMemberActionRequest = z.object({ action: ZMemberAction }).strict().meta({ id: "SimulatedMemberActionRequest" });

/** Adds members to a simulated group (each one a new consumer). */
export const ZAddSimulatedMembersRequest = z
  .object({
    count: z
      .number()
      .int()
      .min(1, "count must be at least 1")
      .max(SIMULATION_LIMITS.membersPerGroup, `count must be at most ${SIMULATION_LIMITS.membersPerGroup}`)
      .default(1),
  })
  .strict()
  .meta({ id: "AddSimulatedMembersRequest" });

export const ZSimulatedMemberState = z.enum(["joining", "running", "paused", "killed", "stopped", "failed"]);

export const ZSimulatedMember = z.object({
  /** Stable within the simulation: 0, 1, … (a restarted member keeps its index, gets a new member id). */
  index: z.number().int(),
  clientId: z.string(),
  memberId: z.string().nullable(),
  memberEpoch: z.number().int(),
  state: ZSimulatedMemberState,
  /** What the member believes it owns. */
  assignment: z.array(ZTopicPartitions),
  processed: z.number().int(),
  lastError: z.string().nullable(),
});
export type TSimulatedMember = z.infer<typeof ZSimulatedMember>;

export const ZSimulatedGroup = z
  .object({
    id: z.string(),
    groupId: z.string(),
    topics: z.array(z.string()),
    processingMsPerRecord: z.number(),
    commitMode: ZCommitMode,
    autoOffsetReset: z.enum(["earliest", "latest"]),
    members: z.array(ZSimulatedMember),
    /** Records processed by all members since the simulation started (a record read twice counts twice). */
    processed: z.number().int(),
    /** Distinct records (partition and offset) processed: processed - distinct were read again (after a rebalance or a crash). */
    distinct: z.number().int(),
    /** Offsets never processed between the first and the last processed one of a partition (records lost). */
    skipped: z.number().int(),
    createdAt: z.number().int(),
  })
  .meta({ id: "SimulatedGroup" });
export type TSimulatedGroup = z.infer<typeof ZSimulatedGroup>;

export const ZSimulationList = z
  .object({
    producers: z.array(ZSimulatedProducer),
    groups: z.array(ZSimulatedGroup),
    limits: z.object({
      producers: z.number().int(),
      groups: z.number().int(),
      ratePerSec: z.number(),
      totalRatePerSec: z.number(),
      membersPerGroup: z.number().int(),
      members: z.number().int(),
    }),
  })
  .meta({ id: "SimulationList" });
export type TSimulationList = z.infer<typeof ZSimulationList>;

// ---- WebSocket ---------------------------------------------------------------------------

/** Client → server: the topology, pushed once a second until `unsubscribe` with the same id. */
export const ZSubscribeTopologyMessage = z
  .object({
    type: z.literal("subscribe-topology"),
    id: zSafeString("id", { min: 1, max: 64 }),
  })
  .strict();
/* Server → client: `{ type: "topology", id, topology: TopologySnapshot }` (in ZLiveServerMessage). */

// ---- scenarios ----------------------------------------------------------------------------

/** The one-click teaching scenarios built so far (issue #17, item 4). */
export const SCENARIO_IDS = [
  "partitions-parallelism",
  "consumer-groups-failover",
  "retention-replay",
  "ordering",
  "exactly-once-payments",
  "stream-processing-fraud",
] as const;
export const ZScenarioId = z.enum(SCENARIO_IDS, { error: `scenario must be one of ${SCENARIO_IDS.join(", ")}` });
export type TScenarioId = z.infer<typeof ZScenarioId>;

export const ZScenarioState = z.enum(["idle", "running", "done", "failed"]);

export const ZScenario = z
  .object({
    id: ZScenarioId,
    title: z.string(),
    /** What it shows, for the panel beside the canvas. */
    explanation: z.string(),
    state: ZScenarioState,
    startedAt: z.number().int().nullable(),
    finishedAt: z.number().int().nullable(),
    /** What happened so far, in order (each step as the broker showed it). */
    steps: z.array(z.object({ at: z.number().int(), text: z.string() })),
    /** The result, measured from the broker once the scenario finished (null before). */
    outcome: z
      .object({
        /** Whether the stated outcome was reached. */
        reached: z.boolean(),
        summary: z.string(),
        measures: z.record(z.string(), z.union([z.number(), z.string(), z.array(z.number())])),
      })
      .nullable(),
    error: z.string().nullable(),
    /** What it created (and deletes on reset): it never touches anything else. */
    topics: z.array(z.string()),
    groups: z.array(z.string()),
    simulations: z.array(z.string()),
  })
  .meta({ id: "Scenario" });
export type TScenario = z.infer<typeof ZScenario>;

export const ZScenarioList = z.object({ scenarios: z.array(ZScenario) }).meta({ id: "ScenarioList" });
export type TScenarioList = z.infer<typeof ZScenarioList>;
