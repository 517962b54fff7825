/**
 * Topic-partition value types and the small set algebra the coordinator needs. Assignments are
 * kept as sorted `TopicPartition[]` (cheap to compare, JSON-friendly); set operations go through
 * string keys. Topic names cannot contain NUL, so the key is unambiguous.
 */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/** The wire/reply shape of an assignment: one entry per topic, partitions ascending. */
export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

export type TopicPartitionKey = string;

export const keyOf = (topic: string, partition: number): TopicPartitionKey => `${topic}\u0000${partition}`;
export const tpKey = (tp: TopicPartition): TopicPartitionKey => keyOf(tp.topic, tp.partition);

export function compareTopicPartitions(a: TopicPartition, b: TopicPartition): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  return a.partition - b.partition;
}

export function sortTopicPartitions(tps: Iterable<TopicPartition>): TopicPartition[] {
  return [...tps].sort(compareTopicPartitions);
}

export function keySet(tps: Iterable<TopicPartition>): Set<TopicPartitionKey> {
  const s = new Set<TopicPartitionKey>();
  for (const tp of tps) s.add(tpKey(tp));
  return s;
}

/** Elements of `a` whose key is (`keep = true`) or is not (`keep = false`) in `keys`. */
export function filterByKeys(a: readonly TopicPartition[], keys: ReadonlySet<TopicPartitionKey>, keep: boolean): TopicPartition[] {
  return a.filter((tp) => keys.has(tpKey(tp)) === keep);
}

export const intersect = (a: readonly TopicPartition[], b: readonly TopicPartition[]) => filterByKeys(a, keySet(b), true);
export const subtract = (a: readonly TopicPartition[], b: readonly TopicPartition[]) => filterByKeys(a, keySet(b), false);

export function sameTopicPartitions(a: readonly TopicPartition[], b: readonly TopicPartition[]): boolean {
  if (a.length !== b.length) return false;
  const kb = keySet(b);
  return a.every((tp) => kb.has(tpKey(tp)));
}

/** Groups a flat list into the reply shape, sorted by topic then partition. */
export function toTopicPartitions(tps: Iterable<TopicPartition>): TopicPartitions[] {
  const out: TopicPartitions[] = [];
  for (const tp of sortTopicPartitions(tps)) {
    const last = out[out.length - 1];
    if (last && last.topic === tp.topic) last.partitions.push(tp.partition);
    else out.push({ topic: tp.topic, partitions: [tp.partition] });
  }
  return out;
}

export function fromTopicPartitions(list: readonly TopicPartitions[]): TopicPartition[] {
  const out: TopicPartition[] = [];
  for (const { topic, partitions } of list) for (const partition of partitions) out.push({ topic, partition });
  return out;
}
