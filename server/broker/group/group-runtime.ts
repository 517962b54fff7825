/**
 * The consumer-group runtime around the pure coordinator: member timers and expiry, committed
 * offsets (cached, stored durably), per-member fetch positions for polling consumers, lag and
 * its sampled history, and offset resets. It reaches the log only through `GroupLogAccess`,
 * which the partition layer (partition/partition-manager.ts) satisfies as it is, and
 * transactions only through `PendingTxnOffsets`, so this folder depends on nothing above it.
 */
import { GroupCoordinator } from "./group-coordinator.ts";
import {
  DEFAULT_GROUP_CONFIG,
  validateGroupId,
  type ConsumerGroupHeartbeatRequest,
  type ConsumerGroupHeartbeatResponse,
  type GroupConfig,
  type GroupDescription,
  type GroupEvent,
} from "./consumer-group.ts";
import { GroupError, groupNotFound, invalidGroupRequest } from "../errors.ts";
import { hasCode } from "../../errors/tributary-error.ts";
import type { GroupState } from "./group-states.ts";
import { fromTopicPartitions, keyOf, type TopicPartition, type TopicPartitions } from "./topic-partitions.ts";
import type { CommittedOffset, GroupOffsetStore } from "../store/group-offset-store.ts";
import type { StoredBatch } from "../store/log-store.ts";
import type { FetchedRecord } from "../protocol/record-batch.ts";
import type { IsolationLevel } from "../partition/fetch.ts";
import type { ResetPlanEntry, ResetTarget } from "../../schemas/group.ts";

/** What the group runtime needs from the log; the partition layer's `PartitionManager` is one. */
export interface GroupLogAccess {
  /** Every topic's partition count, as the database has it now. */
  topicPartitionCounts(): Promise<Map<string, number>>;
  watermarks(topic: string, partition: number): Promise<{ logStartOffset: number; highWatermark: number }>;
  fetch(
    topic: string,
    partition: number,
    opts: { offset: number; maxRecords: number; maxBytes: number; isolation: IsolationLevel; checkStore: boolean },
  ): Promise<{ records: FetchedRecord[]; nextOffset: number; highWatermark: number }>;
  /** Stored batches from `offset` (the first may begin before it), as a raw fetch returns them. */
  fetchBatches(
    topic: string,
    partition: number,
    opts: { offset: number; maxBytes: number; isolation: IsolationLevel; checkStore: boolean },
  ): Promise<{ batches: StoredBatch[]; nextOffset: number }>;
  waitForData(topic: string, partition: number, offset: number, ms: number, signal: AbortSignal, isolation: IsolationLevel): Promise<void>;
  /** First offset whose timestamp is >= ts, or null when there is none. */
  offsetForTimestamp(topic: string, partition: number, ts: number): Promise<number | null>;
  onTopicEvent(listener: (e: { type: "created" | "deleted" | "changed"; topic: string }) => void): void;
}

/**
 * Why a poll's wait for data is aborted when it ends (whichever partition woke it): a reason of
 * its own, as `abort()` without one builds a DOMException with its stack on every poll that waited.
 */
const WAIT_OVER = new Error("the poll's wait ended");

/** KIP-447: whether an open transaction holds offsets of the group for a partition; the transaction coordinator answers. */
export interface PendingTxnOffsets {
  hasPendingOffsets(groupId: string, topic: string, partition: number): boolean;
}

export type AutoOffsetReset = "earliest" | "latest" | "none";
export type { IsolationLevel };

export interface JoinOptions {
  /** What the member starts from on partitions the group has no committed offset for. */
  autoOffsetReset?: AutoOffsetReset;
  /** read_committed: polls deliver committed transactional records only (default read_uncommitted). */
  isolationLevel?: IsolationLevel;
}

/** The limits of one group poll: records and bytes returned, how long to wait for some, and a cancel. */
export interface GroupPollOptions {
  maxRecords: number;
  maxBytes: number;
  waitMs: number;
  signal?: AbortSignal;
}

/** One partition's part of a binary poll. */
export interface PolledBatches {
  topic: string;
  partition: number;
  /** The member's position before this poll: records of the first batch before it were delivered already. */
  fromOffset: number;
  /** The member's position after it (see PolledPosition); `batches` may be empty when only that moved. */
  nextOffset: number;
  batches: StoredBatch[];
}

/**
 * Where a member's position on a partition stands after a poll: past the records it returned and
 * any control batches (transaction markers) or aborted records after them. Commit this, as
 * Kafka's consumer commits its position, not the last record's offset + 1.
 */
export interface PolledPosition {
  topic: string;
  partition: number;
  offset: number;
}

export interface PolledRecord extends FetchedRecord {
  topic: string;
  partition: number;
}

export interface PartitionOffsetView {
  topic: string;
  partition: number;
  committedOffset: number | null;
  metadata: string | null;
  logStartOffset: number;
  highWatermark: number;
  /** Records the group has yet to read: from the committed offset, or estimated per `lagBasis` without one. */
  lag: number;
  lagBasis: LagBasis;
  owner: string | null;
}

/**
 * What a partition's lag is counted from: "committed" (highWatermark - committedOffset); without a
 * committed offset, where a consumer would start: "earliest" (the log start offset: auto.offset.reset
 * earliest or none, or no member to say) or "latest" (the owner resets to the high watermark: 0).
 */
export type LagBasis = "committed" | "earliest" | "latest";

export interface LagSample {
  timestamp: number;
  totalLag: number;
}

export interface GroupView extends GroupDescription {
  offsets: PartitionOffsetView[];
  totalLag: number;
  lagHistory: LagSample[];
}

export interface GroupSummary {
  groupId: string;
  state: GroupState;
  members: number;
  assignor: string | null;
  totalLag: number;
  /** Partitions counted in totalLag without a committed offset (their lag is estimated, see LagBasis). */
  uncommittedPartitions: number;
}

export interface GroupRuntimeOptions {
  config?: Partial<GroupConfig>;
  /** How often total lag is sampled for the history (0 disables the timer). */
  lagSampleMs?: number;
  /** How many samples are kept per group. */
  lagHistorySize?: number;
  /** Told of every group change (members, epochs, assignments, states), once the change is complete. */
  onEvent?: (event: GroupEvent) => void;
  /** Without it (no transactions) no offsets are ever pending. */
  pendingTxnOffsets?: PendingTxnOffsets;
}

interface MemberRuntime {
  autoOffsetReset: AutoOffsetReset;
  isolation: IsolationLevel;
  /** Next offset to deliver, per partition the member owns. */
  positions: Map<string, number>;
  /** Round-robin start so one busy partition cannot starve the others. */
  nextStart: number;
}

const MAX_POLL_WAIT_MS = 30_000;

export class GroupRuntime {
  readonly coordinator: GroupCoordinator;
  private readonly members = new Map<string, Map<string, MemberRuntime>>();
  private readonly committed = new Map<string, Map<string, CommittedOffset>>();
  private readonly history = new Map<string, LagSample[]>();
  private expiryTimer: NodeJS.Timeout | null = null;
  private sampleTimer: NodeJS.Timeout | null = null;
  private metadataVersion = 0;
  private appliedMetadataVersion = -1;
  private readonly historySize: number;

  constructor(
    private readonly log: GroupLogAccess,
    private readonly store: GroupOffsetStore,
    private readonly options: GroupRuntimeOptions = {},
  ) {
    this.historySize = options.lagHistorySize ?? 720;
    this.coordinator = new GroupCoordinator({
      config: { ...DEFAULT_GROUP_CONFIG, ...options.config },
      onEvent: (e) => this.onGroupEvent(e),
    });
    log.onTopicEvent((e) => {
      this.metadataVersion++;
      if (e.type === "deleted") void this.forgetTopic(e.topic).catch(() => undefined);
    });
  }

  /** Registers groups known from committed offsets and starts the expiry and lag timers. */
  async start(): Promise<void> {
    for (const id of await this.store.findGroupIds()) {
      try {
        this.coordinator.ensureGroup(id);
      } catch {
        // a stored id this version no longer accepts: leave it in the database, unlisted
      }
    }
    await this.refreshMetadata(true);
    this.expiryTimer = setInterval(() => this.coordinator.expireMembers(Date.now()), 250);
    this.expiryTimer.unref();
    const every = this.options.lagSampleMs ?? 5_000;
    if (every > 0) {
      this.sampleTimer = setInterval(() => void this.sampleLag().catch(() => undefined), every);
      this.sampleTimer.unref();
    }
  }

  stop(): void {
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    if (this.sampleTimer) clearInterval(this.sampleTimer);
  }

  private onGroupEvent(e: GroupEvent): void {
    if (e.type === "member-removed") this.members.get(e.groupId)?.delete(e.memberId);
    this.options.onEvent?.(e);
  }

  private async refreshMetadata(force = false): Promise<void> {
    if (!force && this.appliedMetadataVersion === this.metadataVersion) return;
    const version = this.metadataVersion;
    this.coordinator.updateTopicMetadata(await this.log.topicPartitionCounts());
    this.appliedMetadataVersion = version;
  }

  private async forgetTopic(topic: string): Promise<void> {
    // Kafka drops a deleted topic's committed offsets from every group
    await this.store.deleteTopicOffsets(null, topic);
    for (const offsets of this.committed.values()) {
      for (const [k, c] of offsets) if (c.topic === topic) offsets.delete(k);
    }
  }

  private async committedOf(groupId: string): Promise<Map<string, CommittedOffset>> {
    let c = this.committed.get(groupId);
    if (!c) {
      const rows = await this.store.findOffsets(groupId);
      c = this.committed.get(groupId) ?? new Map(rows.map((r) => [keyOf(r.topic, r.partition), r]));
      this.committed.set(groupId, c);
    }
    return c;
  }

  // ---- membership ------------------------------------------------------------------------

  /**
   * KIP-848 ConsumerGroupHeartbeat: memberEpoch 0 joins, -1 leaves, otherwise a heartbeat that
   * reports the partitions the member owns. Replies with the member's assignment.
   */
  async heartbeat(
    groupId: string,
    request: ConsumerGroupHeartbeatRequest,
    join: JoinOptions = {},
  ): Promise<ConsumerGroupHeartbeatResponse> {
    validateGroupId(groupId);
    if (request.memberEpoch === 0 || this.metadataVersion !== this.appliedMetadataVersion) {
      // a join may name topics created by another process since the last refresh
      await this.refreshMetadata(request.memberEpoch === 0);
    }
    const assignedBefore =
      request.memberEpoch > 0 && typeof request.memberId === "string"
        ? new Set(this.assignmentOf(groupId, request.memberId).map((tp) => keyOf(tp.topic, tp.partition)))
        : new Set<string>();
    const reply = this.coordinator.heartbeat(groupId, request, Date.now());
    if (request.memberEpoch === -1) {
      this.members.get(groupId)?.delete(reply.memberId);
      return reply;
    }
    let byMember = this.members.get(groupId);
    if (!byMember) this.members.set(groupId, (byMember = new Map()));
    let m = byMember.get(reply.memberId);
    if (!m || request.memberEpoch === 0) {
      m = {
        autoOffsetReset: join.autoOffsetReset ?? m?.autoOffsetReset ?? "latest",
        isolation: join.isolationLevel ?? m?.isolation ?? "read_uncommitted",
        positions: new Map(),
        nextStart: 0,
      };
      byMember.set(reply.memberId, m);
    }
    // Positions of partitions no longer owned are forgotten: the next owner starts from the
    // commit. One pending revocation is still owned, so it keeps its position and a commit without
    // offsets still covers it (as KIP-848 intends: commit, then release). One granted (again) by
    // this reply starts afresh from the committed offset.
    const assigned = new Set(fromTopicPartitions(reply.assignment).map((tp) => keyOf(tp.topic, tp.partition)));
    const group = this.coordinator.group(groupId);
    for (const k of m.positions.keys()) {
      const [topic, partition] = k.split("\u0000");
      const owned = group?.ownerOf(topic, Number(partition)) === reply.memberId;
      if (!owned || (assigned.has(k) && !assignedBefore.has(k))) m.positions.delete(k);
    }
    return reply;
  }

  leave(groupId: string, memberId: string): void {
    validateGroupId(groupId);
    this.coordinator.leave(groupId, memberId);
    this.members.get(groupId)?.delete(memberId);
  }

  private memberRuntime(groupId: string, memberId: string): MemberRuntime {
    validateGroupId(groupId);
    const group = this.coordinator.group(groupId);
    if (!group) throw groupNotFound(groupId);
    const m = this.members.get(groupId)?.get(memberId);
    if (!m || !group.describe().members.some((x) => x.memberId === memberId)) {
      throw new GroupError(
        "UNKNOWN_MEMBER_ID",
        `member '${memberId}' is not in group '${groupId}' (it left or missed its session timeout): join again`,
        {
          groupId,
          memberId,
        },
      );
    }
    return m;
  }

  /** The partitions the member owns now (its last reply's assignment). */
  assignmentOf(groupId: string, memberId: string): TopicPartition[] {
    const d = this.coordinator
      .group(groupId)
      ?.describe()
      .members.find((x) => x.memberId === memberId);
    return d ? fromTopicPartitions(d.assignment) : [];
  }

  // ---- consuming ---------------------------------------------------------------------------

  private async startPosition(groupId: string, m: MemberRuntime, tp: TopicPartition): Promise<number> {
    const committed = (await this.committedOf(groupId)).get(keyOf(tp.topic, tp.partition));
    const w = await this.log.watermarks(tp.topic, tp.partition);
    if (committed && committed.offset >= w.logStartOffset && committed.offset <= w.highWatermark) return committed.offset;
    // no commit, or the committed offset fell out of the log (retention): auto.offset.reset
    if (m.autoOffsetReset === "none") {
      throw new GroupError(
        "NO_OFFSET_FOR_PARTITION",
        committed
          ? `committed offset ${committed.offset} of ${tp.topic}-${tp.partition} is outside the log [${w.logStartOffset}, ${w.highWatermark}] and auto.offset.reset is none`
          : `group '${groupId}' has no committed offset for ${tp.topic}-${tp.partition} and auto.offset.reset is none`,
        { topic: tp.topic, partition: tp.partition },
      );
    }
    return m.autoOffsetReset === "earliest" ? w.logStartOffset : w.highWatermark;
  }

  /**
   * Records from the member's partitions, from its positions (the committed offset or
   * auto.offset.reset at first), round-robin across partitions; long-polls up to waitMs.
   */
  async poll(
    groupId: string,
    memberId: string,
    opts: GroupPollOptions,
  ): Promise<{ records: PolledRecord[]; positions: PolledPosition[]; assignment: TopicPartitions[] }> {
    const r = await this.pollWith<PolledRecord>(
      groupId,
      memberId,
      opts,
      async (tp, offset, maxRecords, maxBytes, isolation, checkStore) => {
        const f = await this.log.fetch(tp.topic, tp.partition, { offset, maxRecords, maxBytes, isolation, checkStore });
        let bytes = 0;
        const items = f.records.map((rec) => {
          bytes += (rec.key?.length ?? 0) + (rec.value?.length ?? 0);
          return { ...rec, topic: tp.topic, partition: tp.partition };
        });
        return { items, count: items.length, bytes, nextOffset: f.nextOffset };
      },
    );
    return {
      records: r.parts.flatMap((p) => p.items),
      positions: r.parts.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.nextOffset })),
      assignment: r.assignment,
    };
  }

  /**
   * As `poll`, but each partition's stored batches as they are (the binary path: no record is
   * decoded on the server); `fromOffset` is where the member's position was, so a reader skips
   * the records of the first batch before it.
   */
  async pollBatches(
    groupId: string,
    memberId: string,
    opts: GroupPollOptions,
  ): Promise<{ parts: PolledBatches[]; assignment: TopicPartitions[] }> {
    const r = await this.pollWith<StoredBatch>(
      groupId,
      memberId,
      opts,
      async (tp, offset, _maxRecords, maxBytes, isolation, checkStore) => {
        const f = await this.log.fetchBatches(tp.topic, tp.partition, { offset, maxBytes, isolation, checkStore });
        let bytes = 0;
        let count = 0;
        for (const b of f.batches) {
          bytes += b.sizeBytes;
          count += b.recordCount;
        }
        return { items: f.batches, count, bytes, nextOffset: f.nextOffset };
      },
    );
    return {
      parts: r.parts.map((p) => ({
        topic: p.topic,
        partition: p.partition,
        fromOffset: p.fromOffset,
        nextOffset: p.nextOffset,
        batches: p.items,
      })),
      assignment: r.assignment,
    };
  }

  /**
   * The polling loop shared by `poll` and `pollBatches`: positions (the committed offset or
   * auto.offset.reset at first), round-robin across the member's partitions, one `fetchPart`
   * per partition with what is left of the limits, long-polling up to waitMs. A partition with
   * nothing new is checked in the store (`FetchOptions.checkStore`) on the last pass only, not
   * on each pass an append here woke: those were a third of the server's statements with a
   * pipeline fed at 10,000 records/s.
   */
  private async pollWith<T>(
    groupId: string,
    memberId: string,
    opts: GroupPollOptions,
    fetchPart: (
      tp: TopicPartition,
      offset: number,
      maxRecords: number,
      maxBytes: number,
      isolation: IsolationLevel,
      checkStore: boolean,
    ) => Promise<{ items: T[]; count: number; bytes: number; nextOffset: number }>,
  ): Promise<{
    parts: { topic: string; partition: number; fromOffset: number; nextOffset: number; items: T[] }[];
    assignment: TopicPartitions[];
  }> {
    const m = this.memberRuntime(groupId, memberId);
    const deadline = Date.now() + Math.min(opts.waitMs, MAX_POLL_WAIT_MS);
    for (;;) {
      const owned = this.assignmentOf(groupId, memberId);
      let unstable = false;
      for (const tp of owned) {
        const k = keyOf(tp.topic, tp.partition);
        if (m.positions.has(k)) continue;
        // KIP-447: a transaction holds offsets of this group for the partition; start once it ends
        if (this.options.pendingTxnOffsets?.hasPendingOffsets(groupId, tp.topic, tp.partition)) {
          unstable = true;
          continue;
        }
        m.positions.set(k, await this.startPosition(groupId, m, tp));
      }
      const parts: { topic: string; partition: number; fromOffset: number; nextOffset: number; items: T[] }[] = [];
      const lastPass = Date.now() >= deadline || opts.signal?.aborted === true;
      let count = 0;
      let bytes = 0;
      const n = owned.length;
      for (let i = 0; i < n && count < opts.maxRecords && bytes < opts.maxBytes; i++) {
        const tp = owned[(m.nextStart + i) % n];
        const k = keyOf(tp.topic, tp.partition);
        const offset = m.positions.get(k);
        if (offset === undefined) continue;
        let r;
        try {
          r = await fetchPart(tp, offset, opts.maxRecords - count, opts.maxBytes - bytes, m.isolation, lastPass);
        } catch (e) {
          if (hasCode(e, "OFFSET_OUT_OF_RANGE")) {
            m.positions.delete(k); // retention passed us: start again per auto.offset.reset
            continue;
          }
          // positions already moved for the records gathered so far: deliver them, never drop them
          if (count > 0) break;
          throw e;
        }
        // the member may have lost the partition while fetching: deliver nothing for it then
        if (this.coordinator.group(groupId)?.ownerOf(tp.topic, tp.partition) !== memberId) continue;
        // a part with no records but a moved position (control batches, aborted records skipped)
        // is reported too: the member's position is the fetch's next offset, not its last record + 1
        if (r.items.length > 0 || r.nextOffset > offset) {
          parts.push({ topic: tp.topic, partition: tp.partition, fromOffset: offset, nextOffset: r.nextOffset, items: r.items });
        }
        count += r.count;
        bytes += r.bytes;
        m.positions.set(k, r.nextOffset);
      }
      if (n > 0) m.nextStart = (m.nextStart + 1) % n;
      const remaining = deadline - Date.now();
      if (parts.length === 0 && unstable && remaining > 0 && !opts.signal?.aborted) {
        await new Promise((r) => setTimeout(r, Math.min(remaining, 50)));
        continue;
      }
      // the wait is over with nothing found on a pass that did not check the store: one more that does
      if (parts.length === 0 && n > 0 && !lastPass && (remaining <= 0 || opts.signal?.aborted)) continue;
      if (parts.length > 0 || remaining <= 0 || n === 0 || opts.signal?.aborted) {
        if (parts.length === 0 && n === 0 && remaining > 0) {
          // nothing assigned yet: wait briefly for the next heartbeat to bring partitions
          await new Promise((r) => setTimeout(r, Math.min(remaining, 100)));
          if (Date.now() < deadline && !opts.signal?.aborted) continue;
        }
        return {
          parts,
          assignment:
            this.coordinator
              .group(groupId)
              ?.describe()
              .members.find((x) => x.memberId === memberId)?.assignment ?? [],
        };
      }
      // wait for an append on any owned partition (woken by the append, not a sleep loop)
      const ac = new AbortController();
      const onAbort = () => ac.abort();
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      try {
        await Promise.race(
          owned.map((tp) =>
            this.log.waitForData(
              tp.topic,
              tp.partition,
              m.positions.get(keyOf(tp.topic, tp.partition)) as number,
              remaining,
              ac.signal,
              m.isolation,
            ),
          ),
        );
      } finally {
        ac.abort(WAIT_OVER);
        opts.signal?.removeEventListener("abort", onAbort);
      }
    }
  }

  /**
   * Commits offsets for a member (fenced by its epoch and ownership); without explicit offsets,
   * the member's current positions. Offsets must lie within [0, highWatermark].
   */
  async commit(
    groupId: string,
    memberId: string,
    memberEpoch: number,
    offsets?: { topic: string; partition: number; offset: number; metadata?: string | null }[],
  ): Promise<{ topic: string; partition: number; offset: number }[]> {
    const m = this.memberRuntime(groupId, memberId);
    const list =
      offsets ??
      [...m.positions].map(([k, offset]) => {
        const [topic, partition] = k.split("\u0000");
        return { topic, partition: Number(partition), offset, metadata: null };
      });
    for (const o of list) {
      this.coordinator.validateCommit(groupId, memberId, memberEpoch, o.topic, o.partition);
      await this.assertCommittable(o.topic, o.partition, o.offset);
    }
    await this.persist(groupId, list);
    return list.map(({ topic, partition, offset }) => ({ topic, partition, offset }));
  }

  /**
   * KIP-447 TxnOffsetCommit fencing: `memberId` at `memberEpoch` must be a current member of the
   * group owning every partition, and the offsets must lie within the log.
   */
  async validateTransactionalOffsets(
    groupId: string,
    memberId: string,
    memberEpoch: number,
    offsets: readonly { topic: string; partition: number; offset: number }[],
  ): Promise<void> {
    this.memberRuntime(groupId, memberId);
    for (const o of offsets) {
      this.coordinator.validateCommit(groupId, memberId, memberEpoch, o.topic, o.partition);
      await this.assertCommittable(o.topic, o.partition, o.offset);
    }
  }

  /** Stores the offsets of a committed transaction (checked when they were added to it). */
  async commitTransactionalOffsets(
    groupId: string,
    offsets: readonly { topic: string; partition: number; offset: number; metadata?: string | null }[],
  ): Promise<void> {
    await this.persist(groupId, [...offsets]);
  }

  private async assertCommittable(topic: string, partition: number, offset: number): Promise<void> {
    const w = await this.log.watermarks(topic, partition);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > w.highWatermark) {
      throw new GroupError(
        "INVALID_REQUEST",
        `offset ${offset} for ${topic}-${partition} is outside [0, ${w.highWatermark}] (the high watermark)`,
        {
          topic,
          partition,
          offset,
          logStartOffset: w.logStartOffset,
          highWatermark: w.highWatermark,
        },
      );
    }
  }

  private async persist(
    groupId: string,
    list: { topic: string; partition: number; offset: number; metadata?: string | null }[],
  ): Promise<void> {
    if (list.length === 0) return;
    const rows = list.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset, metadata: o.metadata ?? null }));
    await this.store.commitOffsets(groupId, rows);
    const cache = await this.committedOf(groupId);
    const now = Date.now();
    for (const r of rows) cache.set(keyOf(r.topic, r.partition), { ...r, commitTimestamp: now });
  }

  // ---- inspection --------------------------------------------------------------------------

  /** `counts`: every topic's partition count, read once by callers that view many groups. */
  private async offsetsView(groupId: string, d: GroupDescription | null, counts?: Map<string, number>): Promise<PartitionOffsetView[]> {
    const committed = await this.committedOf(groupId);
    const runtimes = this.members.get(groupId);
    const owners = new Map<string, string>();
    const topics = new Set<string>();
    for (const member of d?.members ?? []) {
      for (const t of member.subscribedTopics) topics.add(t);
      for (const tp of fromTopicPartitions(member.assignment)) owners.set(keyOf(tp.topic, tp.partition), member.memberId);
    }
    for (const c of committed.values()) topics.add(c.topic);
    counts ??= await this.log.topicPartitionCounts();
    const out: PartitionOffsetView[] = [];
    for (const topic of [...topics].sort()) {
      const n = counts.get(topic) ?? 0;
      for (let partition = 0; partition < n; partition++) {
        const k = keyOf(topic, partition);
        const c = committed.get(k);
        const w = await this.log.watermarks(topic, partition);
        const owner = owners.get(k) ?? null;
        // unread partitions count too (as kafka-consumer-groups shows them): from where a consumer would start
        const lagBasis: LagBasis = c ? "committed" : owner && runtimes?.get(owner)?.autoOffsetReset === "latest" ? "latest" : "earliest";
        const from = c ? c.offset : lagBasis === "latest" ? w.highWatermark : w.logStartOffset;
        out.push({
          topic,
          partition,
          committedOffset: c?.offset ?? null,
          metadata: c?.metadata ?? null,
          logStartOffset: w.logStartOffset,
          highWatermark: w.highWatermark,
          lag: Math.max(0, w.highWatermark - from),
          lagBasis,
          owner,
        });
      }
    }
    return out;
  }

  async describeGroup(groupId: string): Promise<GroupView> {
    validateGroupId(groupId);
    if (!this.coordinator.group(groupId)) {
      // known only to another process or from the database
      if ((await this.committedOf(groupId)).size === 0) {
        this.committed.delete(groupId);
        throw groupNotFound(groupId);
      }
      this.coordinator.ensureGroup(groupId);
    }
    const d = this.coordinator.describeGroup(groupId);
    const offsets = await this.offsetsView(groupId, d);
    return {
      ...d,
      offsets,
      totalLag: offsets.reduce((s, o) => s + o.lag, 0),
      lagHistory: [...(this.history.get(groupId) ?? [])],
    };
  }

  /**
   * Every group this coordinator holds, described (members, assignments, offsets and lag) with
   * one read of the topic metadata (or `counts`, every topic's partition count as the caller just
   * read it): for views of the whole cluster, such as the live topology.
   */
  async describeGroups(counts?: Map<string, number>): Promise<Omit<GroupView, "lagHistory">[]> {
    counts ??= await this.log.topicPartitionCounts();
    const out: Omit<GroupView, "lagHistory">[] = [];
    for (const g of this.coordinator.listGroups()) {
      const d = this.coordinator.describeGroup(g.groupId);
      const offsets = await this.offsetsView(g.groupId, d, counts);
      out.push({ ...d, offsets, totalLag: offsets.reduce((s, o) => s + o.lag, 0) });
    }
    return out;
  }

  async listGroups(): Promise<GroupSummary[]> {
    for (const id of await this.store.findGroupIds()) {
      if (!this.coordinator.group(id)) {
        try {
          this.coordinator.ensureGroup(id);
        } catch {
          // unlisted (see start)
        }
      }
    }
    const out: GroupSummary[] = [];
    const counts = await this.log.topicPartitionCounts();
    for (const g of this.coordinator.listGroups()) {
      const offsets = await this.offsetsView(g.groupId, this.coordinator.describeGroup(g.groupId), counts);
      out.push({
        groupId: g.groupId,
        state: g.state,
        members: g.members,
        assignor: g.assignor,
        totalLag: offsets.reduce((s, o) => s + o.lag, 0),
        uncommittedPartitions: offsets.filter((o) => o.lagBasis !== "committed").length,
      });
    }
    return out;
  }

  private async sampleLag(): Promise<void> {
    await this.refreshMetadata();
    const now = Date.now();
    const counts = await this.log.topicPartitionCounts();
    for (const g of this.coordinator.listGroups()) {
      const offsets = await this.offsetsView(g.groupId, this.coordinator.describeGroup(g.groupId), counts);
      let h = this.history.get(g.groupId);
      if (!h) this.history.set(g.groupId, (h = []));
      h.push({ timestamp: now, totalLag: offsets.reduce((s, o) => s + o.lag, 0) });
      if (h.length > this.historySize) h.splice(0, h.length - this.historySize);
    }
  }

  // ---- administration ----------------------------------------------------------------------

  /**
   * Plans (dryRun) or applies an offset reset for all or some partitions. Applying is refused
   * while the group has members; the plan says per partition how many records are re-read or
   * skipped. New offsets are clamped to [logStartOffset, highWatermark].
   */
  async resetOffsets(
    groupId: string,
    target: ResetTarget,
    opts: { topics?: { topic: string; partitions?: number[] }[]; dryRun: boolean },
  ): Promise<{ dryRun: boolean; plan: ResetPlanEntry[] }> {
    validateGroupId(groupId);
    // The group is only registered when a reset is applied: a dry run or a refused request creates nothing.
    if (!this.coordinator.group(groupId) && (await this.committedOf(groupId)).size === 0 && !opts.topics?.length) {
      this.committed.delete(groupId);
      throw groupNotFound(groupId);
    }
    const group = this.coordinator.group(groupId);
    if (!opts.dryRun && group && group.size > 0) {
      throw new GroupError(
        "NON_EMPTY_GROUP",
        `group '${groupId}' has ${group.size} active member(s); stop its consumers before resetting offsets (a dry run is allowed)`,
        { groupId, members: group.size },
      );
    }
    const committed = await this.committedOf(groupId);
    const counts = await this.log.topicPartitionCounts();
    const selected: TopicPartition[] = [];
    if (opts.topics?.length) {
      for (const t of opts.topics) {
        const n = counts.get(t.topic);
        if (n === undefined) throw new GroupError("INVALID_REQUEST", `topic '${t.topic}' does not exist`, { topic: t.topic });
        for (const p of t.partitions ?? Array.from({ length: n }, (_, i) => i)) {
          if (!Number.isInteger(p) || p < 0 || p >= n) {
            throw new GroupError("INVALID_REQUEST", `topic '${t.topic}' has no partition ${p} (it has 0..${n - 1})`, {
              topic: t.topic,
              partition: p,
            });
          }
          selected.push({ topic: t.topic, partition: p });
        }
      }
    } else {
      const topics = new Set([...committed.values()].map((c) => c.topic));
      for (const topic of [...topics].sort()) {
        for (let p = 0; p < (counts.get(topic) ?? 0); p++) selected.push({ topic, partition: p });
      }
    }
    if (selected.length === 0) throw invalidGroupRequest(`group '${groupId}' has no committed offsets; name the topics to reset`);
    const plan: ResetPlanEntry[] = [];
    for (const tp of selected) {
      const w = await this.log.watermarks(tp.topic, tp.partition);
      const current = committed.get(keyOf(tp.topic, tp.partition))?.offset ?? null;
      let wanted: number;
      switch (target.to) {
        case "earliest":
          wanted = w.logStartOffset;
          break;
        case "latest":
          wanted = w.highWatermark;
          break;
        case "timestamp":
          wanted = (await this.log.offsetForTimestamp(tp.topic, tp.partition, target.timestamp)) ?? w.highWatermark;
          break;
        case "offset":
          wanted = target.offset;
          break;
        case "shift":
          wanted = (current ?? w.logStartOffset) + target.shiftBy;
          break;
      }
      const newOffset = Math.min(Math.max(wanted, w.logStartOffset), w.highWatermark);
      const from = current ?? newOffset;
      plan.push({
        topic: tp.topic,
        partition: tp.partition,
        currentOffset: current,
        newOffset,
        logStartOffset: w.logStartOffset,
        highWatermark: w.highWatermark,
        recordsToReread: Math.max(0, from - newOffset),
        recordsToSkip: Math.max(0, newOffset - from),
      });
    }
    if (!opts.dryRun) {
      this.coordinator.ensureGroup(groupId).assertNoActiveMembers(); // a member may have joined meanwhile
      await this.persist(
        groupId,
        plan.map((e) => ({ topic: e.topic, partition: e.partition, offset: e.newOffset })),
      );
    } else if (!this.coordinator.group(groupId) && (this.committed.get(groupId)?.size ?? 0) === 0) {
      this.committed.delete(groupId);
    }
    return { dryRun: opts.dryRun, plan };
  }

  /** Deletes an empty group and its committed offsets. */
  async deleteGroup(groupId: string): Promise<void> {
    validateGroupId(groupId);
    if (!this.coordinator.group(groupId)) {
      if ((await this.committedOf(groupId)).size === 0) throw groupNotFound(groupId);
      this.coordinator.ensureGroup(groupId);
    }
    this.coordinator.deleteGroup(groupId); // NON_EMPTY_GROUP while members remain
    await this.store.deleteGroup(groupId);
    this.committed.delete(groupId);
    this.members.delete(groupId);
    this.history.delete(groupId);
  }

  /** Deletes a group's committed offsets for one topic; refused while members subscribe to it. */
  async deleteOffsets(groupId: string, topic: string): Promise<number> {
    validateGroupId(groupId);
    if (!this.coordinator.group(groupId) && (await this.committedOf(groupId)).size === 0) {
      this.committed.delete(groupId); // no cache entry per unknown id asked about
      throw groupNotFound(groupId);
    }
    const d = this.coordinator.group(groupId)?.describe();
    if (d?.members.some((m) => m.subscribedTopics.includes(topic))) {
      throw new GroupError("GROUP_SUBSCRIBED_TO_TOPIC", `members of group '${groupId}' are subscribed to '${topic}'; stop them first`, {
        groupId,
        topic,
      });
    }
    const n = await this.store.deleteTopicOffsets(groupId, topic);
    const cache = await this.committedOf(groupId);
    for (const [k, c] of cache) if (c.topic === topic) cache.delete(k);
    return n;
  }
}
