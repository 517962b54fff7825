/** Durable committed offsets of consumer groups (Kafka's __consumer_offsets). */

export interface CommittedOffset {
  topic: string;
  partition: number;
  offset: number;
  metadata: string | null;
  commitTimestamp: number;
}

export interface GroupOffsetStore {
  /** Every group id that has committed offsets. */
  findGroupIds(): Promise<string[]>;
  findOffsets(groupId: string): Promise<CommittedOffset[]>;
  /** Upserts all offsets in one transaction. */
  commitOffsets(groupId: string, offsets: Omit<CommittedOffset, "commitTimestamp">[]): Promise<void>;
  deleteGroup(groupId: string): Promise<number>;
  /** A group's offsets for one topic, or (groupId null) every group's, when the topic is deleted. */
  deleteTopicOffsets(groupId: string | null, topic: string): Promise<number>;
}
