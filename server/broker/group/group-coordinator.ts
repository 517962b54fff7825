/**
 * All consumer groups of one broker, in memory: routes heartbeats to their group (creating it on
 * a first join), fans topic metadata out, expires members, and answers list/describe/delete.
 * Still pure — no timers, no storage: the broker façade calls `expireMembers(now)` on a timer
 * (see `nextDeadlineMs`), feeds `updateTopicMetadata` on topic create/delete/partition changes,
 * and stores committed offsets after `validateCommit` passes.
 */
import {
  ConsumerGroup,
  validateGroupId,
  type ConsumerGroupHeartbeatRequest,
  type ConsumerGroupHeartbeatResponse,
  type ConsumerGroupOptions,
  type ExpiredMember,
  type GroupDescription,
} from "./consumer-group.ts";
import { groupNotFound } from "../errors.ts";
import type { GroupState } from "./group-states.ts";
import type { AssignorName } from "./assignors.ts";

export interface GroupListing {
  groupId: string;
  protocolType: "consumer";
  state: GroupState;
  members: number;
  assignor: AssignorName | null;
  groupEpoch: number;
}

export type CoordinatorOptions = ConsumerGroupOptions;

export class GroupCoordinator {
  private readonly groups = new Map<string, ConsumerGroup>();
  private topics: Map<string, number>;

  constructor(private readonly options: CoordinatorOptions = {}) {
    this.topics = new Map(options.topics ?? []);
  }

  /**
   * ConsumerGroupHeartbeat for `groupId`. A join (memberEpoch 0) creates the group if needed;
   * any other epoch for an unknown group fails with GROUP_ID_NOT_FOUND, as in Kafka.
   */
  heartbeat(groupId: string, request: ConsumerGroupHeartbeatRequest, now: number): ConsumerGroupHeartbeatResponse {
    validateGroupId(groupId);
    const existed = this.groups.has(groupId);
    const group = request?.memberEpoch === 0 ? this.ensureGroup(groupId) : this.get(groupId);
    try {
      return group.heartbeat(request, now);
    } catch (e) {
      if (!existed) this.groups.delete(groupId); // a rejected first join must not leave a group behind
      throw e;
    }
  }

  leave(groupId: string, memberId: string): void {
    this.get(groupId).leave(memberId);
  }

  /**
   * Registers an (empty) group if it does not exist, e.g. one known only from committed offsets
   * loaded at start-up, so it is listed and describable.
   */
  ensureGroup(groupId: string): ConsumerGroup {
    validateGroupId(groupId);
    let group = this.groups.get(groupId);
    if (!group) {
      group = new ConsumerGroup(groupId, { ...this.options, topics: this.topics });
      this.groups.set(groupId, group);
    }
    return group;
  }

  /** The group, or undefined; for callers that need the full `ConsumerGroup` API. */
  group(groupId: string): ConsumerGroup | undefined {
    return this.groups.get(groupId);
  }

  /** Expires members in every group; returns who was removed, for logging and events. */
  expireMembers(now: number): (ExpiredMember & { groupId: string })[] {
    const out: (ExpiredMember & { groupId: string })[] = [];
    for (const group of this.groups.values()) {
      for (const e of group.expireMembers(now)) out.push({ groupId: group.groupId, ...e });
    }
    return out;
  }

  /** When `expireMembers` next has work, across all groups. */
  nextDeadlineMs(): number | undefined {
    let next: number | undefined;
    for (const group of this.groups.values()) {
      const t = group.nextDeadlineMs();
      if (t !== undefined && (next === undefined || t < next)) next = t;
    }
    return next;
  }

  /** The full topic → partition count map after any topic change; groups rebalance if affected. */
  updateTopicMetadata(topics: ReadonlyMap<string, number>): void {
    this.topics = new Map(topics);
    for (const group of this.groups.values()) group.updateTopicMetadata(this.topics);
  }

  /** See `ConsumerGroup.validateCommit`. An admin commit to an unknown group is allowed. */
  validateCommit(groupId: string, memberId: string, memberEpoch: number, topic: string, partition: number): void {
    validateGroupId(groupId);
    const group = this.groups.get(groupId);
    if (!group) {
      if (memberId === "" && memberEpoch < 0) return;
      throw groupNotFound(groupId);
    }
    group.validateCommit(memberId, memberEpoch, topic, partition);
  }

  /** Sorted by group id; optionally only groups in the given states. */
  listGroups(filter: { states?: readonly GroupState[] } = {}): GroupListing[] {
    return [...this.groups.values()]
      .filter((g) => !filter.states || filter.states.includes(g.state))
      .sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0))
      .map((g) => ({
        groupId: g.groupId,
        protocolType: "consumer",
        state: g.state,
        members: g.size,
        assignor: g.assignor ?? null,
        groupEpoch: g.groupEpoch,
      }));
  }

  describeGroup(groupId: string): GroupDescription {
    return this.get(groupId).describe();
  }

  /**
   * Deletes an empty group (NON_EMPTY_GROUP otherwise). The caller deletes its committed offsets;
   * a later join under the same id starts a brand-new group at epoch 0.
   */
  deleteGroup(groupId: string): void {
    const group = this.get(groupId);
    group.markDead();
    this.groups.delete(groupId);
  }

  private get(groupId: string): ConsumerGroup {
    validateGroupId(groupId);
    const group = this.groups.get(groupId);
    if (!group) throw groupNotFound(groupId);
    return group;
  }
}
