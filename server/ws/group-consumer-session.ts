/**
 * One WebSocket client's consumer-group memberships (`join-group`): the socket is a KIP-848
 * group member whose heartbeats the server sends on its behalf, every heartbeat interval, for as
 * long as the socket is open; closing the socket leaves the group at once (no session timeout).
 *
 * Per membership, everything that touches the group runs one at a time in a queue: heartbeats,
 * polls, commits, leaving. A member's assignment only changes in its own heartbeats, so a poll
 * (which waits for data) is aborted whenever another operation is queued, and every `records`
 * frame is for a partition the socket owns at that moment, sent before any `assignment` frame
 * that takes the partition away. Revocation follows KIP-848: when a heartbeat's assignment drops
 * partitions, nothing more is delivered for them, their delivered positions are committed
 * (autoCommit), the `assignment` frame (with `revoked`) is sent, and only the next heartbeat —
 * sent at once — stops listing them as owned, which is when the coordinator may grant them to
 * another member. No partition has two owners.
 *
 * Delivery is pulled with `pollGroup` only while the socket drains (its outbound queue under the
 * live-tail high-water mark, see socket-channel.ts), so a slow client costs at most that much memory plus one poll's
 * worth; a group never skips records: a slow member simply consumes slowly.
 *
 * Commit semantics. "Delivered" is the member's position after the last records handed to the
 * socket: past them and past any transaction markers that follow (Kafka commits positions).
 * - autoCommit true (default): the server commits delivered positions with every heartbeat (when
 *   they moved), before giving up revoked partitions, on leave-group and when the socket closes.
 *   Delivered is treated as processed: records in flight (server buffer, TCP) when a connection
 *   drops are not re-delivered to the group — at most about one high-water mark of them.
 * - autoCommit false: only the client's `commit` frames commit (offsets omitted = delivered).
 *   On a revocation the revoked partitions stay owned (but are not delivered) until the client's
 *   next `commit` on the membership — its chance to commit what it processed — or one heartbeat
 *   interval (at least 1 s), whichever comes first; uncommitted records go to the next owner
 *   again (at-least-once).
 */
import type { Broker } from "../broker/broker.ts";
import type { ConsumerGroupHeartbeatResponse } from "../broker/group/consumer-group.ts";
import type { PolledPosition, PolledRecord } from "../broker/group/group-runtime.ts";
import { fromTopicPartitions, keyOf, toTopicPartitions, type TopicPartition } from "../broker/group/topic-partitions.ts";
import { toErrorResponse } from "../errors/error-response.ts";
import { codeOf, hasCode, TributaryError } from "../errors/tributary-error.ts";
import { toRecordJson } from "../present/record-json.ts";
import { MAX_GROUP_MEMBERSHIPS_PER_SOCKET, type TGroupClientMessage, type TLiveServerMessage } from "../schemas/live.ts";
import { DEFAULT_LIVE_LIMITS, type LiveTailLimits } from "./live-tail-session.ts";
import type { SocketChannel } from "./socket-channel.ts";

type JoinMessage = Extract<TGroupClientMessage, { type: "join-group" }>;
type CommitOffset = { topic: string; partition: number; offset: number; metadata?: string | null };

/** How long one poll waits for data; any other operation on the membership cuts it short. */
const POLL_WAIT_MS = 5_000;
/** Pause after a poll failed for a reason that may pass (e.g. a topic deleted under it). */
const POLL_RETRY_MS = 500;
const CONGESTION_RETRY_MS = 50;
const MIN_REVOCATION_GRACE_MS = 1_000;

/** Errors after which the member is gone from the group or cannot go on: the membership ends. */
const isFatal = (e: unknown) =>
  hasCode(e, "UNKNOWN_MEMBER_ID", "FENCED_MEMBER_EPOCH", "GROUP_ID_NOT_FOUND", "NO_OFFSET_FOR_PARTITION", "INVALID_GROUP_ID");
/** Why a fatal error ended a membership: "fenced" when the group no longer knows this member at its epoch. */
const endReason = (e: unknown): "fenced" | "error" => (hasCode(e, "UNKNOWN_MEMBER_ID", "FENCED_MEMBER_EPOCH") ? "fenced" : "error");
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class GroupConsumerSession {
  private readonly members = new Map<string, Membership>();
  private closed = false;
  private congestedSince: number | null = null;

  constructor(
    readonly channel: SocketChannel,
    readonly broker: Broker,
    readonly limits: LiveTailLimits = DEFAULT_LIVE_LIMITS,
    /** The client's address, shown in group descriptions. */
    readonly host = "unknown",
  ) {}

  /** Whether `id` names a membership on this socket (ids are shared with live-tail subscriptions). */
  hasId(id: string): boolean {
    return this.members.has(id);
  }

  /** Memberships held or being joined (they count toward the socket's subscription cap). */
  get size(): number {
    return this.members.size;
  }

  /** Handles join-group, commit and leave-group; errors thrown here become `error` frames for the id. */
  async handle(msg: TGroupClientMessage): Promise<void> {
    if (msg.type === "join-group") return this.join(msg);
    const m = this.members.get(msg.id);
    if (!m) {
      this.send({
        type: "error",
        id: msg.id,
        error: { code: "UNKNOWN_MEMBER_ID", message: `no group membership '${msg.id}' on this socket: send join-group first` },
      });
      return;
    }
    if (msg.type === "commit") await m.commit(msg.offsets);
    else await m.leave();
  }

  /** The socket closed: every membership commits (autoCommit) and leaves its group now. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const m of this.members.values()) m.shutdown();
    this.members.clear();
  }

  send(msg: TLiveServerMessage): void {
    this.channel.send(msg);
  }

  sendError(e: unknown, id: string): void {
    this.send({ type: "error", id, error: toErrorResponse(e).body.error });
  }

  /** True while the socket holds more than the high-water mark; closes a socket congested too long. */
  congested(): boolean {
    if (!this.channel.congested()) {
      this.congestedSince = null;
      return false;
    }
    const now = Date.now();
    this.congestedSince ??= now;
    if (now - this.congestedSince > this.limits.maxCongestedMs) this.channel.close(1008, "client too slow: congested past the limit");
    return true;
  }

  forget(m: Membership): void {
    if (this.members.get(m.id) === m) this.members.delete(m.id);
  }

  private async join(msg: JoinMessage): Promise<void> {
    if (this.members.has(msg.id)) {
      this.send({
        type: "error",
        id: msg.id,
        error: { code: "VALIDATION_FAILED", message: `id '${msg.id}' is already in use on this socket` },
      });
      return;
    }
    if (this.members.size >= MAX_GROUP_MEMBERSHIPS_PER_SOCKET) {
      this.send({
        type: "error",
        id: msg.id,
        error: { code: "VALIDATION_FAILED", message: `at most ${MAX_GROUP_MEMBERSHIPS_PER_SOCKET} group memberships per socket` },
      });
      return;
    }
    if (this.closed) return;
    const m = new Membership(this, msg);
    this.members.set(msg.id, m); // reserved while the join is in flight
    let reply: ConsumerGroupHeartbeatResponse;
    try {
      reply = await this.broker.joinGroup(msg.group, msg, this.host);
    } catch (e) {
      this.forget(m);
      throw e;
    }
    await m.start(reply);
  }
}

class Membership {
  readonly id: string;
  readonly groupId: string;
  private readonly autoCommit: boolean;
  private memberId = "";
  private memberEpoch = 0;
  private heartbeatIntervalMs = 5_000;
  /** Partitions delivered on this socket now. */
  private readonly owned = new Map<string, TopicPartition>();
  /** Revoked, no longer delivered, still reported as owned until the client commits (autoCommit false). */
  private readonly revoking = new Map<string, TopicPartition>();
  /** Per partition: the position after the last records sent to the socket (past transaction markers). */
  private readonly delivered = new Map<string, number>();
  /** Per partition: the offset last committed, so unchanged positions are not committed again. */
  private readonly committed = new Map<string, number>();
  private ended = false;
  private queue: Promise<unknown> = Promise.resolve();
  private queuedOps = 0;
  private pollAbort: AbortController | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private graceTimer: NodeJS.Timeout | null = null;
  private wakeLoop: (() => void) | null = null;

  constructor(
    private readonly session: GroupConsumerSession,
    join: JoinMessage,
  ) {
    this.id = join.id;
    this.groupId = join.group;
    this.autoCommit = join.autoCommit;
  }

  private get broker(): Broker {
    return this.session.broker;
  }

  /** After the join: announces it, sends the first assignment, starts heartbeats and delivery. */
  async start(reply: ConsumerGroupHeartbeatResponse): Promise<void> {
    this.memberId = reply.memberId;
    this.memberEpoch = reply.memberEpoch;
    this.heartbeatIntervalMs = reply.heartbeatIntervalMs;
    if (this.ended) {
      // the socket closed while the join was in flight
      this.leaveQuietly();
      return;
    }
    this.session.send({ type: "group-joined", id: this.id, group: this.groupId, memberId: this.memberId, memberEpoch: this.memberEpoch });
    const releaseNow = await this.op(() => this.apply(reply, true));
    this.scheduleHeartbeat(releaseNow ? 0 : this.heartbeatIntervalMs);
    void this.deliverLoop();
  }

  /** A client `commit`: the given offsets, or the delivered positions. Also acknowledges a revocation. */
  commit(offsets: CommitOffset[] | undefined): Promise<void> {
    return this.op(async () => {
      if (this.ended) throw this.endedError();
      try {
        const list = offsets ?? this.deliveredOffsets([...this.owned.values(), ...this.revoking.values()]);
        const done = await this.broker.commitGroupOffsets(this.groupId, this.memberId, this.memberEpoch, list);
        for (const c of done) this.committed.set(keyOf(c.topic, c.partition), c.offset);
        this.session.send({ type: "committed", id: this.id, offsets: done });
      } finally {
        if (this.revoking.size > 0 && !this.ended) this.release();
      }
    });
  }

  leave(): Promise<void> {
    return this.op(() => this.finish("left"));
  }

  /** The socket closed: stop now; commit (autoCommit) and leave the group in the queue. */
  shutdown(): void {
    this.stopTimers();
    this.pollAbort?.abort();
    this.wake();
    if (!this.memberId) {
      this.ended = true; // start() leaves once the join's reply is in
      return;
    }
    void this.op(() => this.finish("closed")).catch(() => undefined);
  }

  // ---- the operation queue ------------------------------------------------------------------

  /** Runs `fn` after everything queued before it; a poll in progress is cut short. */
  private op<T>(fn: () => Promise<T>): Promise<T> {
    this.queuedOps++;
    this.pollAbort?.abort();
    const run = this.queue.then(() => {
      this.queuedOps--;
      return fn();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private pollOp(): Promise<void> {
    const run = this.queue.then(() => this.poll());
    this.queue = run.catch(() => undefined);
    return run;
  }

  // ---- heartbeats and assignments --------------------------------------------------------------

  private scheduleHeartbeat(ms: number): void {
    if (this.ended) return;
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(() => {
      this.heartbeatTimer = null;
      void this.op(() => this.heartbeat()).catch(() => undefined);
    }, ms);
  }

  private async heartbeat(): Promise<void> {
    if (this.ended) return;
    let next = this.heartbeatIntervalMs;
    try {
      if (this.autoCommit) await this.commitDelivered([...this.owned.values()]);
      const reply = await this.broker.heartbeatGroup(this.groupId, {
        memberId: this.memberId,
        memberEpoch: this.memberEpoch,
        ownedPartitions: toTopicPartitions([...this.owned.values(), ...this.revoking.values()]),
      });
      if (this.ended) return;
      if (await this.apply(reply, false)) next = 0;
    } catch (e) {
      if (isFatal(e)) {
        await this.finish(endReason(e), e);
        return;
      }
      // anything else (e.g. the database while topic metadata is refreshed) may pass: try again
    }
    this.scheduleHeartbeat(next);
  }

  /**
   * Takes a heartbeat reply: partitions no longer assigned stop being delivered and are
   * committed (autoCommit) or wait for the client's commit; new ones start. Sends `assignment`
   * when anything changed (always for the first). Returns whether to heartbeat again at once to
   * release revoked partitions.
   */
  private async apply(reply: ConsumerGroupHeartbeatResponse, first: boolean): Promise<boolean> {
    this.memberEpoch = reply.memberEpoch;
    this.heartbeatIntervalMs = reply.heartbeatIntervalMs;
    const next = new Map(fromTopicPartitions(reply.assignment).map((tp) => [keyOf(tp.topic, tp.partition), tp]));
    const revoked = [...this.owned].filter(([k]) => !next.has(k)).map(([, tp]) => tp);
    const added = [...next].filter(([k]) => !this.owned.has(k));
    if (!first && revoked.length === 0 && added.length === 0) return false;
    for (const tp of revoked) this.owned.delete(keyOf(tp.topic, tp.partition));
    for (const [k, tp] of added) {
      this.owned.set(k, tp);
      // a partition granted (again) starts from the group's committed offset
      this.delivered.delete(k);
      this.committed.delete(k);
    }
    let releaseNow = false;
    if (revoked.length > 0) {
      if (this.autoCommit) {
        await this.commitDelivered(revoked);
        this.forgetPositions(revoked);
        releaseNow = true;
      } else {
        for (const tp of revoked) this.revoking.set(keyOf(tp.topic, tp.partition), tp);
        if (this.graceTimer) clearTimeout(this.graceTimer);
        this.graceTimer = setTimeout(
          () => {
            this.graceTimer = null;
            void this.op(async () => {
              if (!this.ended && this.revoking.size > 0) this.release();
            }).catch(() => undefined);
          },
          Math.max(this.heartbeatIntervalMs, MIN_REVOCATION_GRACE_MS),
        );
      }
    }
    this.session.send({
      type: "assignment",
      id: this.id,
      memberEpoch: this.memberEpoch,
      assignment: toTopicPartitions(this.owned.values()),
      revoked: toTopicPartitions(revoked),
    });
    if (added.length > 0) this.wake();
    return releaseNow;
  }

  /** Stops reporting revoked partitions as owned: the next heartbeat (sent now) releases them. */
  private release(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = null;
    this.forgetPositions([...this.revoking.values()]);
    this.revoking.clear();
    this.scheduleHeartbeat(0);
  }

  private forgetPositions(tps: TopicPartition[]): void {
    for (const tp of tps) {
      this.delivered.delete(keyOf(tp.topic, tp.partition));
      this.committed.delete(keyOf(tp.topic, tp.partition));
    }
  }

  // ---- commits --------------------------------------------------------------------------------

  private deliveredOffsets(tps: TopicPartition[]): CommitOffset[] {
    const out: CommitOffset[] = [];
    for (const tp of tps) {
      const offset = this.delivered.get(keyOf(tp.topic, tp.partition));
      if (offset !== undefined) out.push({ topic: tp.topic, partition: tp.partition, offset });
    }
    return out;
  }

  /** Auto-commit: the delivered positions that moved since they were last committed. */
  private async commitDelivered(tps: TopicPartition[]): Promise<void> {
    const list = this.deliveredOffsets(tps).filter((o) => this.committed.get(keyOf(o.topic, o.partition)) !== o.offset);
    if (list.length === 0) return;
    try {
      const done = await this.broker.commitGroupOffsets(this.groupId, this.memberId, this.memberEpoch, list);
      for (const c of done) this.committed.set(keyOf(c.topic, c.partition), c.offset);
    } catch (e) {
      if (isFatal(e)) throw e;
      // a deleted topic's offsets are dropped anyway
      if (hasCode(e, "UNKNOWN_TOPIC_OR_PARTITION")) return;
      // not the end of the membership: those records may be delivered again (at-least-once)
      this.session.send({
        type: "error",
        id: this.id,
        error: { code: codeOf(e) ?? "INTERNAL", message: `auto-commit failed: ${toErrorResponse(e).body.error.message}` },
      });
    }
  }

  // ---- delivery -------------------------------------------------------------------------------

  private async deliverLoop(): Promise<void> {
    while (!this.ended) {
      if (this.owned.size === 0) {
        await new Promise<void>((resolve) => (this.wakeLoop = resolve));
        continue;
      }
      if (this.session.congested()) {
        await sleep(CONGESTION_RETRY_MS);
        continue;
      }
      try {
        await this.pollOp();
      } catch {
        await sleep(POLL_RETRY_MS);
      }
    }
  }

  private wake(): void {
    const w = this.wakeLoop;
    this.wakeLoop = null;
    w?.();
  }

  /** One poll, in the queue; skipped when another operation is waiting. Sends what it got. */
  private async poll(): Promise<void> {
    if (this.ended || this.queuedOps > 0 || this.owned.size === 0) return;
    const ac = new AbortController();
    this.pollAbort = ac;
    let records: PolledRecord[];
    let positions: PolledPosition[];
    try {
      ({ records, positions } = await this.broker.pollGroup(this.groupId, this.memberId, {
        maxRecords: this.session.limits.maxRecordsPerFrame,
        maxBytes: this.session.limits.maxBytesPerFrame,
        waitMs: POLL_WAIT_MS,
        signal: ac.signal,
      }));
    } catch (e) {
      if (isFatal(e)) {
        await this.finish(endReason(e), e);
        return;
      }
      throw e;
    } finally {
      this.pollAbort = null;
    }
    if (this.ended) return;
    // one frame per partition, in offset order (a poll returns each partition's records together)
    const frames = new Map<string, PolledRecord[]>();
    for (const r of records) {
      const k = keyOf(r.topic, r.partition);
      let list = frames.get(k);
      if (!list) frames.set(k, (list = []));
      list.push(r);
    }
    for (const [k, list] of frames) {
      // only partitions this socket owns (the assignment changes only in this queue, so all of them)
      if (!this.owned.has(k)) continue;
      const { topic, partition } = list[0];
      const last = list[list.length - 1].offset;
      let highWatermark = last + 1;
      try {
        highWatermark = Math.max(highWatermark, (await this.broker.watermarksOf(topic, partition)).highWatermark);
      } catch {
        // the topic is going away; the frame still carries what was read
      }
      this.session.send({
        type: "records",
        id: this.id,
        topic,
        partition,
        highWatermark,
        records: list.map((r) => toRecordJson(topic, partition, r)),
      });
    }
    // delivered = the member's position: past the records sent and any transaction markers after them
    for (const p of positions) {
      const k = keyOf(p.topic, p.partition);
      if (this.owned.has(k)) this.delivered.set(k, p.offset);
    }
  }

  // ---- the end ----------------------------------------------------------------------------------

  /** Ends the membership (in the queue): commits (autoCommit), leaves the group, tells the client. */
  private async finish(reason: "left" | "closed" | "fenced" | "error", error?: unknown): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.stopTimers();
    this.wake();
    this.session.forget(this);
    if (this.autoCommit && reason !== "fenced") {
      try {
        await this.commitDelivered([...this.owned.values(), ...this.revoking.values()]);
      } catch {
        // fatal: the member is gone, so there is nothing to commit with
      }
    }
    this.leaveQuietly();
    if (error !== undefined) this.session.sendError(error, this.id);
    this.session.send({ type: "group-left", id: this.id, reason });
  }

  private leaveQuietly(): void {
    try {
      this.broker.leaveGroup(this.groupId, this.memberId);
    } catch {
      // already gone (expired, fenced, or the group was deleted)
    }
  }

  private stopTimers(): void {
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.heartbeatTimer = null;
    this.graceTimer = null;
  }

  private endedError(): TributaryError {
    return new TributaryError("UNKNOWN_MEMBER_ID", `group membership '${this.id}' has ended`, {
      groupId: this.groupId,
      memberId: this.memberId,
    });
  }
}
