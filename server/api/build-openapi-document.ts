/**
 * The OpenAPI 3.1 document, generated from the same zod schemas the handlers validate with.
 */
import { z } from "zod";
import { ZErrorBody } from "../schemas/common.ts";
import { ZMetrics, ZSearchEvent, ZSearchRequest } from "../schemas/console.ts";
import {
  ZEndTransactionRequest,
  ZInitProducerRequest,
  ZInitProducerResponse,
  ZListProducersResponse,
  ZListTransactionsResponse,
  ZTransaction,
  ZTransactionOffsetsRequest,
} from "../schemas/producer.ts";
import { ZLiveClientMessage, ZLiveServerMessage } from "../schemas/live.ts";
import {
  ZBatchProduceResponse,
  ZDeleteRecordsRequest,
  ZDeleteRecordsResponse,
  ZFetchResponse,
  ZListOffsetsResponse,
  ZProduceRequest,
  ZProduceResponse,
} from "../schemas/record.ts";
import {
  ZCommitRequest,
  ZCommitResponse,
  ZGroup,
  ZGroupList,
  ZHeartbeatRequest,
  ZHeartbeatResponse,
  ZJoinGroupRequest,
  ZPollResponse,
  ZResetOffsetsRequest,
  ZResetOffsetsResponse,
} from "../schemas/group.ts";
import {
  ZDeployRequest,
  ZPipelineDefinition,
  ZPipelineDetail,
  ZPipelineDraft,
  ZPipelineList,
  ZPipelineMetrics,
  ZPipelineVersions,
  ZPreviewRequest,
  ZPreviewResponse,
  ZValidateResponse,
} from "../schemas/pipeline.ts";
import { ZPipelineDiff } from "../schemas/pipeline-diff.ts";
import { PIPELINE_TEST_LIMITS, ZPipelineTestReport, ZPipelineTestRequest } from "../schemas/pipeline-tests.ts";
import {
  ZAddSimulatedMembersRequest,
  ZCreateSimulatedGroupRequest,
  ZCreateSimulatedProducerRequest,
  ZGroupTimeline,
  ZScenario,
  ZScenarioId,
  ZScenarioList,
  ZSimulatedGroup,
  ZSimulatedMemberActionRequest,
  ZSimulatedProducer,
  ZSimulationList,
  ZTopologySnapshot,
  ZUpdateSimulatedProducerRequest,
} from "../schemas/topology.ts";
import { ZAddPartitionsRequest, ZCreateTopicRequest, ZTopic, ZTopicList, ZUpdateTopicRequest } from "../schemas/topic.ts";

import { MAX_FETCH_BYTES, MAX_FETCH_RECORDS, MAX_PARTITIONS, MAX_WAIT_MS, RECORD_BATCH_CONTENT_TYPE } from "../schemas/limits.ts";

type Json = Record<string, unknown>;

function schema(s: z.ZodType, io: "input" | "output"): Json {
  const out = z.toJSONSchema(s, { io, unrepresentable: "any", target: "draft-2020-12" }) as Json;
  delete out.$schema;
  return out;
}

/**
 * zod names each schema with an id (`.meta({id})`) and writes the named ones, the component's own
 * included, under its `$defs` with `#/$defs/…` references, which an OpenAPI document resolves
 * from its root, where there is no `$defs`. Moves every such definition to
 * `components/schemas` (anonymous recursive ones, `__schemaN`, prefixed with their component's
 * name) and points the references there.
 */
function hoistDefinitions(schemas: Record<string, Json>): Record<string, Json> {
  const out: Record<string, Json> = {};
  const put = (name: string, def: Json) => {
    const known = out[name];
    if (known && JSON.stringify(known) !== JSON.stringify(def)) throw new Error(`OpenAPI: two different schemas are named ${name}`);
    out[name] = def;
  };
  for (const [component, schema] of Object.entries(schemas)) {
    const { $defs, ...own } = schema as Json & { $defs?: Record<string, Json> };
    const target = (name: string) => (name.startsWith("__") ? component + name : name);
    const rewrite = (value: Json): Json =>
      JSON.parse(
        JSON.stringify(value).replace(/"#\/\$defs\/([^"]+)"/g, (_, name: string) => JSON.stringify(`#/components/schemas/${target(name)}`)),
      ) as Json;
    for (const [name, def] of Object.entries($defs ?? {})) put(target(name), rewrite(def));
    const self = own.$ref === `#/$defs/${component}` && Object.keys(own).length === 1;
    if (!self) put(component, rewrite(own));
  }
  return out;
}

const components: Record<string, Json> = hoistDefinitions({
  Error: schema(ZErrorBody, "output"),
  CreateTopicRequest: schema(ZCreateTopicRequest, "input"),
  UpdateTopicRequest: schema(ZUpdateTopicRequest, "input"),
  AddPartitionsRequest: schema(ZAddPartitionsRequest, "input"),
  Topic: schema(ZTopic, "output"),
  TopicList: schema(ZTopicList, "output"),
  ProduceRequest: schema(ZProduceRequest, "input"),
  ProduceResponse: schema(ZProduceResponse, "output"),
  BatchProduceResponse: schema(ZBatchProduceResponse, "output"),
  FetchResponse: schema(ZFetchResponse, "output"),
  ListOffsetsResponse: schema(ZListOffsetsResponse, "output"),
  DeleteRecordsRequest: schema(ZDeleteRecordsRequest, "input"),
  DeleteRecordsResponse: schema(ZDeleteRecordsResponse, "output"),
  GroupList: schema(ZGroupList, "output"),
  Group: schema(ZGroup, "output"),
  JoinGroupRequest: schema(ZJoinGroupRequest, "input"),
  HeartbeatRequest: schema(ZHeartbeatRequest, "input"),
  HeartbeatResponse: schema(ZHeartbeatResponse, "output"),
  PollResponse: schema(ZPollResponse, "output"),
  CommitRequest: schema(ZCommitRequest, "input"),
  CommitResponse: schema(ZCommitResponse, "output"),
  ResetOffsetsRequest: schema(ZResetOffsetsRequest, "input"),
  ResetOffsetsResponse: schema(ZResetOffsetsResponse, "output"),
  InitProducerRequest: schema(ZInitProducerRequest, "input"),
  InitProducerResponse: schema(ZInitProducerResponse, "output"),
  ListProducersResponse: schema(ZListProducersResponse, "output"),
  EndTransactionRequest: schema(ZEndTransactionRequest, "input"),
  TransactionOffsetsRequest: schema(ZTransactionOffsetsRequest, "input"),
  Transaction: schema(ZTransaction, "output"),
  ListTransactionsResponse: schema(ZListTransactionsResponse, "output"),
  SearchRequest: schema(ZSearchRequest, "input"),
  SearchEvent: schema(ZSearchEvent, "output"),
  Metrics: schema(ZMetrics, "output"),
  LiveClientMessage: schema(ZLiveClientMessage, "input"),
  LiveServerMessage: schema(ZLiveServerMessage, "output"),
  PipelineDefinition: schema(ZPipelineDefinition, "input"),
  PipelineDraft: schema(ZPipelineDraft, "input"),
  PipelineList: schema(ZPipelineList, "output"),
  PipelineDetail: schema(ZPipelineDetail, "output"),
  ValidatePipelineResponse: schema(ZValidateResponse, "output"),
  DeployRequest: schema(ZDeployRequest, "input"),
  PipelineVersions: schema(ZPipelineVersions, "output"),
  PipelineMetrics: schema(ZPipelineMetrics, "output"),
  PipelineDiff: schema(ZPipelineDiff, "output"),
  PreviewRequest: schema(ZPreviewRequest, "input"),
  PreviewResponse: schema(ZPreviewResponse, "output"),
  PipelineTestRequest: schema(ZPipelineTestRequest, "input"),
  PipelineTestReport: schema(ZPipelineTestReport, "output"),
  TopologySnapshot: schema(ZTopologySnapshot, "output"),
  GroupTimeline: schema(ZGroupTimeline, "output"),
  SimulationList: schema(ZSimulationList, "output"),
  CreateSimulatedProducerRequest: schema(ZCreateSimulatedProducerRequest, "input"),
  UpdateSimulatedProducerRequest: schema(ZUpdateSimulatedProducerRequest, "input"),
  SimulatedProducer: schema(ZSimulatedProducer, "output"),
  CreateSimulatedGroupRequest: schema(ZCreateSimulatedGroupRequest, "input"),
  AddSimulatedMembersRequest: schema(ZAddSimulatedMembersRequest, "input"),
  SimulatedMemberActionRequest: schema(ZSimulatedMemberActionRequest, "input"),
  SimulatedGroup: schema(ZSimulatedGroup, "output"),
  Scenario: schema(ZScenario, "output"),
  ScenarioList: schema(ZScenarioList, "output"),
});

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonBody = (name: string) => ({ required: true, content: { "application/json": { schema: ref(name) } } });
const ok = (name: string, description = "OK") => ({ description, content: { "application/json": { schema: ref(name) } } });
const errors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [String(c), { description: ERROR_TEXT[c], content: { "application/json": { schema: ref("Error") } } }]),
  );
const ERROR_TEXT: Record<number, string> = {
  400: "invalid input (VALIDATION_FAILED, INVALID_JSON, INVALID_CONFIG, INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS, CORRUPT_MESSAGE, ...)",
  404: "UNKNOWN_TOPIC_OR_PARTITION, GROUP_ID_NOT_FOUND, UNKNOWN_MEMBER_ID, TRANSACTIONAL_ID_NOT_FOUND, PIPELINE_NOT_FOUND, SIMULATION_NOT_FOUND",
  413: "MESSAGE_TOO_LARGE (record batch over max.message.bytes) or REQUEST_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE or UNSUPPORTED_COMPRESSION_TYPE",
  416: "OFFSET_OUT_OF_RANGE: details carry logStartOffset and highWatermark",
  409: "TOPIC_ALREADY_EXISTS, NON_EMPTY_GROUP, STALE_MEMBER_EPOCH, FENCED_MEMBER_EPOCH, ILLEGAL_GENERATION (partition not owned), NO_OFFSET_FOR_PARTITION, GROUP_SUBSCRIBED_TO_TOPIC; producers: OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH, PRODUCER_FENCED, INVALID_PRODUCER_ID_MAPPING, INVALID_TXN_STATE, TRANSACTION_ABORTED; pipelines: PIPELINE_ALREADY_EXISTS, INVALID_PIPELINE_STATE, PIPELINE_STATE_RESET_REQUIRED; simulations: SIMULATION_ALREADY_EXISTS, INVALID_SIMULATION_STATE",
  503: "retriable: CONCURRENT_TRANSACTIONS (the transaction is completing), BROKER_NOT_AVAILABLE",
};
const groupParam = { name: "group", in: "path", required: true, schema: { type: "string" } };
const memberParam = { name: "member", in: "path", required: true, schema: { type: "string" } };
const topicParam = { name: "topic", in: "path", required: true, schema: { type: "string" } };
const partitionParam = { name: "partition", in: "path", required: true, schema: { type: "integer", minimum: 0 } };
const pipelineParam = { name: "name", in: "path", required: true, schema: { type: "string" } };
const pipelineAction = (summary: string) => ({
  parameters: [pipelineParam],
  post: { summary, responses: { 200: ok("PipelineDetail"), ...errors(400, 404, 409) } },
});
const scenarioParam = {
  name: "id",
  in: "path",
  required: true,
  schema: { type: "string", enum: [...ZScenarioId.options] },
};
const simulationParam = { name: "id", in: "path", required: true, schema: { type: "string" } };
const txnParam = { name: "transactionalId", in: "path", required: true, schema: { type: "string" } };
const ISOLATION_TEXT =
  "read_uncommitted (default): up to the high watermark, aborted records included; read_committed: up to the last stable offset, aborted records and transaction markers skipped (continue from nextOffset)";
const q = (name: string, description: string, s: Json, required = false) => ({ name, in: "query", required, description, schema: s });

/** The reference's sidebar groups, in order, and the paths each holds. */
const TAGS: { name: string; description: string; paths: RegExp }[] = [
  {
    name: "Topics",
    description: "Create, describe, configure, grow and delete topics",
    paths: /^\/api\/v1\/topics(\/\{topic\}(\/partitions)?)?$/,
  },
  {
    name: "Records",
    description: "Produce, fetch, list offsets, search and delete records before an offset",
    paths: /^\/api\/v1\/topics\/\{topic\}\/(records|partitions\/\{partition\}\/records|offsets|search|delete-records)$/,
  },
  { name: "Consumer groups", description: "Membership (KIP-848), polls, commits, lag and offset resets", paths: /^\/api\/v1\/groups/ },
  {
    name: "Producers and transactions",
    description: "Idempotent and transactional producers (KIP-98, KIP-447)",
    paths: /^\/api\/v1\/(producers|transactions)/,
  },
  {
    name: "Pipelines",
    description: "Stream-processing pipelines: drafts, validation, deployed versions, lifecycle",
    paths: /^\/api\/v1\/pipelines/,
  },
  {
    name: "Topology",
    description: "The live topology (who writes where, who reads what) and simulated producers and consumer groups",
    paths: /^\/api\/v1\/(topology|simulations|scenarios)/,
  },
  { name: "Metrics", description: "The console's numbers and Prometheus", paths: /^(\/api\/v1)?\/metrics$/ },
  { name: "This API", description: "The OpenAPI document", paths: /^\/api\/v1\/openapi\.json$/ },
  // a path no group above holds (a test fails on it; the server must still describe it)
  { name: "Other", description: "Not grouped yet", paths: /./ },
];

/**
 * Summaries are written "title: details" (or "title; details"): the title is the operation's
 * summary (the reference's sidebar entry), the whole text its description. Each operation is
 * tagged with its group.
 */
function presentOperations<P extends Record<string, Record<string, unknown>>>(paths: P): P {
  for (const [path, item] of Object.entries(paths)) {
    const tag = TAGS.find((t) => t.paths.test(path))!.name;
    for (const method of ["get", "put", "post", "patch", "delete"]) {
      const op = item[method] as Json | undefined;
      if (!op) continue;
      const text = op.summary as string;
      const cut = text.search(/: |; /);
      op.tags = [tag];
      if (cut > 0) Object.assign(op, { summary: text.slice(0, cut), description: text });
    }
  }
  return paths;
}

export function buildOpenApiDocument(): Json {
  return {
    openapi: "3.1.0",
    tags: TAGS.map(({ name, description }) => ({ name, description })),
    info: {
      title: "Tributary API",
      version: "1",
      description:
        "Kafka-style event streaming on PostgreSQL. Errors are `{error:{code,message,details?}}`. " +
        "Record keys/values: JSON strings are UTF-8 text, other JSON values are stored as JSON text, binary data goes in keyBase64/valueBase64. " +
        `Binary fast path: Content-Type ${RECORD_BATCH_CONTENT_TYPE} (Kafka RecordBatch v2 bytes) on produce, and as Accept on fetch. ` +
        "Live tail: WebSocket at /ws with LiveClientMessage/LiveServerMessage frames (JSON).",
    },
    paths: presentOperations({
      "/api/v1/topics": {
        get: { summary: "List topics", responses: { 200: ok("TopicList") } },
        post: {
          summary: `Create a topic (1..${MAX_PARTITIONS} partitions)`,
          requestBody: jsonBody("CreateTopicRequest"),
          responses: { 201: ok("Topic", "Created"), ...errors(400, 409, 413, 415) },
        },
      },
      "/api/v1/topics/{topic}": {
        parameters: [topicParam],
        get: { summary: "Describe a topic", responses: { 200: ok("Topic"), ...errors(400, 404) } },
        patch: {
          summary: "Change topic configs (null resets to default)",
          requestBody: jsonBody("UpdateTopicRequest"),
          responses: { 200: ok("Topic"), ...errors(400, 404) },
        },
        delete: { summary: "Delete a topic and its records", responses: { 204: { description: "Deleted" }, ...errors(400, 404) } },
      },
      "/api/v1/topics/{topic}/partitions": {
        parameters: [topicParam],
        post: {
          summary: "Grow the topic to a new total partition count",
          requestBody: jsonBody("AddPartitionsRequest"),
          responses: { 200: ok("Topic"), ...errors(400, 404) },
        },
      },
      "/api/v1/topics/{topic}/records": {
        parameters: [
          topicParam,
          q("partition", `required with ${RECORD_BATCH_CONTENT_TYPE}`, { type: "integer", minimum: 0 }),
          q("clientId", "the producing client's name (Kafka's client.id), shown in the live topology", { type: "string", maxLength: 255 }),
        ],
        post: {
          summary: "Produce records; replies after they are committed",
          requestBody: {
            required: true,
            content: {
              "application/json": { schema: ref("ProduceRequest") },
              [RECORD_BATCH_CONTENT_TYPE]: { schema: { type: "string", format: "binary" } },
            },
          },
          responses: {
            200: {
              description: "Committed: each record's partition, offset and timestamp (JSON), or the offset range (record batches)",
              content: {
                "application/json": { schema: { oneOf: [ref("ProduceResponse"), ref("BatchProduceResponse")] } },
              },
            },
            ...errors(400, 404, 413, 415),
          },
        },
      },
      "/api/v1/topics/{topic}/partitions/{partition}/records": {
        parameters: [topicParam, partitionParam],
        get: {
          summary: "Fetch records from an offset (long-poll with waitMs)",
          parameters: [
            q("offset", "first offset wanted; must be within [logStartOffset, highWatermark]", { type: "integer", minimum: 0 }, true),
            q("maxRecords", `default 500, at most ${MAX_FETCH_RECORDS}`, { type: "integer", minimum: 1 }),
            q(
              "maxBytes",
              `default 1 MiB; at most ${MAX_FETCH_BYTES} for record batches, 4 MiB of keys and values for JSON (a fetch may return less than asked); at least one record is returned`,
              { type: "integer", minimum: 1 },
            ),
            q("waitMs", `wait up to this long for new records when at the high watermark (max ${MAX_WAIT_MS})`, {
              type: "integer",
              minimum: 0,
            }),
            q("encoding", "auto (UTF-8 text when valid, else base64) or base64", { enum: ["auto", "base64"] }),
            q("isolation", ISOLATION_TEXT, { enum: ["read_uncommitted", "read_committed"] }),
          ],
          responses: {
            200: {
              description: "Records",
              content: {
                "application/json": { schema: ref("FetchResponse") },
                [RECORD_BATCH_CONTENT_TYPE]: { schema: { type: "string", format: "binary" } },
              },
            },
            ...errors(400, 404, 416),
          },
        },
      },
      "/api/v1/topics/{topic}/offsets": {
        parameters: [topicParam],
        get: {
          summary: "List offsets per partition",
          parameters: [
            q("at", "earliest | latest | epoch milliseconds (first offset with timestamp >= at)", { type: "string" }),
            q("isolation", "latest under read_committed is the last stable offset", { enum: ["read_uncommitted", "read_committed"] }),
          ],
          responses: { 200: ok("ListOffsetsResponse"), ...errors(400, 404) },
        },
      },
      "/api/v1/topics/{topic}/delete-records": {
        parameters: [topicParam],
        post: {
          summary:
            "Delete every record before an offset, per partition (Kafka's DeleteRecords): the log start offset moves there; consumers behind it reset by their auto.offset.reset",
          requestBody: jsonBody("DeleteRecordsRequest"),
          responses: { 200: ok("DeleteRecordsResponse"), ...errors(400, 404, 413, 415, 416) },
        },
      },
      "/api/v1/topics/{topic}/search": {
        parameters: [topicParam],
        post: {
          summary:
            "Bounded message search with text and CEL filters; streams NDJSON SearchEvent lines (started, records, progress, done, error); stops when the client disconnects",
          requestBody: jsonBody("SearchRequest"),
          responses: {
            200: { description: "NDJSON stream", content: { "application/x-ndjson": { schema: ref("SearchEvent") } } },
            ...errors(400, 404),
          },
        },
      },
      "/api/v1/producers": {
        post: {
          summary:
            "Initialise an idempotent producer (KIP-98): stamp producerId, producerEpoch and per-partition baseSequence on record batches; retries return the original offsets, gaps are OUT_OF_ORDER_SEQUENCE_NUMBER, old epochs INVALID_PRODUCER_EPOCH. With transactionalId: a transactional producer; initialising the same id again bumps the epoch, fences the previous instance (PRODUCER_FENCED) and aborts its open transaction",
          requestBody: jsonBody("InitProducerRequest"),
          responses: { 201: ok("InitProducerResponse", "Created"), ...errors(400, 409, 503) },
        },
        get: {
          summary: "Producers with state per partition: id, epoch, last sequence, start of an open transaction",
          responses: { 200: ok("ListProducersResponse") },
        },
      },
      "/api/v1/transactions": {
        get: {
          summary: "List transactional ids: producer id/epoch, state, partitions, groups with pending offsets, age and timeout",
          parameters: [
            q(
              "state",
              "comma-separated states to list (Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort) or 'open'",
              { type: "string" },
            ),
          ],
          responses: { 200: ok("ListTransactionsResponse"), ...errors(400) },
        },
      },
      "/api/v1/transactions/{transactionalId}": {
        parameters: [txnParam],
        get: { summary: "One transactional id", responses: { 200: ok("Transaction"), ...errors(400, 404) } },
      },
      "/api/v1/transactions/{transactionalId}/offsets": {
        parameters: [txnParam],
        post: {
          summary:
            "sendOffsetsToTransaction (KIP-447): consumer-group offsets committed with the transaction, fenced by the member's id and epoch",
          requestBody: jsonBody("TransactionOffsetsRequest"),
          responses: { 200: { description: "Added" }, ...errors(400, 404, 409, 503) },
        },
      },
      "/api/v1/transactions/{transactionalId}/commit": {
        parameters: [txnParam],
        post: {
          summary:
            "Commit the transaction: a commit marker into every partition of the transaction, its group offsets committed; replies once all is written",
          requestBody: jsonBody("EndTransactionRequest"),
          responses: { 200: ok("Transaction"), ...errors(400, 404, 409, 503) },
        },
      },
      "/api/v1/transactions/{transactionalId}/abort": {
        parameters: [txnParam],
        post: {
          summary:
            "Abort the transaction: an abort marker into every partition of the transaction; read_committed readers never see its records",
          requestBody: jsonBody("EndTransactionRequest"),
          responses: { 200: ok("Transaction"), ...errors(400, 404, 409, 503) },
        },
      },
      "/api/v1/transactions/{transactionalId}/force-abort": {
        parameters: [txnParam],
        post: {
          summary:
            "An operator aborts a hanging transaction (kafka-transactions.sh forceTerminate): the producer's epoch is bumped (fenced; its next call gets TRANSACTION_ABORTED) and an abort marker goes into every partition, so read_committed readers move past it. No body. 404 for an unknown id, 409 when no transaction is in progress",
          responses: { 200: ok("Transaction"), ...errors(400, 404, 409, 503) },
        },
      },
      "/api/v1/metrics": {
        get: { summary: "Storage, counts and per-second throughput in/out for the last 60 s", responses: { 200: ok("Metrics") } },
      },
      "/api/v1/groups": { get: { summary: "List consumer groups (state, members, total lag)", responses: { 200: ok("GroupList") } } },
      "/api/v1/groups/{group}/timeline": {
        parameters: [groupParam],
        get: {
          summary:
            "The group's rebalance timeline: every join, leave, session timeout, fencing, epoch bump and assignment change (the last 1000), and per group epoch which member owned which partition and how long partitions had no owner",
          responses: { 200: ok("GroupTimeline"), ...errors(400, 404) },
        },
      },
      "/api/v1/groups/{group}": {
        parameters: [groupParam],
        get: {
          summary: "Describe a group: members, assignments, committed offsets, lag, lag history",
          responses: { 200: ok("Group"), ...errors(400, 404) },
        },
        delete: {
          summary: "Delete an empty group and its offsets",
          responses: { 204: { description: "Deleted" }, ...errors(400, 404, 409) },
        },
      },
      "/api/v1/groups/{group}/members": {
        parameters: [groupParam],
        post: {
          summary: "Join (KIP-848, memberEpoch 0): the reply carries memberId, memberEpoch and the first assignment",
          requestBody: jsonBody("JoinGroupRequest"),
          responses: { 201: ok("HeartbeatResponse", "Joined"), ...errors(400, 409) },
        },
      },
      "/api/v1/groups/{group}/members/{member}": {
        parameters: [groupParam, memberParam],
        delete: { summary: "Leave the group", responses: { 204: { description: "Left" }, ...errors(400, 404) } },
      },
      "/api/v1/groups/{group}/members/{member}/heartbeat": {
        parameters: [groupParam, memberParam],
        post: {
          summary: "Heartbeat every heartbeatIntervalMs, listing the partitions still owned; the reply is the current assignment",
          requestBody: jsonBody("HeartbeatRequest"),
          responses: { 200: ok("HeartbeatResponse"), ...errors(400, 404, 409) },
        },
      },
      "/api/v1/groups/{group}/members/{member}/records": {
        parameters: [groupParam, memberParam],
        get: {
          summary: "Poll records from the member's partitions (from the committed offset or auto.offset.reset)",
          parameters: [
            q("maxRecords", "default 500, at most 10000", { type: "integer", minimum: 1 }),
            q("maxBytes", "default 1 MiB", { type: "integer", minimum: 1 }),
            q("waitMs", "long-poll up to this long (max 30000)", { type: "integer", minimum: 0 }),
          ],
          responses: { 200: ok("PollResponse"), ...errors(400, 404, 409) },
        },
      },
      "/api/v1/groups/{group}/members/{member}/offsets": {
        parameters: [groupParam, memberParam],
        post: {
          summary: "Commit offsets (fenced by memberEpoch and ownership)",
          requestBody: jsonBody("CommitRequest"),
          responses: { 200: ok("CommitResponse"), ...errors(400, 404, 409) },
        },
      },
      "/api/v1/groups/{group}/offsets/reset": {
        parameters: [groupParam],
        post: {
          summary:
            "Reset offsets (earliest, latest, timestamp, offset, shift ±N); dryRun (default true) returns the plan only; refused while members are active",
          requestBody: jsonBody("ResetOffsetsRequest"),
          responses: { 200: ok("ResetOffsetsResponse"), ...errors(400, 404, 409) },
        },
      },
      "/api/v1/groups/{group}/offsets": {
        parameters: [groupParam, q("topic", "the topic whose offsets are deleted", { type: "string" }, true)],
        delete: {
          summary: "Delete the group's committed offsets for a topic",
          responses: { 200: { description: "Deleted" }, ...errors(400, 404, 409) },
        },
      },
      "/api/v1/pipelines": {
        get: { summary: "List pipelines with their state, version and counters", responses: { 200: ok("PipelineList") } },
        post: {
          summary: "Create a pipeline from a draft (a PipelineDefinition being edited; state draft)",
          requestBody: jsonBody("PipelineDraft"),
          responses: { 201: ok("PipelineDetail", "Created"), ...errors(400, 409, 413, 415) },
        },
      },
      "/api/v1/pipelines/{name}": {
        parameters: [pipelineParam],
        get: {
          summary: "Describe a pipeline: state, draft, deployed definition",
          responses: { 200: ok("PipelineDetail"), ...errors(400, 404) },
        },
        put: {
          summary: "Save the draft (a deployed version runs on unchanged)",
          requestBody: jsonBody("PipelineDraft"),
          responses: { 200: ok("PipelineDetail"), ...errors(400, 404, 413, 415) },
        },
        delete: {
          summary:
            "Stop and delete a pipeline and its versions, with its consumer group and internal topics (changelog, repartition topics); the topics it reads and writes stay",
          responses: { 204: { description: "Deleted" }, ...errors(400, 404) },
        },
      },
      "/api/v1/pipelines/{name}/validate": {
        parameters: [pipelineParam],
        post: {
          summary:
            "Validate the draft: every problem with its node and field (schema, CEL, topics, partitioning), and the record type inferred at each port with what each node's CEL fields complete (`types`)",
          responses: { 200: ok("ValidatePipelineResponse"), ...errors(400, 404) },
        },
      },
      "/api/v1/pipelines/{name}/deploy": {
        parameters: [pipelineParam],
        post: {
          summary:
            "Deploy the draft as a new version and run it exactly-once (INVALID_PIPELINE with details.problems; PIPELINE_STATE_RESET_REQUIRED when a stateful node changed); with `version`, roll back: that earlier version is deployed as a new one and becomes the draft",
          requestBody: jsonBody("DeployRequest"),
          responses: { 200: ok("PipelineDetail"), ...errors(400, 404, 409) },
        },
      },
      "/api/v1/pipelines/{name}/preview": {
        parameters: [pipelineParam],
        post: {
          summary:
            "Run the draft (or an unsaved definition) over the last records of its real topics, writing and committing nothing: what each node received and emitted, its errors, counts per edge (bounded: 1,000 records per partition, 10,000 in all, 5 s)",
          requestBody: jsonBody("PreviewRequest"),
          responses: { 200: ok("PreviewResponse"), ...errors(400, 404) },
        },
      },
      "/api/v1/pipelines/{name}/test": {
        parameters: [pipelineParam],
        post: {
          summary: `Run test cases in memory: the cases sent (or the draft's tests) against the draft (or an unsaved definition), each a fresh run with time advanced by its records, nothing read or written; pass/fail per case with a diff of missing, unexpected and changed records (bounded: ${PIPELINE_TEST_LIMITS.cases} cases, ${PIPELINE_TEST_LIMITS.inputsPerCase} input records per case, 5 s)`,
          requestBody: jsonBody("PipelineTestRequest"),
          responses: { 200: ok("PipelineTestReport"), ...errors(400, 404, 413, 415) },
        },
      },
      "/api/v1/pipelines/{name}/pause": pipelineAction("Pause: leave the group, keeping committed offsets and state"),
      "/api/v1/pipelines/{name}/resume": pipelineAction("Resume a paused, stopped or failed pipeline from its committed offsets"),
      "/api/v1/pipelines/{name}/stop": pipelineAction("Stop a running, paused or failed pipeline"),
      "/api/v1/pipelines/{name}/metrics": {
        parameters: [pipelineParam],
        get: {
          summary:
            "Metrics of the running version: per node records in and out (per port), errors, late records, watermark and state size; per task lag per input partition, commit latency (last, p50, p99 over 60 s) and failures in a row; totals. Rates are per second over the last 5 s; a pipeline not running here answers its state with empty metrics (live: the WebSocket's subscribe-pipeline-metrics)",
          responses: { 200: ok("PipelineMetrics"), ...errors(400, 404) },
        },
      },
      "/api/v1/pipelines/{name}/versions": {
        parameters: [pipelineParam],
        get: {
          summary: "Every deployed version, oldest first: each with its definition and a note on what its deploy did",
          responses: { 200: ok("PipelineVersions"), ...errors(400, 404) },
        },
      },
      "/api/v1/pipelines/{name}/versions/diff": {
        parameters: [
          pipelineParam,
          q("from", "a version number or 'draft'", { type: "string", pattern: "^(draft|[1-9][0-9]{0,8})$" }, true),
          q("to", "a version number or 'draft'", { type: "string", pattern: "^(draft|[1-9][0-9]{0,8})$" }, true),
        ],
        get: {
          summary:
            "Diff two versions (or a version and the draft): nodes added, removed and changed with every changed field, edges added and removed, the stateful nodes whose change needs a state reset",
          responses: { 200: ok("PipelineDiff"), ...errors(400, 404) },
        },
      },
      "/api/v1/topology": {
        get: {
          summary:
            "The live topology: producers that produced lately (client id, producer id, rate, idempotent/transactional, simulated, topics with rates), topics with partitions (offsets, rates), consumer groups with members, owned partitions and lag, pipelines; every list capped (truncated says so). Also pushed every second over the WebSocket (subscribe-topology)",
          responses: { 200: ok("TopologySnapshot") },
        },
      },
      "/api/v1/simulations": {
        get: {
          summary: "List simulated producers and groups with their state, counters and the limits",
          responses: { 200: ok("SimulationList") },
        },
      },
      "/api/v1/simulations/producers": {
        post: {
          summary:
            "Start a simulated producer on a topic: rate, key distribution (uniform over N keys, or hot keys), value template (CEL or JSON with placeholders); runs through the public client, marked simulated",
          requestBody: jsonBody("CreateSimulatedProducerRequest"),
          responses: { 201: ok("SimulatedProducer", "Created"), ...errors(400, 404, 415) },
        },
      },
      "/api/v1/simulations/producers/{id}": {
        parameters: [simulationParam],
        patch: {
          summary: "Change a simulated producer's rate, or pause or resume it",
          requestBody: jsonBody("UpdateSimulatedProducerRequest"),
          responses: { 200: ok("SimulatedProducer"), ...errors(400, 404, 409) },
        },
        delete: { summary: "Stop a simulated producer", responses: { 204: { description: "Stopped" }, ...errors(400, 404) } },
      },
      "/api/v1/simulations/groups": {
        post: {
          summary:
            "Start a simulated consumer group: N members on topics, processing time per record, commit mode; replies once the members joined",
          requestBody: jsonBody("CreateSimulatedGroupRequest"),
          responses: { 201: ok("SimulatedGroup", "Created"), ...errors(400, 404, 409, 415) },
        },
      },
      "/api/v1/simulations/groups/{id}": {
        parameters: [simulationParam],
        delete: {
          summary: "Stop a simulated group: its members leave (the group and its offsets stay)",
          responses: { 204: { description: "Stopped" }, ...errors(400, 404) },
        },
      },
      "/api/v1/simulations/groups/{id}/members": {
        parameters: [simulationParam],
        post: {
          summary: "Add members to a simulated group",
          requestBody: jsonBody("AddSimulatedMembersRequest"),
          responses: { 200: ok("SimulatedGroup"), ...errors(400, 404) },
        },
      },
      "/api/v1/simulations/groups/{id}/members/{member}": {
        parameters: [simulationParam, { ...memberParam, description: "the member's index in the simulation (0, 1, …)" }],
        post: {
          summary:
            "Act on a simulated member: start, pause (keeps its partitions, reads nothing), kill (stops heartbeating: expired after the session timeout), restart, stop (leaves)",
          requestBody: jsonBody("SimulatedMemberActionRequest"),
          responses: { 200: ok("SimulatedGroup"), ...errors(400, 404, 409) },
        },
      },
      "/api/v1/scenarios": {
        get: {
          summary: "The teaching scenarios: explanation, state, steps and the outcome measured from the broker",
          responses: { 200: ok("ScenarioList") },
        },
      },
      "/api/v1/scenarios/{id}": {
        parameters: [scenarioParam],
        get: { summary: "One scenario", responses: { 200: ok("Scenario"), ...errors(400) } },
      },
      "/api/v1/scenarios/{id}/start": {
        parameters: [scenarioParam],
        post: {
          summary:
            "Start a scenario: creates its own topics (refused with 409 if a topic of its name exists that it did not create) and runs in the background; poll it for its steps and outcome",
          responses: { 202: ok("Scenario", "Started"), ...errors(400, 409) },
        },
      },
      "/api/v1/scenarios/{id}/reset": {
        parameters: [scenarioParam],
        post: {
          summary: "Reset a scenario: stop it and delete the topics, groups and simulations it created",
          responses: { 200: ok("Scenario"), ...errors(400) },
        },
      },
      "/api/v1/openapi.json": { get: { summary: "This document", responses: { 200: { description: "OpenAPI 3.1" } } } },
      "/metrics": {
        get: {
          summary:
            "Prometheus metrics (text exposition format): Kafka-exporter's kafka_topic_partitions, kafka_topic_partition_current_offset / _oldest_offset, kafka_consumergroup_lag / _lag_sum / _current_offset / _members; tributary_topic_{records,bytes}_{in,out}_total, tributary_topic_partition_{size_bytes,records,last_stable_offset}, tributary_http_request_duration_seconds{route,method,code}, tributary_websocket_clients; process_* and nodejs_* (memory, CPU, event loop, GC)",
          responses: {
            200: { description: "Metrics", content: { "text/plain; version=0.0.4; charset=utf-8": { schema: { type: "string" } } } },
            ...errors(503),
          },
        },
      },
    }),
    components: { schemas: components },
  };
}
