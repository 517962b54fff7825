/**
 * Server-side partition assignors (KIP-848). Each maps members' subscriptions onto the
 * partitions of the subscribed topics so that every partition of a subscribed topic goes to
 * exactly one member subscribed to it. All are pure and deterministic: members are taken in
 * memberId order regardless of input order, so every coordinator computes the same target.
 */
import { compareTopicPartitions, keyOf, sortTopicPartitions, type TopicPartition } from "./topic-partitions.ts";

export interface AssignorMember {
  memberId: string;
  /** Already-resolved topic names (a regex subscription is expanded by the caller). */
  subscribedTopics: readonly string[];
}

/**
 * @param members       the group's members; order does not matter.
 * @param topicPartitions partition count per topic; subscribed topics missing here are ignored.
 * @param current       the previous assignment per member (only the sticky assignor reads it).
 * @returns an entry for every member (possibly empty), each list sorted by topic, partition.
 */
export type Assignor = (
  members: readonly AssignorMember[],
  topicPartitions: ReadonlyMap<string, number>,
  current: ReadonlyMap<string, readonly TopicPartition[]>,
) => Map<string, TopicPartition[]>;

export const ASSIGNOR_NAMES = ["range", "roundrobin", "sticky"] as const;
export type AssignorName = (typeof ASSIGNOR_NAMES)[number];
export const DEFAULT_ASSIGNOR: AssignorName = "sticky";

/**
 * Names other clients use for the same strategies (Kafka's server-side "uniform" is sticky).
 * A Map, not an object literal, so "constructor" and friends are not found on the prototype.
 */
const ALIASES: ReadonlyMap<string, AssignorName> = new Map([
  ["round-robin", "roundrobin"],
  ["uniform", "sticky"],
  ["cooperative-sticky", "sticky"],
]);

/** Canonical name for `name`, or undefined when no such assignor exists. */
export function resolveAssignorName(name: string): AssignorName | undefined {
  const n = name.trim().toLowerCase();
  return (ASSIGNOR_NAMES as readonly string[]).includes(n) ? (n as AssignorName) : ALIASES.get(n);
}

const byMemberId = (a: AssignorMember, b: AssignorMember) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0);

function sortedMembers(members: readonly AssignorMember[]): AssignorMember[] {
  return [...members].sort(byMemberId);
}

function emptyResult(members: readonly AssignorMember[]): Map<string, TopicPartition[]> {
  return new Map(sortedMembers(members).map((m) => [m.memberId, [] as TopicPartition[]]));
}

function finish(result: Map<string, TopicPartition[]>): Map<string, TopicPartition[]> {
  for (const [id, tps] of result) result.set(id, sortTopicPartitions(tps));
  return result;
}

/** Subscribed topics that exist, sorted, each with its subscribers in memberId order. */
function subscribersByTopic(members: readonly AssignorMember[], topicPartitions: ReadonlyMap<string, number>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of sortedMembers(members)) {
    for (const topic of new Set(m.subscribedTopics)) {
      if ((topicPartitions.get(topic) ?? 0) <= 0) continue;
      const list = out.get(topic) ?? [];
      list.push(m.memberId);
      out.set(topic, list);
    }
  }
  return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * Kafka's RangeAssignor: per topic, the subscribers (by memberId) get contiguous ranges; the
 * first `partitions % subscribers` of them get one extra. Co-partitioned topics therefore line up
 * (the same member gets partition k of every topic), at the cost of skew across many topics.
 */
export const rangeAssignor: Assignor = (members, topicPartitions) => {
  const result = emptyResult(members);
  for (const [topic, subscribers] of subscribersByTopic(members, topicPartitions)) {
    const count = topicPartitions.get(topic)!;
    const per = Math.floor(count / subscribers.length);
    const extra = count % subscribers.length;
    subscribers.forEach((memberId, i) => {
      const start = i * per + Math.min(i, extra);
      const length = per + (i < extra ? 1 : 0);
      for (let p = start; p < start + length; p++) result.get(memberId)!.push({ topic, partition: p });
    });
  }
  return finish(result);
};

/**
 * Kafka's RoundRobinAssignor: all subscribed topic-partitions sorted by (topic, partition), dealt
 * one by one around the memberId-sorted circle, skipping members not subscribed to the topic.
 * The circle position carries over between partitions, as in Kafka's CircularIterator.
 */
export const roundRobinAssignor: Assignor = (members, topicPartitions) => {
  const result = emptyResult(members);
  const ring = sortedMembers(members);
  const subs = new Map(ring.map((m) => [m.memberId, new Set(m.subscribedTopics)]));
  let at = 0;
  for (const [topic] of subscribersByTopic(members, topicPartitions)) {
    for (let partition = 0; partition < topicPartitions.get(topic)!; partition++) {
      // Someone is subscribed (subscribersByTopic only lists topics with subscribers), so this ends.
      while (!subs.get(ring[at % ring.length].memberId)!.has(topic)) at++;
      result.get(ring[at % ring.length].memberId)!.push({ topic, partition });
      at++;
    }
  }
  return finish(result);
};

/**
 * Sticky (the default): keep every member's still-valid current partitions, hand the unowned ones
 * to the least-loaded eligible member, then move partitions one at a time from a member to an
 * eligible member holding at least two fewer, until no such move exists.
 *
 * Why this shape: with identical subscriptions it ends balanced to within one and moves the
 * minimum number of partitions (a receiver only ever takes from someone two above it, so no
 * member that had to give ends up below one that received); with differing subscriptions it is
 * as balanced as single moves can make it. Each move lowers the sum of squared loads, so it ends.
 */
export const stickyAssignor: Assignor = (members, topicPartitions, current) => {
  const result = emptyResult(members);
  const subscribers = subscribersByTopic(members, topicPartitions);
  const subs = new Map(sortedMembers(members).map((m) => [m.memberId, new Set(m.subscribedTopics)]));
  const taken = new Set<string>();

  // 1. Keep what is still valid: the partition exists, the member is still subscribed to its
  //    topic, and no earlier (by memberId) member already kept it.
  for (const [memberId, mine] of result) {
    for (const tp of sortTopicPartitions(current.get(memberId) ?? [])) {
      const count = topicPartitions.get(tp.topic) ?? 0;
      const key = keyOf(tp.topic, tp.partition);
      if (tp.partition < 0 || tp.partition >= count || !subs.get(memberId)!.has(tp.topic) || taken.has(key)) continue;
      taken.add(key);
      mine.push({ topic: tp.topic, partition: tp.partition });
    }
  }

  // 2. Unowned partitions, the most constrained (fewest possible owners) first, each to the
  //    least-loaded eligible member (ties by memberId).
  const unowned: TopicPartition[] = [];
  for (const [topic] of subscribers) {
    for (let partition = 0; partition < topicPartitions.get(topic)!; partition++) {
      if (!taken.has(keyOf(topic, partition))) unowned.push({ topic, partition });
    }
  }
  unowned.sort((a, b) => subscribers.get(a.topic)!.length - subscribers.get(b.topic)!.length || compareTopicPartitions(a, b));
  for (const tp of unowned) {
    const to = leastLoaded(subscribers.get(tp.topic)!, result);
    result.get(to)!.push(tp);
  }

  // 3. Rebalance by single moves from the most loaded member downwards.
  for (;;) {
    const move = findBalancingMove(result, subscribers);
    if (!move) break;
    const from = result.get(move.from)!;
    from.splice(from.indexOf(move.tp), 1);
    result.get(move.to)!.push(move.tp);
  }
  return finish(result);
};

function leastLoaded(candidates: readonly string[], load: ReadonlyMap<string, readonly TopicPartition[]>): string {
  let best = candidates[0];
  for (const c of candidates) if (load.get(c)!.length < load.get(best)!.length) best = c; // candidates are id-sorted
  return best;
}

/**
 * The donor is the most loaded member that can give anything (ties by memberId); it gives its
 * highest-sorted partition that has an eligible receiver, to the least-loaded such receiver.
 */
function findBalancingMove(
  result: ReadonlyMap<string, TopicPartition[]>,
  subscribers: ReadonlyMap<string, string[]>,
): { from: string; to: string; tp: TopicPartition } | undefined {
  const donors = [...result.keys()].sort((a, b) => result.get(b)!.length - result.get(a)!.length || (a < b ? -1 : 1));
  for (const from of donors) {
    const load = result.get(from)!.length;
    if (load < 2) break;
    for (const tp of sortTopicPartitions(result.get(from)!).reverse()) {
      const receivers = subscribers.get(tp.topic)!.filter((r) => result.get(r)!.length <= load - 2);
      if (receivers.length === 0) continue;
      const original = result.get(from)!.find((x) => x.topic === tp.topic && x.partition === tp.partition)!;
      return { from, to: leastLoaded(receivers, result), tp: original };
    }
  }
  return undefined;
}

export const ASSIGNORS: Readonly<Record<AssignorName, Assignor>> = {
  range: rangeAssignor,
  roundrobin: roundRobinAssignor,
  sticky: stickyAssignor,
};
