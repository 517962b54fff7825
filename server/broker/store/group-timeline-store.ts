/** Durable rebalance timelines of consumer groups (issue #17): the last N events per group. */

export interface TimelinePartitions {
  topic: string;
  partitions: number[];
}

/** One change of a group, as recorded. */
export interface TimelineEventRecord {
  groupId: string;
  /** epoch ms */
  at: number;
  type: string;
  groupEpoch: number;
  memberId: string | null;
  clientId: string | null;
  memberEpoch: number | null;
  assignment: TimelinePartitions[] | null;
  pendingRevocation: TimelinePartitions[] | null;
}

/** A stored event with its sequence number (increasing in the order events were written). */
export interface StoredTimelineEvent extends TimelineEventRecord {
  seq: number;
}

export interface GroupTimelineStore {
  /** Writes the events in order, then deletes all but the newest `keepPerGroup` of each group written to. */
  append(events: readonly TimelineEventRecord[], keepPerGroup: number): Promise<void>;
  /** The group's events, oldest first (at most `limit`, the newest ones). */
  find(groupId: string, limit: number): Promise<StoredTimelineEvent[]>;
  deleteGroup(groupId: string): Promise<void>;
}
