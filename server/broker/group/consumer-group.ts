/**
 * One consumer group under KIP-848's ConsumerGroupHeartbeat protocol, in memory: membership,
 * epochs, the server-side target assignment and each member's reconciliation towards it. Pure:
 * no I/O, time is passed in as `now` (ms), so persistence and transport wrap it from outside.
 *
 * Epochs (KIP-848):
 * - groupEpoch: bumped whenever anything the assignment depends on changes — a member joins,
 *   leaves or is expired, a subscription changes, or the subscribed topics' metadata changes.
 * - assignmentEpoch: the groupEpoch the current target assignment was computed at. The target is
 *   recomputed eagerly in the same call that bumps the group epoch, so the two are equal between
 *   calls; they are kept apart because a deferred or batched assignor would separate them.
 * - memberEpoch: the assignment epoch the member has reconciled to. 0 in a request means join,
 *   -1 means leave. A member that must give partitions up stays at its old epoch until its
 *   heartbeat no longer lists them — so it can still commit them with that epoch — and only then
 *   moves to the assignment epoch. Commits must carry the member's current epoch exactly.
 *
 * Ownership: a partition belongs to a member from the reply that grants it until the coordinator
 * sees it released (a heartbeat whose ownedPartitions omits it, a leave, or an expiry). `owners`
 * is that relation; a partition is only ever granted while it has no owner, so no partition has
 * two owners at any moment, even mid-rebalance.
 */
import type { LinearRegex } from "../../cel/regex.ts";
import { ASSIGNORS, DEFAULT_ASSIGNOR, type AssignorName } from "./assignors.ts";
import { GroupError, groupNotFound, invalidGroupRequest, unknownMember } from "../errors.ts";
import { assertTransition, type GroupState } from "./group-states.ts";
import {
  parseRequest,
  parseTopicMetadata,
  type ConsumerGroupHeartbeatRequest,
  type ConsumerGroupHeartbeatResponse,
  type ParsedRequest,
} from "./heartbeat-request.ts";
import {
  intersect,
  keyOf,
  keySet,
  sameTopicPartitions,
  sortTopicPartitions,
  subtract,
  toTopicPartitions,
  tpKey,
  type TopicPartition,
  type TopicPartitionKey,
  type TopicPartitions,
} from "./topic-partitions.ts";

export type { ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse } from "./heartbeat-request.ts";

export interface GroupConfig {
  /** Sent in every reply; how often members heartbeat (Kafka: group.consumer.heartbeat.interval.ms). */
  heartbeatIntervalMs: number;
  /** A member silent this long is removed (Kafka: group.consumer.session.timeout.ms). */
  sessionTimeoutMs: number;
  /** Used when a join names no rebalanceTimeoutMs (the Java client sends max.poll.interval.ms). */
  defaultRebalanceTimeoutMs: number;
  /** Joins beyond this many members fail with GROUP_MAX_SIZE_REACHED. */
  maxSize: number;
  /** Assignor for a group whose first member names none. */
  defaultAssignor: AssignorName;
}

export const DEFAULT_GROUP_CONFIG: Readonly<GroupConfig> = {
  heartbeatIntervalMs: 5_000,
  sessionTimeoutMs: 45_000,
  defaultRebalanceTimeoutMs: 300_000,
  maxSize: Number.POSITIVE_INFINITY,
  defaultAssignor: DEFAULT_ASSIGNOR,
};

/** A member's progress towards its target (Kafka's MemberState, plus a not-yet-heartbeated one). */
export type MemberReconciliationState =
  /** Owns exactly its target at the assignment epoch. */
  | "Stable"
  /** Has partitions to give up: told to (pending revocation) or about to be on its next heartbeat. */
  | "UnrevokedPartitions"
  /** At the assignment epoch, but some target partitions are still owned by others. */
  | "UnreleasedPartitions"
  /** Nothing to give up, but has not heartbeated since the target last changed. */
  | "Reconciling";

export interface MemberDescription {
  memberId: string;
  memberEpoch: number;
  clientId: string;
  host: string;
  subscribedTopicNames: string[] | null;
  subscribedTopicRegex: string | null;
  /** The topics the subscription currently resolves to (that exist). */
  subscribedTopics: string[];
  /** The assignor this member asked for, if any (the group's is `GroupDescription.assignor`). */
  serverAssignor: AssignorName | null;
  /** What the member owns and may consume now (the last reply's assignment). */
  assignment: TopicPartitions[];
  /** Still owned, told to give up, not yet released. */
  pendingRevocation: TopicPartitions[];
  targetAssignment: TopicPartitions[];
  state: MemberReconciliationState;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  lastHeartbeatMs: number;
}

export interface GroupDescription {
  groupId: string;
  protocolType: "consumer";
  state: GroupState;
  groupEpoch: number;
  assignmentEpoch: number;
  /** null while the group is empty: the next first member chooses. */
  assignor: AssignorName | null;
  /** Sorted by memberId. */
  members: MemberDescription[];
}

export type MemberRemovalReason = "left" | "session-timeout" | "rebalance-timeout" | "rejoined";

export interface ExpiredMember {
  memberId: string;
  reason: Extract<MemberRemovalReason, "session-timeout" | "rebalance-timeout">;
}

/** For the WebSocket/metrics layer; delivered synchronously, in order, once a call's changes are complete. */
export type GroupEvent =
  | { type: "state-changed"; groupId: string; from: GroupState; to: GroupState }
  | { type: "member-joined"; groupId: string; memberId: string; clientId: string }
  | { type: "member-removed"; groupId: string; memberId: string; clientId: string; reason: MemberRemovalReason }
  /** The group epoch (Kafka's generation) moved: a member joined or left, or a subscription or topic changed. */
  | { type: "epoch-bumped"; groupId: string; groupEpoch: number }
  /** What a member owns or is asked to give up changed (a reconciliation step). */
  | {
      type: "assignment-changed";
      groupId: string;
      memberId: string;
      memberEpoch: number;
      assignment: TopicPartitions[];
      pendingRevocation: TopicPartitions[];
    };

export interface ConsumerGroupOptions {
  /** Topic → partition count for every topic (regex subscriptions match against these names). */
  topics?: ReadonlyMap<string, number>;
  config?: Partial<GroupConfig>;
  /** Member id generator for joins that bring none; injectable for deterministic tests. */
  newMemberId?: () => string;
  onEvent?: (event: GroupEvent) => void;
}

interface Member {
  readonly memberId: string;
  memberEpoch: number;
  /** Accepted on a heartbeat too, in case the reply that moved the member on was lost. */
  previousMemberEpoch: number;
  clientId: string;
  host: string;
  subscribedTopicNames?: string[];
  subscribedTopicRegex?: LinearRegex;
  /**
   * The subscription resolved against the topic names of `version`: a heartbeat reuses it, and
   * after a topic change only new names are matched (`regexMatches` remembers the others).
   */
  resolved?: { version: number; topics: string[] };
  regexMatches?: Map<string, boolean>;
  serverAssignor?: AssignorName;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  lastHeartbeatMs: number;
  /** Owned and currently part of the reply assignment. */
  assigned: TopicPartition[];
  /** Owned, left out of the reply assignment, waiting for the client to let go. */
  pendingRevocation: TopicPartition[];
  /** Set while revoking: past it the member is removed so it cannot block the group forever. */
  revocationDeadlineMs?: number;
}

/** Group ids become storage keys and URL segments: non-empty and bounded. */
export const MAX_GROUP_ID_LENGTH = 255;

export function validateGroupId(groupId: unknown): asserts groupId is string {
  if (typeof groupId !== "string" || groupId.trim().length === 0 || groupId.length > MAX_GROUP_ID_LENGTH) {
    throw new GroupError("INVALID_GROUP_ID", `group id must be a non-empty string of at most ${MAX_GROUP_ID_LENGTH} characters`, {
      groupId,
    });
  }
}

/** Config comes from the broker's own settings, so a bad one is a programming error (RangeError). */
function validateConfig(c: GroupConfig): GroupConfig {
  const positive = (n: number) => n > 0 && (Number.isInteger(n) || n === Number.POSITIVE_INFINITY);
  if (!positive(c.heartbeatIntervalMs) || !positive(c.sessionTimeoutMs) || !positive(c.defaultRebalanceTimeoutMs) || !positive(c.maxSize)) {
    throw new RangeError("group config: intervals, timeouts and maxSize must be positive integers");
  }
  // Members heartbeat every interval; a session shorter than that would expire healthy members.
  if (c.heartbeatIntervalMs >= c.sessionTimeoutMs) throw new RangeError("group config: heartbeatIntervalMs must be below sessionTimeoutMs");
  if (!Object.hasOwn(ASSIGNORS, c.defaultAssignor)) throw new RangeError(`group config: unknown defaultAssignor '${c.defaultAssignor}'`);
  return c;
}

export class ConsumerGroup {
  readonly groupId: string;
  private readonly config: GroupConfig;
  private readonly newMemberId: () => string;
  private readonly onEvent?: (event: GroupEvent) => void;
  private topics: Map<string, number>;
  /** Bumped when the set of topic names changes (not their partition counts). */
  private topicNamesVersion = 0;
  private readonly members = new Map<string, Member>();
  private target = new Map<string, TopicPartition[]>();
  private readonly owners = new Map<TopicPartitionKey, string>();
  private _state: GroupState = "Empty";
  private _groupEpoch = 0;
  private _assignmentEpoch = 0;
  private _assignor: AssignorName | undefined;
  /** The subscribed topics' metadata the target was computed from; a change bumps the epoch. */
  private subscriptionMetadata = "";
  private readonly pendingEvents: GroupEvent[] = [];

  constructor(groupId: string, options: ConsumerGroupOptions = {}) {
    validateGroupId(groupId);
    this.groupId = groupId;
    this.config = validateConfig({ ...DEFAULT_GROUP_CONFIG, ...options.config });
    this.newMemberId = options.newMemberId ?? (() => globalThis.crypto.randomUUID());
    this.onEvent = options.onEvent;
    this.topics = parseTopicMetadata(options.topics ?? new Map());
  }

  get state(): GroupState {
    return this._state;
  }
  get groupEpoch(): number {
    return this._groupEpoch;
  }
  get assignmentEpoch(): number {
    return this._assignmentEpoch;
  }
  /** The assignor in use; undefined while the group is empty. */
  get assignor(): AssignorName | undefined {
    return this._assignor;
  }
  get size(): number {
    return this.members.size;
  }
  get heartbeatIntervalMs(): number {
    return this.config.heartbeatIntervalMs;
  }

  /** Join: a heartbeat with memberEpoch 0. */
  join(request: Omit<ConsumerGroupHeartbeatRequest, "memberEpoch">, now: number): ConsumerGroupHeartbeatResponse {
    return this.heartbeat({ ...request, memberEpoch: 0 }, now);
  }

  /**
   * ConsumerGroupHeartbeat: join (epoch 0), leave (epoch -1) or heartbeat. Validates the whole
   * request before changing anything, so a rejected request leaves the group untouched.
   */
  heartbeat(request: ConsumerGroupHeartbeatRequest, now: number): ConsumerGroupHeartbeatResponse {
    this.assertAlive();
    const parsed = parseRequest(request);
    if (parsed.memberEpoch === 0) return this.joinMember(parsed, now);

    if (parsed.memberId === undefined) throw invalidGroupRequest("memberId is required unless memberEpoch is 0");
    const member = this.members.get(parsed.memberId);
    if (!member) throw unknownMember(this.groupId, parsed.memberId);
    if (parsed.memberEpoch === -1) {
      this.leave(member.memberId);
      return { memberId: member.memberId, memberEpoch: -1, heartbeatIntervalMs: this.config.heartbeatIntervalMs, assignment: [] };
    }
    this.assertAssignorAllowed(parsed.serverAssignor, member.memberId);
    this.assertEpochValid(member, parsed.memberEpoch, parsed.owned);

    member.lastHeartbeatMs = now;
    if (parsed.clientId !== undefined) member.clientId = parsed.clientId;
    if (parsed.host !== undefined) member.host = parsed.host;
    if (parsed.rebalanceTimeoutMs !== undefined) member.rebalanceTimeoutMs = parsed.rebalanceTimeoutMs;
    let changed = applySubscription(member, parsed);
    if (parsed.serverAssignor !== undefined) {
      member.serverAssignor = parsed.serverAssignor;
      // Only reachable for the group's sole member (assertAssignorAllowed): it may switch.
      if (parsed.serverAssignor !== this._assignor) {
        this._assignor = parsed.serverAssignor;
        changed = true;
      }
    }
    if (changed) this.bumpGroupEpoch();
    this.reconcile(member, parsed.owned, now);
    this.refreshState();
    return this.reply(member);
  }

  /** Removes a member at its request; its partitions are free at once (it has let go of them). */
  leave(memberId: string): void {
    this.assertAlive();
    const member = this.members.get(memberId);
    if (!member) throw unknownMember(this.groupId, memberId);
    this.removeMember(member, "left");
    this.bumpGroupEpoch();
    this.refreshState();
  }

  /**
   * Removes members whose session timed out (no heartbeat for sessionTimeoutMs) or that did not
   * give up revoked partitions within their rebalanceTimeoutMs; their partitions become free and
   * go to the survivors on their next heartbeats. Call at least every heartbeat interval (or at
   * `nextDeadlineMs()`).
   */
  expireMembers(now: number): ExpiredMember[] {
    if (this._state === "Dead") return [];
    const expired: ExpiredMember[] = [];
    for (const member of [...this.members.values()].sort(byMemberId)) {
      if (now - member.lastHeartbeatMs >= member.sessionTimeoutMs) expired.push({ memberId: member.memberId, reason: "session-timeout" });
      else if (member.revocationDeadlineMs !== undefined && now >= member.revocationDeadlineMs) {
        expired.push({ memberId: member.memberId, reason: "rebalance-timeout" });
      }
    }
    if (expired.length === 0) return expired;
    for (const e of expired) this.removeMember(this.members.get(e.memberId)!, e.reason);
    this.bumpGroupEpoch();
    this.refreshState();
    return expired;
  }

  /** The earliest time at which `expireMembers` would remove someone, for scheduling a timer. */
  nextDeadlineMs(): number | undefined {
    let next: number | undefined;
    for (const m of this.members.values()) {
      for (const t of [m.lastHeartbeatMs + m.sessionTimeoutMs, m.revocationDeadlineMs]) {
        if (t !== undefined && (next === undefined || t < next)) next = t;
      }
    }
    return next;
  }

  /**
   * Replaces the group's view of the cluster's topics (topic → partition count). Bumps the group
   * epoch and reassigns only if a subscribed topic appeared, vanished or changed its partition
   * count (including new topics matching a regex subscription). Returns whether it did.
   */
  updateTopicMetadata(topics: ReadonlyMap<string, number>): boolean {
    this.assertAlive();
    const next = parseTopicMetadata(topics);
    if (!sameKeys(this.topics, next)) this.topicNamesVersion++;
    this.topics = next;
    if (this.members.size === 0 || this.computeSubscriptionMetadata() === this.subscriptionMetadata) return false;
    this.bumpGroupEpoch();
    this.refreshState();
    return true;
  }

  /**
   * Checks an offset commit from a member (KIP-848 OffsetCommit fencing, plus ownership):
   * unknown member → UNKNOWN_MEMBER_ID; epoch newer than the member's → FENCED_MEMBER_EPOCH;
   * older → STALE_MEMBER_EPOCH; partition not owned by the member right now → ILLEGAL_GENERATION.
   * A partition pending revocation is still owned, so its old owner can commit before letting go.
   * An admin commit (memberId "" and a negative epoch) is accepted only while the group is empty.
   */
  validateCommit(memberId: string, memberEpoch: number, topic: string, partition: number): void {
    this.assertAlive();
    if (typeof memberId !== "string" || !Number.isInteger(memberEpoch))
      throw invalidGroupRequest("memberId must be a string and memberEpoch an integer");
    if (typeof topic !== "string" || topic.length === 0 || !Number.isInteger(partition) || partition < 0) {
      throw invalidGroupRequest("commit needs a topic name and a partition number >= 0", { topic, partition });
    }
    if (memberId === "" && memberEpoch < 0) {
      this.assertNoActiveMembers();
      return;
    }
    const member = this.members.get(memberId);
    if (!member) throw unknownMember(this.groupId, memberId);
    if (memberEpoch > member.memberEpoch) {
      throw new GroupError("FENCED_MEMBER_EPOCH", `member epoch ${memberEpoch} is newer than the coordinator's ${member.memberEpoch}`, {
        groupId: this.groupId,
        memberId,
        memberEpoch,
        expectedMemberEpoch: member.memberEpoch,
      });
    }
    if (memberEpoch < member.memberEpoch) {
      throw new GroupError("STALE_MEMBER_EPOCH", `member epoch ${memberEpoch} is stale; the member is at epoch ${member.memberEpoch}`, {
        groupId: this.groupId,
        memberId,
        memberEpoch,
        expectedMemberEpoch: member.memberEpoch,
      });
    }
    if (this.owners.get(keyOf(topic, partition)) !== memberId) {
      throw new GroupError("ILLEGAL_GENERATION", `member '${memberId}' does not own ${topic}-${partition} at epoch ${memberEpoch}`, {
        groupId: this.groupId,
        memberId,
        memberEpoch,
        topic,
        partition,
        reason: "partition-not-owned",
      });
    }
  }

  /** For offset resets and deletion, which Kafka only allows on a group without members. */
  assertNoActiveMembers(): void {
    if (this.members.size > 0) {
      throw new GroupError("NON_EMPTY_GROUP", `group '${this.groupId}' has ${this.members.size} active member(s)`, {
        groupId: this.groupId,
        members: this.members.size,
      });
    }
  }

  /** Deletes the group (Empty → Dead). Every later call fails with GROUP_ID_NOT_FOUND. */
  markDead(): void {
    this.assertAlive();
    this.assertNoActiveMembers();
    this.setState("Dead");
    this.flushEvents();
  }

  /** The member that owns a partition right now (including while it is pending revocation). */
  ownerOf(topic: string, partition: number): string | undefined {
    return this.owners.get(keyOf(topic, partition));
  }

  describe(): GroupDescription {
    return {
      groupId: this.groupId,
      protocolType: "consumer",
      state: this._state,
      groupEpoch: this._groupEpoch,
      assignmentEpoch: this._assignmentEpoch,
      assignor: this._assignor ?? null,
      members: [...this.members.values()].sort(byMemberId).map((m) => ({
        memberId: m.memberId,
        memberEpoch: m.memberEpoch,
        clientId: m.clientId,
        host: m.host,
        subscribedTopicNames: m.subscribedTopicNames ? [...m.subscribedTopicNames] : null,
        subscribedTopicRegex: m.subscribedTopicRegex?.source ?? null,
        subscribedTopics: [...this.resolveSubscription(m)],
        serverAssignor: m.serverAssignor ?? null,
        assignment: toTopicPartitions(m.assigned),
        pendingRevocation: toTopicPartitions(m.pendingRevocation),
        targetAssignment: toTopicPartitions(this.targetOf(m)),
        state: this.memberState(m),
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        sessionTimeoutMs: m.sessionTimeoutMs,
        lastHeartbeatMs: m.lastHeartbeatMs,
      })),
    };
  }

  // ---- membership -------------------------------------------------------------------------

  private joinMember(req: ParsedRequest, now: number): ConsumerGroupHeartbeatResponse {
    if (req.owned !== undefined && req.owned.size > 0) throw invalidGroupRequest("ownedPartitions must be empty when joining");
    if (req.subscribedTopicNames === undefined && req.subscribedTopicRegex === undefined) {
      throw invalidGroupRequest("a join needs subscribedTopicNames or subscribedTopicRegex");
    }
    const existing = req.memberId !== undefined ? this.members.get(req.memberId) : undefined;
    this.assertAssignorAllowed(req.serverAssignor, req.memberId);
    if (!existing && this.members.size >= this.config.maxSize) {
      throw new GroupError("GROUP_MAX_SIZE_REACHED", `group '${this.groupId}' already has the maximum of ${this.config.maxSize} members`, {
        groupId: this.groupId,
        maxSize: this.config.maxSize,
      });
    }
    const memberId = req.memberId ?? this.uniqueMemberId();
    // A join with a known id is a new incarnation of a member that lost its state (e.g. it was
    // fenced): the client has already dropped everything, so the old one's partitions go free.
    if (existing) this.removeMember(existing, "rejoined");
    if (this.members.size === 0) this._assignor = req.serverAssignor ?? this.config.defaultAssignor;

    const member: Member = {
      memberId,
      memberEpoch: 0,
      previousMemberEpoch: -1,
      clientId: req.clientId ?? "",
      host: req.host ?? "",
      serverAssignor: req.serverAssignor,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs ?? this.config.defaultRebalanceTimeoutMs,
      sessionTimeoutMs: this.config.sessionTimeoutMs,
      lastHeartbeatMs: now,
      assigned: [],
      pendingRevocation: [],
    };
    applySubscription(member, req);
    this.members.set(memberId, member);
    this.emit({ type: "member-joined", groupId: this.groupId, memberId, clientId: member.clientId });
    this.bumpGroupEpoch();
    this.reconcile(member, new Set(), now);
    this.refreshState();
    return this.reply(member);
  }

  private uniqueMemberId(): string {
    for (;;) {
      const id = this.newMemberId();
      if (!this.members.has(id)) return id;
    }
  }

  private removeMember(member: Member, reason: MemberRemovalReason): void {
    for (const tp of [...member.assigned, ...member.pendingRevocation]) this.release(tp, member.memberId);
    this.members.delete(member.memberId);
    this.target.delete(member.memberId);
    if (this.members.size === 0) this._assignor = undefined;
    this.emit({ type: "member-removed", groupId: this.groupId, memberId: member.memberId, clientId: member.clientId, reason });
  }

  /** One assignor per group: the first member's choice; others may only name the same one. */
  private assertAssignorAllowed(requested: AssignorName | undefined, memberId: string | undefined): void {
    if (requested === undefined || this._assignor === undefined || requested === this._assignor) return;
    const others = [...this.members.keys()].filter((id) => id !== memberId).length;
    if (others === 0) return; // the only member may change it (the group is empty without it)
    throw new GroupError("UNSUPPORTED_ASSIGNOR", `group '${this.groupId}' uses the '${this._assignor}' assignor, not '${requested}'`, {
      groupId: this.groupId,
      assignor: this._assignor,
      requested,
    });
  }

  /**
   * KIP-848 fencing: a newer epoch than ours, or an older one other than the previous epoch with
   * owned partitions within the current assignment (its last reply was lost), means the member's
   * view cannot be trusted: it must drop everything and rejoin.
   */
  private assertEpochValid(member: Member, epoch: number, owned: ReadonlySet<TopicPartitionKey> | undefined): void {
    if (epoch === member.memberEpoch) return;
    const assigned = keySet(member.assigned);
    const lostReply =
      epoch < member.memberEpoch && epoch === member.previousMemberEpoch && owned !== undefined && [...owned].every((k) => assigned.has(k));
    if (lostReply) return;
    throw new GroupError(
      "FENCED_MEMBER_EPOCH",
      `member epoch ${epoch} does not match the coordinator's ${member.memberEpoch}; the member must rejoin`,
      { groupId: this.groupId, memberId: member.memberId, memberEpoch: epoch, expectedMemberEpoch: member.memberEpoch },
    );
  }

  // ---- assignment -------------------------------------------------------------------------

  private bumpGroupEpoch(): void {
    this._groupEpoch++;
    this.computeTargetAssignment();
    this.emit({ type: "epoch-bumped", groupId: this.groupId, groupEpoch: this._groupEpoch });
  }

  /** Runs the group's assignor, seeded with the previous target so the sticky one stays sticky. */
  private computeTargetAssignment(): void {
    const members = [...this.members.values()].map((m) => ({ memberId: m.memberId, subscribedTopics: this.resolveSubscription(m) }));
    const subscribed = new Map<string, number>();
    for (const m of members) for (const t of m.subscribedTopics) subscribed.set(t, this.topics.get(t)!);
    const assignor = ASSIGNORS[this._assignor ?? this.config.defaultAssignor];
    this.target = members.length === 0 ? new Map() : assignor(members, subscribed, this.target);
    this.subscriptionMetadata = this.computeSubscriptionMetadata();
    this._assignmentEpoch = this._groupEpoch;
  }

  /**
   * Existing topics the member's subscription covers, sorted. Computed again only when the topic
   * names or the subscription changed, and a pattern is matched only against names it has not
   * seen: heartbeats and partition-count changes never rerun it over every topic.
   */
  private resolveSubscription(m: Member): string[] {
    if (m.resolved?.version === this.topicNamesVersion) return m.resolved.topics;
    const out: string[] = [];
    if (m.subscribedTopicRegex) {
      const re = m.subscribedTopicRegex;
      const seen = m.regexMatches ?? new Map<string, boolean>();
      const matches = new Map<string, boolean>();
      for (const t of this.topics.keys()) {
        const hit = seen.get(t) ?? re.testWhole(t);
        matches.set(t, hit);
        if (hit) out.push(t);
      }
      m.regexMatches = matches;
    } else {
      for (const t of new Set(m.subscribedTopicNames ?? [])) if (this.topics.has(t)) out.push(t);
    }
    out.sort();
    m.resolved = { version: this.topicNamesVersion, topics: out };
    return out;
  }

  private computeSubscriptionMetadata(): string {
    const topics = new Set<string>();
    for (const m of this.members.values()) for (const t of this.resolveSubscription(m)) topics.add(t);
    return [...topics]
      .sort()
      .map((t) => `${t}:${this.topics.get(t)}`)
      .join("\u0000");
  }

  private targetOf(m: Member): TopicPartition[] {
    return this.target.get(m.memberId) ?? [];
  }

  /**
   * Moves a member one step towards its target (Kafka's CurrentAssignmentBuilder):
   * 1. While it has partitions pending revocation, nothing else happens until its heartbeat's
   *    ownedPartitions no longer lists any of them; then they are released.
   * 2. Partitions it owns outside its target: if the client still reports owning them, they
   *    become pending revocation (left out of the reply) and the member stays at its epoch.
   * 3. Otherwise it moves to the assignment epoch and is granted every target partition nobody
   *    else owns; the rest ("unreleased") come on a later heartbeat once their owners let go.
   * `owned` undefined means the client did not say, which is taken as "still owns everything".
   */
  private reconcile(m: Member, owned: ReadonlySet<TopicPartitionKey> | undefined, now: number): void {
    const before = { assigned: m.assigned, pending: m.pendingRevocation, epoch: m.memberEpoch };
    this.reconcileStep(m, owned, now);
    if (
      !sameTopicPartitions(before.assigned, m.assigned) ||
      !sameTopicPartitions(before.pending, m.pendingRevocation) ||
      before.epoch !== m.memberEpoch
    ) {
      this.emit({
        type: "assignment-changed",
        groupId: this.groupId,
        memberId: m.memberId,
        memberEpoch: m.memberEpoch,
        assignment: toTopicPartitions(m.assigned),
        pendingRevocation: toTopicPartitions(m.pendingRevocation),
      });
    }
  }

  private reconcileStep(m: Member, owned: ReadonlySet<TopicPartitionKey> | undefined, now: number): void {
    const stillOwns = (tps: readonly TopicPartition[]) => owned === undefined || tps.some((tp) => owned.has(tpKey(tp)));
    if (m.pendingRevocation.length > 0) {
      if (stillOwns(m.pendingRevocation)) return;
      for (const tp of m.pendingRevocation) this.release(tp, m.memberId);
      m.pendingRevocation = [];
      m.revocationDeadlineMs = undefined;
    }

    const target = this.targetOf(m);
    const keep = intersect(m.assigned, target);
    const revoke = subtract(m.assigned, target);
    if (revoke.length > 0 && stillOwns(revoke)) {
      m.assigned = keep;
      m.pendingRevocation = revoke;
      m.revocationDeadlineMs = now + m.rebalanceTimeoutMs;
      return;
    }
    for (const tp of revoke) this.release(tp, m.memberId); // the client has already let go of them
    const grant = subtract(target, keep).filter((tp) => !this.owners.has(tpKey(tp)));
    for (const tp of grant) this.take(tp, m.memberId);
    m.assigned = sortTopicPartitions([...keep, ...grant]);
    if (m.memberEpoch !== this._assignmentEpoch) {
      m.previousMemberEpoch = m.memberEpoch;
      m.memberEpoch = this._assignmentEpoch;
    }
  }

  private take(tp: TopicPartition, memberId: string): void {
    const owner = this.owners.get(tpKey(tp));
    // Unreachable by construction; a guard so a bug can never hand out a partition twice.
    if (owner !== undefined && owner !== memberId)
      throw new Error(`BUG: ${tp.topic}-${tp.partition} granted to ${memberId} while owned by ${owner}`);
    this.owners.set(tpKey(tp), memberId);
  }

  private release(tp: TopicPartition, memberId: string): void {
    if (this.owners.get(tpKey(tp)) === memberId) this.owners.delete(tpKey(tp));
  }

  private memberState(m: Member): MemberReconciliationState {
    const target = this.targetOf(m);
    if (m.pendingRevocation.length > 0 || subtract(m.assigned, target).length > 0) return "UnrevokedPartitions";
    if (m.memberEpoch !== this._assignmentEpoch) return "Reconciling";
    return sameTopicPartitions(m.assigned, target) ? "Stable" : "UnreleasedPartitions";
  }

  // ---- state ------------------------------------------------------------------------------

  /** See group-states.ts for why each KIP-848 situation maps to which classic state. */
  private deriveState(): GroupState {
    if (this.members.size === 0) return "Empty";
    const states = [...this.members.values()].map((m) => this.memberState(m));
    if (states.includes("UnrevokedPartitions")) return "PreparingRebalance";
    return states.every((s) => s === "Stable") ? "Stable" : "CompletingRebalance";
  }

  /** Every mutating call ends here: the group is consistent again, so listeners may run. */
  private refreshState(): void {
    const next = this.deriveState();
    if (next !== this._state) this.setState(next);
    this.flushEvents();
  }

  private setState(next: GroupState): void {
    const from = this._state;
    assertTransition(from, next);
    this._state = next;
    this.emit({ type: "state-changed", groupId: this.groupId, from, to: next });
  }

  private assertAlive(): void {
    if (this._state === "Dead") throw groupNotFound(this.groupId);
  }

  private reply(m: Member): ConsumerGroupHeartbeatResponse {
    return {
      memberId: m.memberId,
      memberEpoch: m.memberEpoch,
      heartbeatIntervalMs: this.config.heartbeatIntervalMs,
      assignment: toTopicPartitions(m.assigned),
    };
  }

  /**
   * Events are queued and delivered once the call's changes are complete, so a listener that
   * throws or calls back into the group never sees (or leaves) it half-updated.
   */
  private emit(event: GroupEvent): void {
    if (this.onEvent) this.pendingEvents.push(event);
  }

  private flushEvents(): void {
    const events = this.pendingEvents.splice(0);
    for (const e of events) this.onEvent!(e);
  }
}

/** Applies a subscription change from a request; returns whether anything changed. */
function applySubscription(m: Member, req: ParsedRequest): boolean {
  if (req.subscribedTopicNames !== undefined) {
    const same = m.subscribedTopicRegex === undefined && m.subscribedTopicNames?.join("\u0000") === req.subscribedTopicNames.join("\u0000");
    m.subscribedTopicNames = req.subscribedTopicNames;
    m.subscribedTopicRegex = undefined;
    if (!same) forgetResolved(m);
    return !same;
  }
  if (req.subscribedTopicRegex !== undefined) {
    const same = m.subscribedTopicRegex?.source === req.subscribedTopicRegex.source;
    m.subscribedTopicRegex = req.subscribedTopicRegex;
    m.subscribedTopicNames = undefined;
    if (!same) forgetResolved(m);
    return !same;
  }
  return false;
}

function forgetResolved(m: Member): void {
  m.resolved = undefined;
  m.regexMatches = undefined;
}

function sameKeys(a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>): boolean {
  if (a.size !== b.size) return false;
  for (const k of b.keys()) if (!a.has(k)) return false;
  return true;
}

const byMemberId = (a: Member, b: Member) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0);
