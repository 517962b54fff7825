/**
 * A consumer-group consumer over the REST API, shaped like kafkajs's: `subscribe`, then `run`
 * with `eachMessage` or `eachBatch`; the broker assigns partitions (KIP-848, server-side
 * assignor) and this class follows its heartbeats.
 *
 * How it keeps the protocol's promises:
 * - One request at a time to the coordinator: join, heartbeat, poll, commit and leave go through
 *   one queue, so every commit carries the epoch of the last reply and every poll happens with
 *   the assignment this client already knows (the broker only serves partitions its last reply
 *   granted). Record handlers run outside that queue, so slow handlers never delay heartbeats;
 *   long polls are capped at half the heartbeat interval for the same reason.
 * - Per partition, handlers run one at a time in offset order (so per-key order holds);
 *   different partitions run concurrently, and fetching goes on while they do, until
 *   maxBufferedRecords fetched records wait for their handlers. A handler that throws is retried
 *   on the same record after retryBackoffMs (its partition does not move past it).
 * - Revocation: when a heartbeat reply leaves out a partition, processing of it stops after the
 *   record in hand, its position is committed (autoCommit) with the epoch the broker still
 *   accepts for it, and only then does the next heartbeat stop listing it as owned — so its
 *   next owner starts exactly where this one stopped.
 * - Positions are those of processed records (not fetched ones): a crash re-delivers, never
 *   skips (at-least-once).
 * - UNKNOWN_MEMBER_ID / FENCED_MEMBER_EPOCH / GROUP_ID_NOT_FOUND: everything owned is dropped
 *   (it may already belong to someone else, so nothing is committed) and the consumer joins
 *   again with epoch 0 as a new member.
 *
 * Exactly-once consume-transform-produce (KIP-447): `isolationLevel: "read_committed"`,
 * `autoCommit: false`, and in `eachBatch` (serialised if one producer serves several partitions):
 * `producer.beginTransaction()`, send the outputs, `producer.sendOffsetsToTransaction({
 * ...consumer.groupMetadata(), offsets: [{topic, partition, offset: last.offset + 1}] })`,
 * `producer.commitTransaction()`. On failure abort and throw: the handler runs again on the
 * same records (its partition does not move past them), and after a rebalance or restart the
 * next owner starts from the offsets the last committed transaction stored.
 */
import { raiseFor, raiseForBytes, requestBytes, TributaryClientError } from "./http-client.ts";
import { forEachRecord, readBatchHeader } from "../broker/protocol/record-batch.ts";
import { RECORD_BATCH_CONTENT_TYPE } from "../schemas/limits.ts";
import { hasCode } from "../errors/tributary-error.ts";

export type AssignorName = "sticky" | "range" | "roundrobin" | "round-robin" | "uniform" | "cooperative-sticky";
export type AutoOffsetReset = "earliest" | "latest" | "none";

export interface ConsumerOptions {
  baseUrl: string;
  groupId: string;
  clientId?: string;
  assignor?: AssignorName;
  /** Where to start on partitions the group has no committed offset for (default latest). */
  autoOffsetReset?: AutoOffsetReset;
  /** Commit processed positions every autoCommitIntervalMs, on revocation and on stop (default true). */
  autoCommit?: boolean;
  autoCommitIntervalMs?: number;
  /** How long the broker lets this member take to give up revoked partitions. */
  rebalanceTimeoutMs?: number;
  /** Per poll (default 500). */
  maxRecords?: number;
  maxBytes?: number;
  /** Long-poll wait (default 1000; capped at half the heartbeat interval). */
  waitMs?: number;
  /** Fetching pauses while this many fetched records wait for their handlers (default 4 × maxRecords). */
  maxBufferedRecords?: number;
  /** Wait after a failed request or a handler error before trying again (default 500). */
  retryBackoffMs?: number;
  /**
   * read_committed: polls deliver only records of committed transactions (and non-transactional
   * ones), up to the last stable offset; read_uncommitted (the broker's default) delivers
   * everything up to the high watermark, aborted transactional records included.
   */
  isolationLevel?: IsolationLevel;
}

export type IsolationLevel = "read_committed" | "read_uncommitted";

/**
 * What a transactional producer needs to commit this consumer's positions in its transaction
 * (Kafka's ConsumerGroupMetadata): pass it to `Producer.sendOffsetsToTransaction`.
 */
export interface GroupMetadata {
  groupId: string;
  memberId: string;
  memberEpoch: number;
}

export type Subscription = { topics: string[]; topicPattern?: undefined } | { topicPattern: string | RegExp; topics?: undefined };

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface MessageHeader {
  key: string;
  value: Buffer | null;
}

export interface Message {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  timestampType: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: MessageHeader[];
}

export interface EachMessagePayload {
  topic: string;
  partition: number;
  message: Message;
  /** The member epoch the partition is held at. */
  memberEpoch: number;
}

export interface EachBatchPayload {
  topic: string;
  partition: number;
  messages: Message[];
  memberEpoch: number;
  /** False once the partition is being revoked or the consumer is stopping. */
  isActive(): boolean;
}

export interface RunOptions {
  eachMessage?: (payload: EachMessagePayload) => Promise<void> | void;
  eachBatch?: (payload: EachBatchPayload) => Promise<void> | void;
}

export type RevokeReason =
  /** The broker moved it elsewhere: processed, committed, then released. */
  | "revoked"
  /** The member was fenced or expired: dropped without a commit (it may have a new owner already). */
  | "lost"
  /** stop()/disconnect(): processed, committed, then the member left. */
  | "stopped";

export interface AssignedEvent {
  memberId: string;
  memberEpoch: number;
  partitions: TopicPartition[];
  /** Everything owned after the change. */
  assignment: TopicPartition[];
}

export interface RevokedEvent {
  memberId: string;
  memberEpoch: number;
  partitions: TopicPartition[];
  assignment: TopicPartition[];
  reason: RevokeReason;
}

export interface RebalanceEvent {
  memberId: string;
  memberEpoch: number;
  assignment: TopicPartition[];
}

export interface JoinedEvent {
  memberId: string;
  memberEpoch: number;
  /** Why this join happened: the first one, or after being fenced/expired. */
  reason: "start" | "rejoin";
}

export interface CommitEvent {
  memberId: string;
  memberEpoch: number;
  offsets: { topic: string; partition: number; offset: number }[];
}

export interface ConsumerEvents {
  joined: JoinedEvent;
  assigned: AssignedEvent;
  revoked: RevokedEvent;
  /** After every change of the owned partitions (an assignment or a revocation). */
  rebalance: RebalanceEvent;
  commit: CommitEvent;
  /** Failed requests, handler errors; the consumer keeps going (it retries). */
  error: Error;
  left: { memberId: string };
}

type Listener<T> = (event: T) => void;

interface PartitionState {
  topic: string;
  partition: number;
  status: "active" | "revoking";
  /** Fetched, not yet processed; in offset order. */
  buffer: Message[];
  /**
   * Next offset to process (last processed + 1, or past the transaction markers after it once
   * every fetched record is processed); null until something was processed. This is committed.
   */
  position: number | null;
  /** The broker's position after the last poll that moved it (past control batches); null until then. */
  fetched: number | null;
  committed: number | null;
  /** The partition's handler chain, while it runs (settled otherwise). */
  processing: Promise<void> | null;
  draining: boolean;
}

/** One poll's records and the positions it moved, under the membership it was made in. */
interface Polled {
  incarnation: number;
  records: Message[];
  positions: { topic: string; partition: number; offset: number }[];
}

interface HeartbeatReply {
  memberId: string;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: { topic: string; partitions: number[] }[];
}

/** The group no longer knows this member at its epoch (or the group is gone): rejoin. */
const isFenced = (e: unknown): e is TributaryClientError =>
  e instanceof TributaryClientError && hasCode(e, "UNKNOWN_MEMBER_ID", "FENCED_MEMBER_EPOCH", "GROUP_ID_NOT_FOUND");
const keyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });

/** The records of a binary group poll (see decodeGroupPollParts). */
export function decodeGroupPoll(body: Buffer): Message[] {
  return decodeGroupPollParts(body).records;
}

/**
 * A binary group poll (see server/api/poll-group-record-batches.ts): a JSON header of parts, then
 * each part's stored batches; records of a part's first batch before its `fromOffset` and control
 * batches (transaction markers) are skipped. `positions`: each part's next offset, past markers.
 */
export function decodeGroupPollParts(body: Buffer): {
  records: Message[];
  positions: { topic: string; partition: number; offset: number }[];
} {
  const headerLength = body.readUInt32BE(0);
  const header = JSON.parse(body.toString("utf8", 4, 4 + headerLength)) as {
    parts: { topic: string; partition: number; fromOffset: number; nextOffset: number; bytes: number }[];
  };
  const out: Message[] = [];
  let at = 4 + headerLength;
  for (const part of header.parts) {
    const end = at + part.bytes;
    while (at < end) {
      const h = readBatchHeader(body, at);
      const batch = body.subarray(at, at + h.sizeBytes);
      at += h.sizeBytes;
      if (h.isControl) continue;
      forEachRecord(batch, h, part.fromOffset, (v) => {
        out.push({
          topic: part.topic,
          partition: part.partition,
          offset: v.offset,
          timestamp: v.timestamp,
          timestampType: h.timestampType,
          key: v.key,
          value: v.value,
          headers: v.headerCount === 0 ? [] : v.headers(),
        });
      });
    }
  }
  return { records: out, positions: header.parts.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.nextOffset })) };
}

export class Consumer {
  private readonly opts: Required<Omit<ConsumerOptions, "clientId" | "assignor" | "rebalanceTimeoutMs" | "isolationLevel">> &
    Pick<ConsumerOptions, "clientId" | "assignor" | "rebalanceTimeoutMs" | "isolationLevel">;
  private subscription: { topics?: string[]; topicPattern?: string } | null = null;
  private handlers: RunOptions | null = null;
  private readonly listeners = new Map<keyof ConsumerEvents, Set<Listener<never>>>();

  private memberId: string | null = null;
  private memberEpoch = 0;
  private heartbeatIntervalMs = 5_000;
  /** Bumped on every join: work begun under an older membership is discarded. */
  private incarnation = 0;
  private readonly parts = new Map<string, PartitionState>();
  private queue: Promise<unknown> = Promise.resolve();
  private running = false;
  private stopping: Promise<void> | null = null;
  private readonly stopController = new AbortController();
  private wakeHeartbeat: (() => void) | null = null;
  private heartbeatSoon = false;
  private loops: Promise<void>[] = [];
  private revocations = new Set<Promise<void>>();
  private progressWaiters: (() => void)[] = [];
  /** commitOffsets() calls in progress: failed at once when the membership is lost. */
  private readonly lostWaiters = new Set<(e: Error) => void>();
  /** Set while a rejoin waits for the handlers: their commitOffsets() calls fail at once. */
  private rejoining = false;

  constructor(options: ConsumerOptions) {
    this.opts = {
      autoOffsetReset: "latest",
      autoCommit: true,
      autoCommitIntervalMs: 1_000,
      maxRecords: 500,
      maxBytes: 1024 * 1024,
      waitMs: 1_000,
      retryBackoffMs: 500,
      maxBufferedRecords: 4 * (options.maxRecords ?? 500),
      ...options,
      baseUrl: options.baseUrl.replace(/\/+$/, ""),
    };
  }

  // ---- public API ------------------------------------------------------------------------

  subscribe(sub: Subscription): void {
    if (this.running) throw new Error("subscribe before run()");
    if ((sub.topics === undefined) === (sub.topicPattern === undefined)) throw new Error("subscribe to topics or a topicPattern, not both");
    if (sub.topics !== undefined) {
      if (!Array.isArray(sub.topics) || sub.topics.length === 0) throw new Error("topics must be a non-empty array");
      this.subscription = { topics: [...sub.topics] };
    } else {
      const p = sub.topicPattern as string | RegExp;
      this.subscription = { topicPattern: typeof p === "string" ? p : p.source };
    }
  }

  /** Joins, then consumes in the background until stop(); resolves once the first join is done. */
  async run(handlers: RunOptions): Promise<void> {
    if (this.running || this.stopping) throw new Error("run() was already called");
    if (!this.subscription) throw new Error("subscribe() before run()");
    if (!handlers.eachMessage === !handlers.eachBatch) throw new Error("give exactly one of eachMessage or eachBatch");
    this.handlers = handlers;
    this.running = true;
    try {
      await this.serial(() => this.join("start"));
    } catch (e) {
      this.running = false;
      throw e;
    }
    this.loops = [this.heartbeatLoop(), this.pollLoop(), this.commitLoop()];
  }

  /** The partitions this consumer owns now (including any it is giving up). */
  assignment(): TopicPartition[] {
    return this.owned();
  }

  get member(): { memberId: string | null; memberEpoch: number } {
    return { memberId: this.memberId, memberEpoch: this.memberEpoch };
  }

  /**
   * The group id, member id and member epoch as of now, for
   * `producer.sendOffsetsToTransaction({...consumer.groupMetadata(), offsets})` in a
   * consume-transform-produce loop (run with autoCommit: false, so positions are committed only
   * through the producer's transactions). Throws while the consumer is not a group member.
   */
  groupMetadata(): GroupMetadata {
    if (this.memberId === null) throw new Error("the consumer is not a group member (run() first, or it is rejoining)");
    return { groupId: this.opts.groupId, memberId: this.memberId, memberEpoch: this.memberEpoch };
  }

  on<E extends keyof ConsumerEvents>(event: E, listener: Listener<ConsumerEvents[E]>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  /**
   * Commits processed positions now: of every owned partition, or the given offsets (the next
   * offsets to consume). Throws TributaryClientError when the broker refuses.
   */
  async commitOffsets(offsets?: { topic: string; partition: number; offset: number }[]): Promise<void> {
    // Called from a handler, the commit must not wait behind a rejoin: the rejoin (in the queue)
    // waits for the handlers to finish. It fails at once when the membership is lost instead
    // (the broker would refuse it anyway), and a commit still queued then is never sent.
    if (this.rejoining) throw membershipLost();
    const incarnation = this.incarnation;
    let onLost!: (e: Error) => void;
    const lost = new Promise<never>((_, reject) => (onLost = reject));
    this.lostWaiters.add(onLost);
    const run = this.serial(async () => {
      if (incarnation !== this.incarnation || this.memberId === null) throw membershipLost();
      if (offsets) await this.sendCommit(offsets);
      else await this.commitPositions([...this.parts.values()]);
    });
    run.catch(() => undefined);
    try {
      await Promise.race([run, lost]);
    } finally {
      this.lostWaiters.delete(onLost);
    }
  }

  /** Stops consuming: finishes the records in hand, commits (autoCommit), leaves the group. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  disconnect(): Promise<void> {
    return this.stop();
  }

  // ---- events ----------------------------------------------------------------------------

  private emit<E extends keyof ConsumerEvents>(event: E, payload: ConsumerEvents[E]): void {
    for (const l of this.listeners.get(event) ?? []) {
      try {
        (l as Listener<ConsumerEvents[E]>)(payload);
      } catch (e) {
        if (event !== "error") this.emit("error", e as Error);
      }
    }
  }

  private owned(): TopicPartition[] {
    return [...this.parts.values()]
      .map((s) => ({ topic: s.topic, partition: s.partition }))
      .sort((a, b) => (a.topic !== b.topic ? (a.topic < b.topic ? -1 : 1) : a.partition - b.partition));
  }

  // ---- transport -------------------------------------------------------------------------

  private async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const res = await fetch(this.opts.baseUrl + path, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    if (!res.ok) await raiseFor(res);
    return (res.status === 204 ? undefined : await res.json()) as T;
  }

  private groupPath(suffix = ""): string {
    return `/api/v1/groups/${encodeURIComponent(this.opts.groupId)}${suffix}`;
  }

  private memberPath(suffix = ""): string {
    return this.groupPath(`/members/${encodeURIComponent(this.memberId ?? "")}${suffix}`);
  }

  /** Runs coordinator requests one at a time, in call order. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  // ---- membership ------------------------------------------------------------------------

  /** Joins with epoch 0 (inside the queue), retrying until it works or the consumer stops. */
  private async join(reason: "start" | "rejoin"): Promise<void> {
    for (;;) {
      try {
        const r = await this.request<HeartbeatReply>("POST", this.groupPath("/members"), {
          ...this.subscription,
          ...(this.opts.clientId !== undefined ? { clientId: this.opts.clientId } : {}),
          ...(this.opts.assignor !== undefined ? { assignor: this.opts.assignor } : {}),
          ...(this.opts.rebalanceTimeoutMs !== undefined ? { rebalanceTimeoutMs: this.opts.rebalanceTimeoutMs } : {}),
          ...(this.opts.isolationLevel !== undefined ? { isolationLevel: this.opts.isolationLevel } : {}),
          autoOffsetReset: this.opts.autoOffsetReset,
        });
        this.incarnation++;
        this.memberId = r.memberId;
        this.memberEpoch = r.memberEpoch;
        this.heartbeatIntervalMs = r.heartbeatIntervalMs;
        this.emit("joined", { memberId: r.memberId, memberEpoch: r.memberEpoch, reason });
        this.applyAssignment(r);
        return;
      } catch (e) {
        // bad input on the first join (unknown assignor, invalid pattern...) will not fix itself
        if (reason === "start" && e instanceof TributaryClientError && e.status >= 400 && e.status < 500) throw e;
        this.emit("error", e as Error);
        if (!this.running) throw e;
        await sleep(this.opts.retryBackoffMs, this.stopController.signal);
        if (!this.running) throw e;
      }
    }
  }

  /**
   * Fenced or expired: whatever we owned may already be someone else's. Stop processing it,
   * commit nothing, and join again as a new member. Call inside the queue.
   */
  private async rejoin(): Promise<void> {
    this.rejoining = true;
    for (const fail of [...this.lostWaiters]) fail(membershipLost());
    const lost = [...this.parts.values()];
    for (const s of lost) s.status = "revoking";
    try {
      await Promise.all(lost.map((s) => s.processing));
    } finally {
      this.rejoining = false;
    }
    const memberId = this.memberId ?? "";
    this.parts.clear();
    if (lost.length > 0) {
      this.emit("revoked", { memberId, memberEpoch: this.memberEpoch, partitions: lost.map(tpOf), assignment: [], reason: "lost" });
      this.emit("rebalance", { memberId, memberEpoch: this.memberEpoch, assignment: [] });
    }
    this.memberId = null;
    this.incarnation++; // revocations in progress for the old membership now do nothing
    if (this.running) await this.join("rejoin");
  }

  private async heartbeatLoop(): Promise<void> {
    while (this.running) {
      if (!this.heartbeatSoon) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(done, this.heartbeatIntervalMs);
          this.wakeHeartbeat = done;
          function done() {
            clearTimeout(t);
            resolve();
          }
        });
        this.wakeHeartbeat = null;
      }
      this.heartbeatSoon = false;
      if (!this.running) break;
      try {
        await this.serial(() => this.heartbeat());
      } catch (e) {
        if (this.running) this.emit("error", e as Error);
      }
    }
  }

  private requestHeartbeat(): void {
    this.heartbeatSoon = true;
    this.wakeHeartbeat?.();
  }

  private async heartbeat(): Promise<void> {
    if (!this.running || this.memberId === null) return;
    let r: HeartbeatReply;
    try {
      r = await this.request<HeartbeatReply>("POST", this.memberPath("/heartbeat"), {
        memberEpoch: this.memberEpoch,
        ownedPartitions: toTopicPartitions(this.owned()),
      });
    } catch (e) {
      if (isFenced(e)) {
        this.emit("error", e);
        await this.rejoin();
        return;
      }
      throw e; // transient: the next tick tries again with the same view
    }
    this.memberEpoch = r.memberEpoch;
    this.heartbeatIntervalMs = r.heartbeatIntervalMs;
    this.applyAssignment(r);
  }

  /** Follows a reply: new partitions become active at once; dropped ones are revoked in the background. */
  private applyAssignment(r: HeartbeatReply): void {
    const target = new Set<string>();
    const granted: TopicPartition[] = [];
    for (const { topic, partitions } of r.assignment) {
      for (const partition of partitions) {
        const k = keyOf(topic, partition);
        target.add(k);
        // a partition still being given up is not re-granted by the broker before it is released
        if (!this.parts.has(k)) {
          this.parts.set(k, {
            topic,
            partition,
            status: "active",
            buffer: [],
            position: null,
            fetched: null,
            committed: null,
            processing: null,
            draining: false,
          });
          granted.push({ topic, partition });
        }
      }
    }
    const revoked = [...this.parts.values()].filter((s) => s.status === "active" && !target.has(keyOf(s.topic, s.partition)));
    if (granted.length > 0) {
      const assignment = this.owned();
      this.emit("assigned", { memberId: r.memberId, memberEpoch: r.memberEpoch, partitions: granted, assignment });
      this.emit("rebalance", { memberId: r.memberId, memberEpoch: r.memberEpoch, assignment });
    }
    if (revoked.length > 0) {
      for (const s of revoked) s.status = "revoking";
      const p = this.revoke(revoked, this.incarnation).catch((e) => this.emit("error", e as Error));
      this.revocations.add(p);
      void p.finally(() => this.revocations.delete(p));
    }
  }

  /** Finishes the records in hand, commits, then stops reporting the partitions as owned. */
  private async revoke(states: PartitionState[], incarnation: number): Promise<void> {
    await Promise.all(states.map((s) => s.processing));
    await this.serial(async () => {
      if (incarnation !== this.incarnation) return; // rejoined meanwhile: already dropped as lost
      if (this.opts.autoCommit) {
        try {
          await this.commitPositions(states);
        } catch (e) {
          // the next owner re-reads from the last commit: duplicates, not loss
          this.emit("error", e as Error);
        }
      }
      if (incarnation !== this.incarnation) return;
      for (const s of states) this.parts.delete(keyOf(s.topic, s.partition));
      const assignment = this.owned();
      const memberId = this.memberId ?? "";
      this.emit("revoked", { memberId, memberEpoch: this.memberEpoch, partitions: states.map(tpOf), assignment, reason: "revoked" });
      this.emit("rebalance", { memberId, memberEpoch: this.memberEpoch, assignment });
    });
    this.requestHeartbeat();
  }

  // ---- consuming -------------------------------------------------------------------------

  /**
   * Fetches while fewer than maxBufferedRecords wait to be processed; each partition's records
   * are processed by its own chain, so one busy partition does not hold up the others' fetches.
   */
  private async pollLoop(): Promise<void> {
    while (this.running) {
      if (this.bufferedRecords() >= this.opts.maxBufferedRecords) {
        await this.processed();
        continue;
      }
      let polled: Polled | null;
      try {
        polled = await this.serial(() => this.poll());
      } catch (e) {
        if (!this.running) break;
        this.emit("error", e as Error);
        await sleep(this.opts.retryBackoffMs, this.stopController.signal);
        continue;
      }
      if (!polled || polled.incarnation !== this.incarnation) continue;
      const touched = new Set<PartitionState>();
      for (const r of polled.records) {
        const s = this.parts.get(keyOf(r.topic, r.partition));
        // the queue keeps polls in step with replies, so records come only for partitions we own;
        // one being revoked is left to its next owner, from our last processed position
        if (s?.status !== "active") continue;
        s.buffer.push(r);
        touched.add(s);
      }
      for (const p of polled.positions) {
        const s = this.parts.get(keyOf(p.topic, p.partition));
        if (s?.status !== "active") continue;
        s.fetched = p.offset;
        // nothing left to process (only markers or aborted records moved it): the position moves now
        if (s.buffer.length === 0) s.position = p.offset;
      }
      for (const s of touched) this.drain(s);
    }
  }

  private bufferedRecords(): number {
    let n = 0;
    for (const s of this.parts.values()) if (s.status === "active") n += s.buffer.length;
    return n;
  }

  /** Resolves when a handler finished something (or soon anyway, or on stop). */
  private processed(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.progressWaiters.push(resolve);
      void sleep(100, this.stopController.signal).then(resolve);
    });
  }

  private progress(): void {
    for (const w of this.progressWaiters.splice(0)) w();
  }

  /** Polls on the binary path: the stored batches of the member's partitions, decoded here. */
  private async poll(): Promise<Polled | null> {
    if (!this.running || this.memberId === null) return null;
    const incarnation = this.incarnation;
    const waitMs = Math.max(0, Math.min(this.opts.waitMs, Math.floor(this.heartbeatIntervalMs / 2)));
    try {
      const res = await requestBytes(
        this.opts.baseUrl + this.memberPath(`/records?maxRecords=${this.opts.maxRecords}&maxBytes=${this.opts.maxBytes}&waitMs=${waitMs}`),
        "GET",
        { accept: RECORD_BATCH_CONTENT_TYPE },
        undefined,
        this.stopController.signal,
      );
      if (res.status !== 200) raiseForBytes(res);
      return { incarnation, ...decodeGroupPollParts(res.body) };
    } catch (e) {
      if (isFenced(e)) {
        this.emit("error", e);
        await this.rejoin();
        return null;
      }
      throw e;
    }
  }

  /**
   * Starts (unless running) the partition's chain: the handler over its buffer, in order, until
   * the buffer is empty, the partition is revoked or the consumer stops. A failed record stays
   * at the head of the buffer and is retried after retryBackoffMs.
   */
  private drain(s: PartitionState): void {
    if (s.draining) return;
    s.draining = true;
    const run = async () => {
      const h = this.handlers!;
      while (s.buffer.length > 0 && s.status === "active" && this.running) {
        try {
          if (h.eachBatch) {
            const messages = s.buffer.slice();
            await h.eachBatch({
              topic: s.topic,
              partition: s.partition,
              messages,
              memberEpoch: this.memberEpoch,
              isActive: () => s.status === "active" && this.running,
            });
            s.buffer.splice(0, messages.length);
            s.position = positionAfter(s, messages[messages.length - 1].offset);
          } else {
            const message = s.buffer[0];
            await h.eachMessage!({ topic: s.topic, partition: s.partition, message, memberEpoch: this.memberEpoch });
            s.buffer.shift();
            s.position = positionAfter(s, message.offset);
          }
          this.progress();
        } catch (e) {
          this.emit("error", e as Error);
          setTimeout(() => this.drain(s), this.opts.retryBackoffMs).unref();
          return;
        }
      }
    };
    s.processing = run().finally(() => {
      s.draining = false;
      this.progress();
    });
  }

  private async commitLoop(): Promise<void> {
    while (this.running) {
      await sleep(this.opts.autoCommitIntervalMs, this.stopController.signal);
      if (!this.running || !this.opts.autoCommit) continue;
      try {
        await this.serial(() => this.commitPositions([...this.parts.values()].filter((s) => s.status === "active")));
      } catch (e) {
        if (this.running) this.emit("error", e as Error);
      }
    }
  }

  /** Commits the processed positions that moved since the last commit. Call inside the queue. */
  private async commitPositions(states: PartitionState[]): Promise<void> {
    const due = states.filter((s) => s.position !== null && s.position !== s.committed);
    if (due.length === 0 || this.memberId === null) return;
    const offsets = due.map((s) => ({ topic: s.topic, partition: s.partition, offset: s.position as number }));
    await this.sendCommit(offsets);
    due.forEach((s, i) => (s.committed = offsets[i].offset));
  }

  private async sendCommit(offsets: { topic: string; partition: number; offset: number }[]): Promise<void> {
    if (this.memberId === null) throw new Error("not a group member");
    const memberId = this.memberId;
    const memberEpoch = this.memberEpoch;
    try {
      await this.request("POST", this.memberPath("/offsets"), { memberEpoch, offsets });
    } catch (e) {
      if (isFenced(e) && this.running) {
        // left to the heartbeat: it sees the same error and rejoins
        this.requestHeartbeat();
      }
      throw e;
    }
    this.emit("commit", { memberId, memberEpoch, offsets });
  }

  // ---- shutdown --------------------------------------------------------------------------

  private async shutdown(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopController.abort(); // ends an in-flight long poll and the loops' sleeps
    this.wakeHeartbeat?.();
    await Promise.allSettled(this.loops);
    await this.serial(async () => undefined).catch(() => undefined); // a join in progress (stop during run())
    await Promise.allSettled([...this.revocations]);
    for (const s of this.parts.values()) s.status = "revoking";
    await Promise.allSettled([...this.parts.values()].map((s) => s.processing));
    await this.serial(async () => {
      const states = [...this.parts.values()];
      if (this.memberId === null) return;
      if (this.opts.autoCommit) {
        try {
          await this.commitPositions(states);
        } catch (e) {
          this.emit("error", e as Error);
        }
      }
      const memberId = this.memberId;
      this.parts.clear();
      if (states.length > 0) {
        this.emit("revoked", { memberId, memberEpoch: this.memberEpoch, partitions: states.map(tpOf), assignment: [], reason: "stopped" });
        this.emit("rebalance", { memberId, memberEpoch: this.memberEpoch, assignment: [] });
      }
      try {
        await this.request("DELETE", this.memberPath());
      } catch (e) {
        // already gone (expired) is fine; anything else: the broker expires us after the session timeout
        if (!isFenced(e)) this.emit("error", e as Error);
      }
      this.memberId = null;
      this.emit("left", { memberId });
    });
  }
}

/** What commitOffsets() throws once the member was fenced or expired (nothing was committed). */
function membershipLost(): TributaryClientError {
  return new TributaryClientError(
    404,
    "UNKNOWN_MEMBER_ID",
    "the consumer lost its group membership (fenced or expired) and is joining again; nothing was committed",
  );
}

/**
 * The position after processing the record at `offset`: the broker's fetched position once the
 * buffer is empty (so transaction markers after the last record are not left as lag), else offset + 1.
 */
function positionAfter(s: PartitionState, offset: number): number {
  return s.buffer.length === 0 && s.fetched !== null && s.fetched > offset + 1 ? s.fetched : offset + 1;
}

function tpOf(s: PartitionState): TopicPartition {
  return { topic: s.topic, partition: s.partition };
}

function toTopicPartitions(tps: TopicPartition[]): { topic: string; partitions: number[] }[] {
  const out: { topic: string; partitions: number[] }[] = [];
  for (const tp of tps) {
    const last = out[out.length - 1];
    if (last && last.topic === tp.topic) last.partitions.push(tp.partition);
    else out.push({ topic: tp.topic, partitions: [tp.partition] });
  }
  return out;
}
