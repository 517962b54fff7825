/**
 * The client's transport onto the broker façade of this process (`ClientTransport`, see
 * server/client/transport.ts): each request the client's Producer, Consumer and PartitionReader
 * make is one call of the façade's method that its REST route calls, without the loopback HTTP
 * hop. Pipelines run on it (server/pipelines): their code only sees the client, as it would
 * against another server. What the client gets back is what the HTTP path gives it:
 * - errors as `TributaryClientError` with the error table's code, message, details and HTTP
 *   status (`toErrorResponse`, the HTTP edge's own mapping; an unknown error is a logged 500);
 * - the rare requests (join, init producer) validated by the REST API's own schemas, so bad input
 *   is refused with the same VALIDATION_FAILED; the hot ones are built by the client itself;
 * - produced batches copied before the broker keeps them: the producer reuses its batch buffers
 *   once a request is answered, which over HTTP the server's own read of the body hides.
 */
import type { z } from "zod";
import type { Broker, StoredBatch } from "../broker/broker.ts";
import { regexProblem } from "../cel/regex.ts";
import { TributaryClientError, type ClientTransport, type PolledPart } from "../client/index.ts";
import { toErrorResponse } from "../errors/error-response.ts";
import { TributaryError } from "../errors/tributary-error.ts";
import { ZJoinGroupRequest } from "../schemas/group.ts";
import { ZInitProducerRequest } from "../schemas/producer.ts";

/** A thrown value as the client sees it over HTTP. */
function asClientError(e: unknown): unknown {
  if (e instanceof TributaryClientError || (e instanceof Error && e.name === "AbortError")) return e;
  const { status, body } = toErrorResponse(e);
  return new TributaryClientError(status, body.error.code, body.error.message, body.error.details);
}

/** Runs one request against the façade, its failure turned into the client's error. */
async function call<T>(request: () => Promise<T> | T): Promise<T> {
  try {
    return await request();
  } catch (e) {
    throw asClientError(e);
  }
}

/** A request body checked by the REST API's schema (VALIDATION_FAILED naming the field, as the route says it). */
function parsed<S extends z.ZodType>(schema: S, body: unknown, where: string): z.infer<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  const first = issues[0];
  const at = first?.path ? `${where}.${first.path}` : where;
  throw new TributaryError("VALIDATION_FAILED", `invalid ${at}: ${first?.message ?? "invalid input"}`, { issues });
}

/** Each stored batch whole (a batch read in pieces is joined: the client decodes whole batches). */
const batchesOf = (batches: readonly StoredBatch[]): Buffer[] => batches.map((b) => b.payload);

/** `host`: how group member descriptions show these clients (an HTTP client shows its address). */
export function brokerTransport(broker: Broker, host = "in-process"): ClientTransport {
  return {
    partitionCount: (topic) => call(async () => (await broker.describeTopic(topic)).partitions.length),
    initProducer: (req) =>
      call(async () => {
        const r = await broker.initProducer(parsed(ZInitProducerRequest, req, "body"));
        return { producerId: r.producerId, producerEpoch: r.producerEpoch };
      }),
    produce: (topic, partition, batches, opts) =>
      call(async () => {
        const r = await broker.produceBatches(topic, partition, Buffer.from(batches), opts);
        return { baseOffset: r.baseOffset };
      }),
    addOffsetsToTransaction: (transactionalId, req) =>
      call(async () => {
        await broker.addOffsetsToTransaction(transactionalId, {
          ...req,
          offsets: req.offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset, metadata: o.metadata ?? null })),
        });
      }),
    endTransaction: (transactionalId, who, commit) =>
      call(async () => {
        await broker.endTransaction(transactionalId, who.producerId, who.producerEpoch, commit);
      }),
    joinGroup: (groupId, req) =>
      call(async () => {
        const join = parsed(ZJoinGroupRequest, req, "body");
        // RE2 syntax (as Kafka's RE2J): refused naming the request's own field, as the REST API does
        const problem = join.topicPattern !== undefined ? regexProblem(join.topicPattern) : null;
        if (problem !== null)
          throw new TributaryError("INVALID_REGULAR_EXPRESSION", `invalid topicPattern: ${problem}`, { field: "topicPattern" });
        const r = await broker.joinGroup(groupId, join, host);
        return { memberId: r.memberId, memberEpoch: r.memberEpoch, heartbeatIntervalMs: r.heartbeatIntervalMs, assignment: r.assignment };
      }),
    heartbeat: (groupId, memberId, req) =>
      call(async () => {
        const r = await broker.heartbeatGroup(groupId, { memberId, memberEpoch: req.memberEpoch, ownedPartitions: req.ownedPartitions });
        return { memberId: r.memberId, memberEpoch: r.memberEpoch, heartbeatIntervalMs: r.heartbeatIntervalMs, assignment: r.assignment };
      }),
    commitOffsets: (groupId, memberId, req) =>
      call(async () => {
        await broker.commitGroupOffsets(groupId, memberId, req.memberEpoch, req.offsets);
      }),
    leaveGroup: (groupId, memberId) => call(() => broker.leaveGroup(groupId, memberId)),
    pollGroup: (groupId, memberId, q, signal) =>
      call(async () => {
        const r = await broker.pollGroupBatches(groupId, memberId, { ...q, signal });
        return r.parts.map((p): PolledPart => ({
          topic: p.topic,
          partition: p.partition,
          fromOffset: p.fromOffset,
          nextOffset: p.nextOffset,
          batches: batchesOf(p.batches),
        }));
      }),
    fetchPartition: (topic, partition, q) =>
      call(async () => {
        const r = await broker.fetchBatches(topic, partition, q);
        return {
          batches: batchesOf(r.batches),
          highWatermark: r.highWatermark,
          lastStableOffset: r.lastStableOffset,
          nextOffset: r.nextOffset,
        };
      }),
  };
}
