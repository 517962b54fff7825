/**
 * The one KIP-848 group-member loop (consumer side), for every member Tributary runs or serves:
 * the TypeScript client's `Consumer`, the WebSocket group session, and later the stream
 * engine's tasks. It does no I/O of its own: the coordinator is reached through a
 * `MemberTransport` (join, heartbeat, commit, leave), the partitions are consumed by a
 * `MemberHost` (which says where consumption stands and when the records in hand are done), and
 * timers go through an injectable `MemberClock`.
 *
 * What it guarantees:
 * - One coordinator operation at a time (`exclusive`): join, heartbeat, commit, leave and the
 *   host's polls run in one queue, so every commit carries the epoch of the last reply and every
 *   poll is made with the assignment the member knows. A poll (`poll`) yields: it is skipped while
 *   another operation waits, and its signal aborts when one is queued.
 * - Heartbeats at the interval the coordinator gives (from its last reply), at once after a release.
 * - A reply that takes partitions away: the host stops consuming them and finishes the records in
 *   hand (`drain`, outside the queue, so handlers may still commit), their positions are committed
 *   (autoCommit) — or, without autoCommit, the member waits for the host's own commit up to a
 *   grace period — and only then does the next heartbeat stop listing them: no partition has two
 *   owners, and the next one starts exactly where this one stopped.
 * - Fenced (UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH, GROUP_ID_NOT_FOUND): everything owned is dropped
 *   without a commit, commits waiting in the queue fail at once, and the member joins again with
 *   epoch 0 (`onFenced: "rejoin"`) or ends (`"end"`).
 * - Leaving: the records in hand finish, positions are committed (autoCommit), then the leave.
 */
import { hasCode } from "../errors/tributary-error.ts";
import { assertTransition, MEMBER_ACTIVE_STATES, type MemberState } from "./member-states.ts";
import {
  fromTopicPartitions,
  keyOf,
  sortTopicPartitions,
  toTopicPartitions,
  type TopicPartition,
  type TopicPartitions,
} from "./topic-partitions.ts";

/** A ConsumerGroupHeartbeat reply: who the member is now and its full assignment. */
export interface HeartbeatReply {
  memberId: string;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: TopicPartitions[];
}

/** An offset to commit: the next offset to consume of a partition (its position). */
export interface CommitOffset {
  topic: string;
  partition: number;
  offset: number;
  metadata?: string | null;
}

/** How the member reaches the group coordinator. Errors carry the error table's `code`. */
export interface MemberTransport {
  /** A heartbeat at epoch 0: joins as a new member. */
  join(): Promise<HeartbeatReply>;
  heartbeat(request: { memberId: string; memberEpoch: number; ownedPartitions: TopicPartitions[] }): Promise<HeartbeatReply>;
  /** Commits the offsets, fenced by the member's id and epoch; resolves with what was committed. */
  commit(request: { memberId: string; memberEpoch: number; offsets: CommitOffset[] }): Promise<CommitOffset[]>;
  /** A heartbeat at epoch -1. */
  leave(request: { memberId: string; memberEpoch: number }): Promise<void> | void;
}

/** The first reply of a join, and every reply that changes the assignment. */
export interface AssignmentChange {
  memberId: string;
  memberEpoch: number;
  /** Consume these from now on (from the group's committed offset). */
  assigned: TopicPartition[];
  /** Stop consuming these now; they stay owned until released. */
  revoking: TopicPartition[];
  /** What the member consumes after the change (without partitions being revoked). */
  assignment: TopicPartition[];
  /** The first reply of a join. */
  first: boolean;
}

export type ReleaseReason =
  /** The coordinator moved them elsewhere: finished, committed (autoCommit), then released. */
  | "revoked"
  /** The member was fenced: dropped without a commit (they may have a new owner already). */
  | "lost"
  /** The member is leaving: finished, committed (autoCommit), then it left. */
  | "stopped";

export type LeaveReason = "left" | "closed" | "fenced" | "error";

/** What a member does with its partitions; only `positions` is required. */
export interface MemberHost {
  /** Where consumption stands: the offset to commit per partition; partitions without one are left out. */
  positions(partitions: readonly TopicPartition[]): CommitOffset[];
  joined?(e: { memberId: string; memberEpoch: number; rejoin: boolean }): void;
  assignmentChanged?(e: AssignmentChange): void;
  /** Stop consuming these partitions; resolve once the records in hand are processed (positions final). */
  drain?(partitions: readonly TopicPartition[]): Promise<void> | void;
  released?(e: {
    memberId: string;
    memberEpoch: number;
    partitions: TopicPartition[];
    assignment: TopicPartition[];
    reason: ReleaseReason;
  }): void;
  committed?(e: { memberId: string; memberEpoch: number; offsets: CommitOffset[]; auto: boolean }): void;
  /** A failure the member handled itself (it retries, rejoins or ends). */
  error?(e: unknown, during: "join" | "heartbeat" | "auto-commit" | "poll" | "leave"): void;
  left?(e: { memberId: string; reason: LeaveReason; error?: unknown }): void;
}

export interface MemberClock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const SYSTEM_CLOCK: MemberClock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface GroupMemberOptions {
  /** Commit positions automatically: periodically, before a release and when leaving. */
  autoCommit: boolean;
  /** Auto-commit period; omitted: with every heartbeat. */
  autoCommitIntervalMs?: number;
  /** After being fenced: join again as a new member, or end the membership. */
  onFenced: "rejoin" | "end";
  /** Without autoCommit: how long revoked partitions wait for the host's commit (0: not at all). */
  revocationGraceMs?: (heartbeatIntervalMs: number) => number;
  /** Whether a failed join is tried again (after retryBackoffMs); default never. */
  retryJoin?: (e: unknown, rejoin: boolean) => boolean;
  retryBackoffMs?: number;
  /** Errors (besides being fenced) after which the membership cannot go on: it commits and ends. */
  isFatal?: (e: unknown) => boolean;
  /** What a commit throws once the membership is lost (fenced, ended): nothing was committed. */
  membershipLost: () => Error;
}

/** The coordinator no longer knows this member at its epoch (or the group is gone). */
export const isMembershipLost = (e: unknown): boolean => hasCode(e, "UNKNOWN_MEMBER_ID", "FENCED_MEMBER_EPOCH", "GROUP_ID_NOT_FOUND");

const noop = () => undefined;
/** A host's commit is accepted while the member is active, and while it leaves (its records in hand finish). */
const COMMITTING_STATES: ReadonlySet<MemberState> = new Set([...MEMBER_ACTIVE_STATES, "PrepareLeaving"]);

export class GroupMember {
  private currentState: MemberState = "Unjoined";
  private id: string | null = null;
  private epoch = 0;
  private interval = 5_000;
  private joins = 0;
  /** Owned partitions: consumed ("active") or being given up ("revoking"). */
  private readonly owned = new Map<string, { tp: TopicPartition; status: "active" | "revoking" }>();
  /** Per partition: the offset last committed, so unchanged positions are not committed again. */
  private readonly lastCommitted = new Map<string, number>();
  /** the last operation's end, resolved with nothing: a poll's records must not stay alive in it until the next operation */
  private queue: Promise<unknown> = Promise.resolve();
  private queuedOps = 0;
  private pollAbort: AbortController | null = null;
  private heartbeatTimer: unknown = null;
  private commitTimer: unknown = null;
  private stopping = false;
  /** Abandoned (see abandon()): nothing is ever sent again. */
  private abandoned = false;
  private leaving: Promise<void> | null = null;
  private readonly revocations = new Set<Promise<void>>();
  /** Resolved by a commit from the host: the revocation waiting for it may release. */
  private commitSeen: (() => void) | null = null;
  /** Commits in progress: failed at once when the membership is lost. */
  private readonly lostWaiters = new Set<(e: Error) => void>();

  constructor(
    private readonly transport: MemberTransport,
    private readonly host: MemberHost,
    private readonly options: GroupMemberOptions,
    private readonly clock: MemberClock = SYSTEM_CLOCK,
  ) {}

  get state(): MemberState {
    return this.currentState;
  }

  /** The member id while the coordinator knows this member; null before the join, while rejoining and after leaving. */
  get memberId(): string | null {
    return this.id;
  }

  get memberEpoch(): number {
    return this.epoch;
  }

  get heartbeatIntervalMs(): number {
    return this.interval;
  }

  /** Bumped on every join: work begun under an older membership is discarded. */
  get incarnation(): number {
    return this.joins;
  }

  get ended(): boolean {
    return this.currentState === "Left";
  }

  /** Every owned partition, including those being given up (what heartbeats report). */
  ownedPartitions(): TopicPartition[] {
    return sortTopicPartitions([...this.owned.values()].map((o) => o.tp));
  }

  /** Whether the partition is owned and consumed (not being given up). */
  isActive(topic: string, partition: number): boolean {
    return this.owned.get(keyOf(topic, partition))?.status === "active";
  }

  /** Joins; resolves once the first reply is applied. Throws when the join fails (and is not retried). */
  async start(): Promise<void> {
    await this.exclusive(() => this.join(false));
  }

  /**
   * Commits the given offsets, or the host's positions of every owned partition; also tells a
   * revocation waiting for the host's commit that it may release. Fails at once when the
   * membership is lost (fenced, or ending).
   */
  async commit(offsets?: CommitOffset[]): Promise<CommitOffset[]> {
    if (!COMMITTING_STATES.has(this.currentState) || this.id === null) throw this.options.membershipLost();
    const incarnation = this.joins;
    let onLost!: (e: Error) => void;
    const lost = new Promise<never>((_, reject) => (onLost = reject));
    this.lostWaiters.add(onLost);
    const run = this.exclusive(async () => {
      try {
        if (incarnation !== this.joins || this.id === null || !COMMITTING_STATES.has(this.currentState)) {
          throw this.options.membershipLost();
        }
        return await this.send(offsets ?? this.host.positions(this.ownedPartitions()), false);
      } catch (e) {
        if (isMembershipLost(e)) this.scheduleHeartbeat(0); // the heartbeat sees it too, and handles it
        throw e;
      } finally {
        this.acknowledgeRevocation();
      }
    });
    run.catch(noop);
    try {
      return await Promise.race([run, lost]);
    } finally {
      this.lostWaiters.delete(onLost);
    }
  }

  /** Leaves the group: finishes the records in hand, commits (autoCommit), leaves. Idempotent. */
  leave(reason: "left" | "closed" = "left"): Promise<void> {
    this.leaving ??= this.shutdown(reason);
    return this.leaving;
  }

  /**
   * Stops at once, as a crashed process would: no more heartbeats, polls, commits, and no leave —
   * the coordinator removes the member after its session timeout and its partitions go to the
   * others then. Positions not yet committed are lost (their records are read again). Final.
   */
  abandon(): void {
    this.abandoned = true;
    this.stopping = true;
    this.stopTimers();
    this.pollAbort?.abort();
    this.acknowledgeRevocation();
    for (const fail of [...this.lostWaiters]) fail(this.options.membershipLost());
  }

  /** Heartbeats now instead of at the next interval. */
  heartbeatNow(): void {
    this.scheduleHeartbeat(0);
  }

  /** Runs `fn` after every coordinator operation queued before it; a poll in progress is cut short. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.queuedOps++;
    this.pollAbort?.abort();
    const run = this.queue.then(
      () => {
        this.queuedOps--;
        return fn();
      },
      () => {
        this.queuedOps--;
        return fn();
      },
    );
    this.queue = run.then(noop, noop);
    return run;
  }

  /**
   * A host's fetch, in the queue: skipped (null) while another operation waits or the member
   * consumes nothing; `signal` aborts when another operation is queued. Being fenced (or a fatal
   * error) is handled here and gives null; other errors are the caller's.
   */
  poll<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T | null> {
    const run = this.queue.then(async () => {
      if (this.queuedOps > 0 || !MEMBER_ACTIVE_STATES.has(this.currentState) || this.stopping) return null;
      const ac = new AbortController();
      this.pollAbort = ac;
      try {
        return await fn(ac.signal);
      } catch (e) {
        if (await this.handleLoss(e, "poll")) return null;
        throw e;
      } finally {
        this.pollAbort = null;
      }
    });
    this.queue = run.then(noop, noop);
    return run;
  }

  // ---- joining ------------------------------------------------------------------------------

  private to(next: MemberState): void {
    if (next === this.currentState) return;
    assertTransition(this.currentState, next);
    this.currentState = next;
  }

  /** Joins with epoch 0 (in the queue), retrying while `retryJoin` says so. */
  private async join(rejoin: boolean): Promise<void> {
    for (;;) {
      this.to("Joining");
      let reply: HeartbeatReply;
      try {
        reply = await this.transport.join();
      } catch (e) {
        const retry = !this.stopping && (this.options.retryJoin?.(e, rejoin) ?? false);
        if (!retry) {
          this.to("Left");
          if (rejoin) this.host.left?.({ memberId: "", reason: "error", error: e });
          throw e;
        }
        this.host.error?.(e, "join");
        await this.sleep(this.options.retryBackoffMs ?? 500);
        if (this.stopping) {
          this.to("Left");
          throw e;
        }
        continue;
      }
      this.joins++;
      this.id = reply.memberId;
      this.epoch = reply.memberEpoch;
      this.interval = reply.heartbeatIntervalMs;
      if (this.stopping) {
        // left while the join was in flight
        await this.sendLeave();
        this.to("Left");
        return;
      }
      this.to("Stable");
      this.host.joined?.({ memberId: reply.memberId, memberEpoch: reply.memberEpoch, rejoin });
      this.apply(reply, true);
      this.scheduleHeartbeat(this.interval);
      this.scheduleAutoCommit();
      return;
    }
  }

  // ---- heartbeats and assignments -------------------------------------------------------------

  private scheduleHeartbeat(ms: number): void {
    if (this.stopping || this.currentState === "Left") return;
    if (this.heartbeatTimer !== null) this.clock.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = this.clock.setTimeout(() => {
      this.heartbeatTimer = null;
      void this.exclusive(() => this.heartbeat()).catch(noop);
    }, ms);
  }

  private async heartbeat(): Promise<void> {
    if (!MEMBER_ACTIVE_STATES.has(this.currentState) || this.stopping || this.id === null) return;
    try {
      if (this.options.autoCommit && this.options.autoCommitIntervalMs === undefined) await this.autoCommit(this.activePartitions());
      const reply = await this.transport.heartbeat({
        memberId: this.id,
        memberEpoch: this.epoch,
        ownedPartitions: toTopicPartitions(this.ownedPartitions()),
      });
      if (this.stopping || !MEMBER_ACTIVE_STATES.has(this.currentState)) return;
      this.epoch = reply.memberEpoch;
      this.interval = reply.heartbeatIntervalMs;
      this.apply(reply, false);
      if (this.currentState === "Acknowledging") this.to("Stable");
    } catch (e) {
      if (await this.handleLoss(e, "heartbeat")) return;
      // anything else may pass (e.g. the database while topic metadata is refreshed): try again
      this.host.error?.(e, "heartbeat");
    }
    this.scheduleHeartbeat(this.interval);
  }

  /**
   * Takes a reply's assignment: new partitions are consumed at once; partitions it leaves out
   * stop being consumed and are given up in the background (drain, commit, release).
   */
  private apply(reply: HeartbeatReply, first: boolean): void {
    const target = new Map(fromTopicPartitions(reply.assignment).map((tp) => [keyOf(tp.topic, tp.partition), tp]));
    const assigned: TopicPartition[] = [];
    for (const [k, tp] of target) {
      // a partition still being given up is not granted again before it is released
      if (this.owned.has(k)) continue;
      this.owned.set(k, { tp, status: "active" });
      this.lastCommitted.delete(k);
      assigned.push(tp);
    }
    const revoking: TopicPartition[] = [];
    for (const [k, o] of this.owned) {
      if (o.status === "active" && !target.has(k)) {
        o.status = "revoking";
        revoking.push(o.tp);
      }
    }
    if (!first && assigned.length === 0 && revoking.length === 0) return;
    if (revoking.length > 0) this.to("Reconciling");
    this.host.assignmentChanged?.({
      memberId: reply.memberId,
      memberEpoch: reply.memberEpoch,
      assigned: sortTopicPartitions(assigned),
      revoking: sortTopicPartitions(revoking),
      assignment: this.activePartitions(),
      first,
    });
    if (revoking.length > 0) this.revoke(revoking);
  }

  private revoke(partitions: TopicPartition[]): void {
    const incarnation = this.joins;
    const stillOurs = () => incarnation === this.joins && this.currentState === "Reconciling" && !this.stopping;
    const task = (async () => {
      await this.host.drain?.(partitions);
      if (this.options.autoCommit) {
        await this.exclusive(async () => {
          if (!stillOurs()) return;
          try {
            await this.autoCommit(partitions);
          } catch (e) {
            await this.handleLoss(e, "auto-commit");
          }
        });
      } else {
        const grace = this.options.revocationGraceMs?.(this.interval) ?? 0;
        if (grace > 0) await Promise.race([new Promise<void>((r) => (this.commitSeen = r)), this.sleep(grace)]);
      }
      await this.exclusive(async () => {
        if (stillOurs()) this.release(partitions);
      });
    })();
    const tracked = task.catch((e) => this.host.error?.(e, "auto-commit"));
    this.revocations.add(tracked);
    void tracked.finally(() => this.revocations.delete(tracked));
  }

  private acknowledgeRevocation(): void {
    const seen = this.commitSeen;
    this.commitSeen = null;
    seen?.();
  }

  /** Stops reporting the partitions as owned: the next heartbeat (sent now) releases them. */
  private release(partitions: TopicPartition[]): void {
    for (const tp of partitions) {
      this.owned.delete(keyOf(tp.topic, tp.partition));
      this.lastCommitted.delete(keyOf(tp.topic, tp.partition));
    }
    if (![...this.owned.values()].some((o) => o.status === "revoking")) this.to("Acknowledging");
    this.host.released?.({
      memberId: this.id ?? "",
      memberEpoch: this.epoch,
      partitions: sortTopicPartitions(partitions),
      assignment: this.ownedPartitions(),
      reason: "revoked",
    });
    this.scheduleHeartbeat(0);
  }

  private activePartitions(): TopicPartition[] {
    return sortTopicPartitions([...this.owned.values()].filter((o) => o.status === "active").map((o) => o.tp));
  }

  // ---- commits --------------------------------------------------------------------------------

  private scheduleAutoCommit(): void {
    const ms = this.options.autoCommitIntervalMs;
    if (!this.options.autoCommit || ms === undefined || this.stopping || this.currentState === "Left" || this.commitTimer !== null) return;
    this.commitTimer = this.clock.setTimeout(() => {
      this.commitTimer = null;
      void this.exclusive(async () => {
        if (!MEMBER_ACTIVE_STATES.has(this.currentState) || this.stopping) return;
        try {
          await this.autoCommit(this.activePartitions());
        } catch (e) {
          if (isMembershipLost(e)) this.scheduleHeartbeat(0); // the heartbeat sees it too, and rejoins
          this.host.error?.(e, "auto-commit");
        }
      })
        .catch(noop)
        .finally(() => this.scheduleAutoCommit());
    }, ms);
  }

  /**
   * Commits the positions of these partitions that moved since their last commit. Throws when the
   * membership is lost or cannot go on; other failures are reported (the records may come again).
   */
  private async autoCommit(partitions: TopicPartition[]): Promise<void> {
    const due = this.host.positions(partitions).filter((o) => this.lastCommitted.get(keyOf(o.topic, o.partition)) !== o.offset);
    if (due.length === 0 || this.id === null) return;
    try {
      await this.send(due, true);
    } catch (e) {
      if (isMembershipLost(e) || this.options.isFatal?.(e)) throw e;
      this.host.error?.(e, "auto-commit");
    }
  }

  private async send(offsets: CommitOffset[], auto: boolean): Promise<CommitOffset[]> {
    if (this.abandoned) throw this.options.membershipLost();
    const memberId = this.id!;
    const memberEpoch = this.epoch;
    const done = await this.transport.commit({ memberId, memberEpoch, offsets });
    for (const c of done) if (this.owned.has(keyOf(c.topic, c.partition))) this.lastCommitted.set(keyOf(c.topic, c.partition), c.offset);
    this.host.committed?.({ memberId, memberEpoch, offsets: done, auto });
    return done;
  }

  // ---- fenced, fatal, leaving ---------------------------------------------------------------

  /** In the queue: handles an error that ends this membership; false for any other error. */
  private async handleLoss(e: unknown, during: "heartbeat" | "poll" | "auto-commit"): Promise<boolean> {
    if (isMembershipLost(e)) {
      if (this.stopping || !MEMBER_ACTIVE_STATES.has(this.currentState)) return true;
      this.host.error?.(e, during);
      await this.fence(e);
      return true;
    }
    if (this.options.isFatal?.(e)) {
      if (this.stopping || !MEMBER_ACTIVE_STATES.has(this.currentState)) return true;
      this.host.error?.(e, during);
      await this.end("error", e, true);
      return true;
    }
    return false;
  }

  /** Fenced or expired: what was owned may be someone else's already. Drop it, commit nothing, rejoin or end. */
  private async fence(e: unknown): Promise<void> {
    this.to("Fenced");
    this.stopTimers();
    for (const fail of [...this.lostWaiters]) fail(this.options.membershipLost());
    const lost = this.ownedPartitions();
    for (const o of this.owned.values()) o.status = "revoking";
    await this.host.drain?.(lost);
    const memberId = this.id ?? "";
    this.owned.clear();
    this.lastCommitted.clear();
    if (lost.length > 0) this.host.released?.({ memberId, memberEpoch: this.epoch, partitions: lost, assignment: [], reason: "lost" });
    if (this.options.onFenced === "rejoin" && !this.stopping) {
      this.id = null;
      await this.join(true).catch(noop);
      return;
    }
    this.to("Leaving");
    await this.sendLeave();
    this.id = null;
    this.to("Left");
    this.host.left?.({ memberId, reason: "fenced", error: e });
  }

  private async shutdown(reason: "left" | "closed"): Promise<void> {
    this.stopping = true;
    this.stopTimers();
    this.pollAbort?.abort();
    this.acknowledgeRevocation();
    await Promise.allSettled([...this.revocations]);
    // a join in flight, a fence or rejoin in progress: let it finish first
    await this.exclusive(async () => undefined).catch(noop);
    if (!MEMBER_ACTIVE_STATES.has(this.currentState)) {
      if (this.currentState === "Unjoined") this.to("Left");
      return;
    }
    await this.end(reason, undefined, false);
  }

  /** Finishes the records in hand, commits (autoCommit, unless lost), leaves. `inQueue`: called from a queued operation. */
  private async end(reason: LeaveReason, error: unknown, inQueue: boolean): Promise<void> {
    this.to("PrepareLeaving");
    this.stopTimers();
    const all = this.ownedPartitions();
    for (const o of this.owned.values()) o.status = "revoking";
    const finish = async () => {
      if (this.currentState !== "PrepareLeaving") return;
      if (this.options.autoCommit) {
        try {
          await this.autoCommit(all);
        } catch (e) {
          // the membership is lost or cannot go on: nothing to commit with
          this.host.error?.(e, "leave");
        }
      }
      const memberId = this.id ?? "";
      this.owned.clear();
      this.lastCommitted.clear();
      if (all.length > 0) this.host.released?.({ memberId, memberEpoch: this.epoch, partitions: all, assignment: [], reason: "stopped" });
      this.to("Leaving");
      await this.sendLeave();
      this.id = null;
      this.to("Left");
      for (const fail of [...this.lostWaiters]) fail(this.options.membershipLost());
      this.host.left?.({ memberId, reason, error });
    };
    if (inQueue) {
      // a fatal error: nothing more is consumed, the host's handlers are not waited for
      await finish();
      return;
    }
    await this.host.drain?.(all);
    await this.exclusive(finish);
  }

  private async sendLeave(): Promise<void> {
    if (this.id === null || this.abandoned) return;
    try {
      await this.transport.leave({ memberId: this.id, memberEpoch: this.epoch });
    } catch (e) {
      // already gone (expired, fenced, the group deleted) is fine; the coordinator expires us otherwise
      if (!isMembershipLost(e)) this.host.error?.(e, "leave");
    }
  }

  private stopTimers(): void {
    if (this.heartbeatTimer !== null) this.clock.clearTimeout(this.heartbeatTimer);
    if (this.commitTimer !== null) this.clock.clearTimeout(this.commitTimer);
    this.heartbeatTimer = null;
    this.commitTimer = null;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => this.clock.setTimeout(resolve, ms));
  }
}
