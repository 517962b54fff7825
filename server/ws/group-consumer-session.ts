/**
 * One WebSocket client's consumer-group memberships (`join-group`): the socket is a KIP-848
 * group member whose heartbeats the server sends on its behalf, every heartbeat interval, for as
 * long as the socket is open; closing the socket leaves the group at once (no session timeout).
 *
 * Each membership is a `GroupMember` (server/group-member: the one member loop, shared with the
 * TypeScript client) whose transport is the broker façade. Per membership, everything that
 * touches the group runs one at a time in its queue: heartbeats, polls, commits, leaving. A
 * member's assignment only changes in its own heartbeats, so a poll (which waits for data) is
 * aborted whenever another operation is queued, and every `records` frame is for a partition the
 * socket owns at that moment, sent before any `assignment` frame that takes the partition away.
 * Revocation follows KIP-848: when a heartbeat's assignment drops partitions, nothing more is
 * delivered for them, the `assignment` frame (with `revoked`) is sent, their delivered positions
 * are committed (autoCommit), and only the next heartbeat — sent at once — stops listing them as
 * owned, which is when the coordinator may grant them to another member. No partition has two
 * owners.
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
import type { Broker, PolledRecord } from "../broker/broker.ts";
import { toErrorResponse } from "../errors/error-response.ts";
import { codeOf, hasCode, TributaryError } from "../errors/tributary-error.ts";
import { GroupMember, type CommitOffset, type MemberHost, type MemberTransport } from "../group-member/group-member.ts";
import { keyOf, toTopicPartitions, type TopicPartition } from "../group-member/topic-partitions.ts";
import { toRecordJson } from "../present/record-json.ts";
import { MAX_GROUP_MEMBERSHIPS_PER_SOCKET, type TGroupClientMessage, type TLiveServerMessage } from "../schemas/live.ts";
import { DEFAULT_LIVE_LIMITS, type LiveTailLimits } from "./live-tail-session.ts";
import type { SocketChannel } from "./socket-channel.ts";

type JoinMessage = Extract<TGroupClientMessage, { type: "join-group" }>;

/** How long one poll waits for data; any other operation on the membership cuts it short. */
const POLL_WAIT_MS = 5_000;
/** Pause after a poll failed for a reason that may pass (e.g. a topic deleted under it). */
const POLL_RETRY_MS = 500;
const CONGESTION_RETRY_MS = 50;
const MIN_REVOCATION_GRACE_MS = 1_000;

/** Errors (besides losing the membership) after which the member cannot go on: the membership ends. */
const isFatal = (e: unknown) => hasCode(e, "NO_OFFSET_FOR_PARTITION", "INVALID_GROUP_ID");
/** Why a lost membership ended: "fenced" when the group no longer knows this member at its epoch. */
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
    try {
      await m.start();
    } catch (e) {
      this.forget(m);
      throw e;
    }
  }
}

/**
 * One `join-group`: a `GroupMember` (the shared member loop) whose transport is the broker façade
 * and whose host delivers records to the socket.
 */
class Membership implements MemberHost {
  readonly id: string;
  readonly groupId: string;
  private readonly member: GroupMember;
  /** Partitions delivered on this socket now. */
  private readonly owned = new Set<string>();
  /** Per partition: the position after the last records sent to the socket (past transaction markers). */
  private readonly delivered = new Map<string, number>();
  private wakeLoop: (() => void) | null = null;

  constructor(
    private readonly session: GroupConsumerSession,
    join: JoinMessage,
  ) {
    this.id = join.id;
    this.groupId = join.group;
    const broker = session.broker;
    const transport: MemberTransport = {
      join: () => broker.joinGroup(join.group, join, session.host),
      heartbeat: (r) => broker.heartbeatGroup(join.group, r),
      commit: (r) => broker.commitGroupOffsets(join.group, r.memberId, r.memberEpoch, r.offsets),
      leave: (r) => broker.leaveGroup(join.group, r.memberId),
    };
    this.member = new GroupMember(transport, this, {
      autoCommit: join.autoCommit,
      onFenced: "end",
      revocationGraceMs: (interval) => Math.max(interval, MIN_REVOCATION_GRACE_MS),
      isFatal,
      membershipLost: () => this.endedError(),
    });
  }

  private get broker(): Broker {
    return this.session.broker;
  }

  /** Joins (the `group-joined` and first `assignment` frames), then delivers until the membership ends. */
  async start(): Promise<void> {
    await this.member.start();
    if (!this.member.ended) void this.deliverLoop();
  }

  /** A client `commit`: the given offsets, or the delivered positions. Also acknowledges a revocation. */
  async commit(offsets: CommitOffset[] | undefined): Promise<void> {
    if (this.member.ended) throw this.endedError();
    const done = await this.member.commit(offsets);
    this.session.send({
      type: "committed",
      id: this.id,
      offsets: done.map(({ topic, partition, offset }) => ({ topic, partition, offset })),
    });
  }

  leave(): Promise<void> {
    return this.member.leave("left");
  }

  /** The socket closed: stop now; commit (autoCommit) and leave the group. */
  shutdown(): void {
    this.wake();
    void this.member.leave("closed").catch(() => undefined);
  }

  // ---- the member's host ----------------------------------------------------------------------

  positions(partitions: readonly TopicPartition[]): CommitOffset[] {
    const out: CommitOffset[] = [];
    for (const tp of partitions) {
      const offset = this.delivered.get(keyOf(tp.topic, tp.partition));
      if (offset !== undefined) out.push({ topic: tp.topic, partition: tp.partition, offset });
    }
    return out;
  }

  joined(e: { memberId: string; memberEpoch: number }): void {
    this.session.send({ type: "group-joined", id: this.id, group: this.groupId, memberId: e.memberId, memberEpoch: e.memberEpoch });
  }

  /** Revoked partitions are delivered no more from here; new ones start from the group's committed offset. */
  assignmentChanged(e: {
    memberEpoch: number;
    assigned: TopicPartition[];
    revoking: TopicPartition[];
    assignment: TopicPartition[];
  }): void {
    for (const tp of e.revoking) this.owned.delete(keyOf(tp.topic, tp.partition));
    for (const tp of e.assigned) {
      this.owned.add(keyOf(tp.topic, tp.partition));
      this.delivered.delete(keyOf(tp.topic, tp.partition));
    }
    this.session.send({
      type: "assignment",
      id: this.id,
      memberEpoch: e.memberEpoch,
      assignment: toTopicPartitions(e.assignment),
      revoked: toTopicPartitions(e.revoking),
    });
    if (e.assigned.length > 0) this.wake();
  }

  released(e: { partitions: TopicPartition[] }): void {
    for (const tp of e.partitions) {
      this.owned.delete(keyOf(tp.topic, tp.partition));
      this.delivered.delete(keyOf(tp.topic, tp.partition));
    }
  }

  error(e: unknown, during: string): void {
    // a deleted topic's offsets are dropped anyway; a failed auto-commit is not the end of the
    // membership: those records may be delivered again (at-least-once)
    if (during !== "auto-commit" || hasCode(e, "UNKNOWN_TOPIC_OR_PARTITION")) return;
    this.session.send({
      type: "error",
      id: this.id,
      error: { code: codeOf(e) ?? "INTERNAL", message: `auto-commit failed: ${toErrorResponse(e).body.error.message}` },
    });
  }

  left(e: { reason: "left" | "closed" | "fenced" | "error"; error?: unknown }): void {
    this.owned.clear();
    this.wake();
    this.session.forget(this);
    const reason = e.error !== undefined ? endReason(e.error) : e.reason;
    if (e.error !== undefined) this.session.sendError(e.error, this.id);
    this.session.send({ type: "group-left", id: this.id, reason });
  }

  // ---- delivery -------------------------------------------------------------------------------

  private async deliverLoop(): Promise<void> {
    while (!this.member.ended) {
      if (this.owned.size === 0) {
        await new Promise<void>((resolve) => (this.wakeLoop = resolve));
        continue;
      }
      if (this.session.congested()) {
        await sleep(CONGESTION_RETRY_MS);
        continue;
      }
      try {
        await this.poll();
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

  /** One poll, in the member's queue (skipped when another operation is waiting). Sends what it got. */
  private async poll(): Promise<void> {
    const memberId = this.member.memberId;
    if (memberId === null) return;
    const polled = await this.member.poll((signal) =>
      this.broker.pollGroup(this.groupId, memberId, {
        maxRecords: this.session.limits.maxRecordsPerFrame,
        maxBytes: this.session.limits.maxBytesPerFrame,
        waitMs: POLL_WAIT_MS,
        signal,
      }),
    );
    if (polled === null) {
      // skipped (another operation waits, or the member is leaving): let that run before polling again
      await new Promise<void>((r) => setImmediate(r));
      return;
    }
    if (this.member.ended) return;
    // one frame per partition, in offset order (a poll returns each partition's records together)
    const frames = new Map<string, PolledRecord[]>();
    for (const r of polled.records) {
      const k = keyOf(r.topic, r.partition);
      let list = frames.get(k);
      if (!list) frames.set(k, (list = []));
      list.push(r);
    }
    for (const [k, list] of frames) {
      // only partitions this socket owns (the assignment changes only in the member's queue, so all of them)
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
    for (const p of polled.positions) {
      const k = keyOf(p.topic, p.partition);
      if (this.owned.has(k)) this.delivered.set(k, p.offset);
    }
  }

  private endedError(): TributaryError {
    return new TributaryError("UNKNOWN_MEMBER_ID", `group membership '${this.id}' has ended`, {
      groupId: this.groupId,
      memberId: this.member?.memberId ?? "",
    });
  }
}
