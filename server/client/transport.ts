/**
 * How the client's Producer, Consumer (its group membership and fetch runner) and PartitionReader
 * reach the broker: one method per request they make. `httpTransport(baseUrl)` sends them over
 * the REST API and its binary paths (what any process uses); a process that holds the broker
 * itself may hand the client a transport calling the broker directly (see
 * server/inproc/broker-transport.ts), with the same replies and the same errors: every failure
 * the broker answers is a `TributaryClientError` carrying the error table's code and HTTP status,
 * and only an unreachable broker rejects with a TypeError (as fetch does).
 */
import type { HeartbeatReply, CommitOffset } from "../group-member/group-member.ts";
import type { TopicPartitions } from "../group-member/topic-partitions.ts";
import { RECORD_BATCH_CONTENT_TYPE } from "../schemas/limits.ts";
import { callJson, raiseForBytes, requestBytes, type Scratch } from "./http-client.ts";

/** A new member's subscription and options (the REST join request). */
export interface JoinRequest {
  topics?: string[];
  topicPattern?: string;
  clientId?: string;
  assignor?: string;
  rebalanceTimeoutMs?: number;
  isolationLevel?: "read_committed" | "read_uncommitted";
  autoOffsetReset?: "earliest" | "latest" | "none";
}

/** One partition of a group poll: its stored batches as they are, and the member's position after them. */
export interface PolledPart {
  topic: string;
  partition: number;
  /** The position before the poll: records of the first batch before it were delivered already. */
  fromOffset: number;
  /** The position after the part, past transaction markers: what to commit once processed. */
  nextOffset: number;
  /** Whole RecordBatch v2 batches, back to back in each buffer (control batches included). */
  batches: readonly Buffer[];
}

/** A partition fetch: whole stored batches (the first may begin before the offset asked for). */
export interface PartitionFetch {
  batches: readonly Buffer[];
  highWatermark: number;
  lastStableOffset: number;
  nextOffset: number;
}

export interface ProducerIdentity {
  producerId: number;
  producerEpoch: number;
}

export interface ClientTransport {
  // ---- producers and transactions
  /** The partition count of a topic (UNKNOWN_TOPIC_OR_PARTITION when it does not exist). */
  partitionCount(topic: string): Promise<number>;
  /** A producer id and epoch: idempotent, or transactional (which fences older instances of the id). */
  initProducer(req: { transactionalId?: string; transactionTimeoutMs?: number }): Promise<ProducerIdentity>;
  /** Appends client-encoded batches to one partition; resolves with the first offset once stored. */
  produce(
    topic: string,
    partition: number,
    batches: Buffer,
    opts: { clientId?: string; transactionalId?: string },
  ): Promise<{ baseOffset: number }>;
  /** KIP-447: a group's offsets committed with the transaction. */
  addOffsetsToTransaction(
    transactionalId: string,
    req: ProducerIdentity & { groupId: string; memberId: string; memberEpoch: number; offsets: CommitOffset[] },
  ): Promise<void>;
  /** Commits or aborts the transaction; resolves once every marker is written. */
  endTransaction(transactionalId: string, who: ProducerIdentity, commit: boolean): Promise<void>;

  // ---- group membership (KIP-848) and group polls
  joinGroup(groupId: string, req: JoinRequest): Promise<HeartbeatReply>;
  heartbeat(groupId: string, memberId: string, req: { memberEpoch: number; ownedPartitions: TopicPartitions[] }): Promise<HeartbeatReply>;
  commitOffsets(groupId: string, memberId: string, req: { memberEpoch: number; offsets: CommitOffset[] }): Promise<void>;
  leaveGroup(groupId: string, memberId: string): Promise<void>;
  /** The member's partitions' stored batches; long-polls up to waitMs; `signal` ends the wait. */
  pollGroup(
    groupId: string,
    memberId: string,
    q: { maxRecords: number; maxBytes: number; waitMs: number },
    signal?: AbortSignal,
  ): Promise<PolledPart[]>;

  // ---- partition reads
  /** `scratch`: a response buffer the caller reuses (HTTP only; the batches are then valid until its next fetch). */
  fetchPartition(
    topic: string,
    partition: number,
    q: { offset: number; maxBytes: number; waitMs: number; isolation?: "read_committed" | "read_uncommitted" },
    scratch?: Scratch,
  ): Promise<PartitionFetch>;
}

/** The broker reached by the client's options: their transport, or the REST API at their baseUrl. */
export function transportOf(opts: { baseUrl: string; transport?: ClientTransport }): ClientTransport {
  return opts.transport ?? httpTransport(opts.baseUrl);
}

const enc = encodeURIComponent;

/** The REST API and its binary paths at `baseUrl` (the server's origin). */
export function httpTransport(baseUrl: string): ClientTransport {
  const base = baseUrl.replace(/\/+$/, "");
  const json = <T>(method: string, path: string, body?: unknown) => callJson<T>(base, method, `/api/v1${path}`, body);
  const memberPath = (groupId: string, memberId: string) => `/groups/${enc(groupId)}/members/${enc(memberId)}`;
  return {
    partitionCount: async (topic) => (await json<{ partitions: unknown[] }>("GET", `/topics/${enc(topic)}`)).partitions.length,
    initProducer: async (req) => {
      const r = await json<ProducerIdentity>("POST", "/producers", req);
      return { producerId: r.producerId, producerEpoch: r.producerEpoch };
    },
    async produce(topic, partition, batches, opts) {
      let url = `${base}/api/v1/topics/${enc(topic)}/records?partition=${partition}`;
      if (opts.clientId !== undefined) url += `&clientId=${enc(opts.clientId)}`;
      if (opts.transactionalId !== undefined) url += `&transactionalId=${enc(opts.transactionalId)}`;
      const res = await requestBytes(url, "POST", { "content-type": RECORD_BATCH_CONTENT_TYPE }, batches);
      if (res.status < 200 || res.status > 299) raiseForBytes(res);
      return { baseOffset: (JSON.parse(res.body.toString("utf8")) as { baseOffset: number }).baseOffset };
    },
    addOffsetsToTransaction: async (transactionalId, req) => {
      await json("POST", `/transactions/${enc(transactionalId)}/offsets`, req);
    },
    endTransaction: async (transactionalId, who, commit) => {
      await json("POST", `/transactions/${enc(transactionalId)}/${commit ? "commit" : "abort"}`, who);
    },
    joinGroup: (groupId, req) => json<HeartbeatReply>("POST", `/groups/${enc(groupId)}/members`, req),
    heartbeat: (groupId, memberId, req) => json<HeartbeatReply>("POST", `${memberPath(groupId, memberId)}/heartbeat`, req),
    commitOffsets: async (groupId, memberId, req) => {
      await json("POST", `${memberPath(groupId, memberId)}/offsets`, req);
    },
    leaveGroup: async (groupId, memberId) => {
      await json("DELETE", memberPath(groupId, memberId));
    },
    async pollGroup(groupId, memberId, q, signal) {
      const url = `${base}/api/v1${memberPath(groupId, memberId)}/records?maxRecords=${q.maxRecords}&maxBytes=${q.maxBytes}&waitMs=${q.waitMs}`;
      const res = await requestBytes(url, "GET", { accept: RECORD_BATCH_CONTENT_TYPE }, undefined, signal);
      if (res.status !== 200) raiseForBytes(res);
      return splitGroupPoll(res.body);
    },
    async fetchPartition(topic, partition, q, scratch) {
      const isolation = q.isolation ? `&isolation=${q.isolation}` : "";
      const res = await requestBytes(
        `${base}/api/v1/topics/${enc(topic)}/partitions/${partition}/records?offset=${q.offset}&maxBytes=${q.maxBytes}&waitMs=${q.waitMs}${isolation}`,
        "GET",
        { accept: RECORD_BATCH_CONTENT_TYPE },
        undefined,
        undefined,
        scratch,
      );
      if (res.status !== 200) raiseForBytes(res);
      const highWatermark = Number(res.headers["x-high-watermark"]);
      const lso = res.headers["x-last-stable-offset"];
      return {
        batches: res.body.length > 0 ? [res.body] : [],
        highWatermark,
        lastStableOffset: typeof lso === "string" ? Number(lso) : highWatermark,
        nextOffset: Number(res.headers["x-next-offset"]),
      };
    },
  };
}

/**
 * A binary group poll's body (see server/api/poll-group-record-batches.ts): a 4-byte length, a
 * JSON header of parts, then each part's batches (`bytes` long).
 */
export function splitGroupPoll(body: Buffer): PolledPart[] {
  const headerLength = body.readUInt32BE(0);
  const header = JSON.parse(body.toString("utf8", 4, 4 + headerLength)) as {
    parts: { topic: string; partition: number; fromOffset: number; nextOffset: number; bytes: number }[];
  };
  let at = 4 + headerLength;
  return header.parts.map((p) => {
    const batches = p.bytes > 0 ? [body.subarray(at, at + p.bytes)] : [];
    at += p.bytes;
    return { topic: p.topic, partition: p.partition, fromOffset: p.fromOffset, nextOffset: p.nextOffset, batches };
  });
}
