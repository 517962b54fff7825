/** Topic-partitions as a member handles them: one per partition, and the wire's per-topic lists. */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/** The ConsumerGroupHeartbeat shape: partitions grouped by topic. */
export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

export const keyOf = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** Sorted by topic, then partition: how assignments are shown and reported. */
export function sortTopicPartitions(tps: Iterable<TopicPartition>): TopicPartition[] {
  return [...tps].sort((a, b) => (a.topic !== b.topic ? (a.topic < b.topic ? -1 : 1) : a.partition - b.partition));
}

export function toTopicPartitions(tps: Iterable<TopicPartition>): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const tp of sortTopicPartitions(tps)) {
    let list = byTopic.get(tp.topic);
    if (!list) byTopic.set(tp.topic, (list = []));
    list.push(tp.partition);
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
}

export function fromTopicPartitions(list: readonly TopicPartitions[]): TopicPartition[] {
  return list.flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition })));
}
