/**
 * A group's rebalance timeline as the console scrubs it: the recorded events, and replayed from
 * them, per group epoch which member owned which partition at its end and how long each
 * partition was without an owner during it, and every stretch without an owner (a gap) while
 * the group had members. Ownership is KIP-848's: a member owns its assignment and the partitions
 * pending revocation until it releases them; a partition is granted only once released, so a
 * gap lasts from a release (a revocation released, a member gone) to the next grant.
 */
import type { StoredTimelineEvent } from "../broker/broker.ts";
import type { TGroupTimeline, TTimelineEpoch, TTimelineEvent, TTimelineEventType, TUnownedGap } from "../schemas/topology.ts";

/** Gaps listed at most (the newest); each epoch still counts every one. */
export const MAX_GAPS = 5000;

const REMOVALS: ReadonlySet<string> = new Set(["member-left", "member-rejoined", "session-timeout", "rebalance-timeout"]);

type Key = string;
const keyOf = (topic: string, partition: number): Key => `${partition}\u0000${topic}`;
function tpOf(k: Key): { topic: string; partition: number } {
  const i = k.indexOf("\u0000");
  return { topic: k.slice(i + 1), partition: Number(k.slice(0, i)) };
}

function grouped(keys: Iterable<Key>): { topic: string; partitions: number[] }[] {
  const byTopic = new Map<string, number[]>();
  for (const k of keys) {
    const { topic, partition } = tpOf(k);
    let ps = byTopic.get(topic);
    if (!ps) byTopic.set(topic, (ps = []));
    ps.push(partition);
  }
  return [...byTopic]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }));
}

export function groupTimelineView(groupId: string, stored: StoredTimelineEvent[], limit: number, now = Date.now()): TGroupTimeline {
  const members = new Map<string, { clientId: string; owned: Set<Key> }>();
  const unownedSince = new Map<Key, number>();
  const gaps: TUnownedGap[] = [];
  const epochs: TTimelineEpoch[] = [];
  let epoch: { groupEpoch: number; from: number; unowned: Map<Key, number> } | null = null;

  const addUnowned = (k: Key, from: number, to: number) => {
    if (!epoch) return;
    const ms = to - Math.max(from, epoch.from);
    if (ms > 0) epoch.unowned.set(k, (epoch.unowned.get(k) ?? 0) + ms);
  };
  const closeEpoch = (at: number) => {
    if (!epoch) return;
    for (const [k, since] of unownedSince) addUnowned(k, since, at);
    epochs.push({
      groupEpoch: epoch.groupEpoch,
      from: epoch.from,
      to: at,
      members: [...members]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([memberId, m]) => ({ memberId, clientId: m.clientId, owned: grouped(m.owned) })),
      unowned: [...epoch.unowned].map(([k, ms]) => ({ ...tpOf(k), ms })),
    });
  };
  const release = (k: Key, at: number) => {
    if (members.size > 0) unownedSince.set(k, at);
  };
  const grant = (k: Key, at: number) => {
    const since = unownedSince.get(k);
    if (since === undefined) return;
    unownedSince.delete(k);
    addUnowned(k, since, at);
    gaps.push({ ...tpOf(k), from: since, to: at, ms: at - since });
  };

  const events: TTimelineEvent[] = stored.map((e) => {
    if (!epoch || e.groupEpoch !== epoch.groupEpoch) {
      closeEpoch(e.at);
      epoch = { groupEpoch: e.groupEpoch, from: e.at, unowned: new Map() };
    }
    const type = e.type as TTimelineEventType;
    let clientId = e.clientId;
    if (type === "member-joined" && e.memberId !== null) {
      members.set(e.memberId, { clientId: e.clientId ?? "", owned: new Set() });
    } else if (REMOVALS.has(type) && e.memberId !== null) {
      const m = members.get(e.memberId);
      members.delete(e.memberId);
      for (const k of m?.owned ?? []) release(k, e.at);
      if (members.size === 0) {
        // nobody left to own anything: the gaps end with the group's last member
        for (const k of [...unownedSince.keys()]) grant(k, e.at);
      }
    } else if (type === "assignment-changed" && e.memberId !== null) {
      let m = members.get(e.memberId);
      // a member whose join was trimmed from the timeline
      if (!m) members.set(e.memberId, (m = { clientId: "", owned: new Set() }));
      const owned = new Set<Key>();
      for (const tps of [...(e.assignment ?? []), ...(e.pendingRevocation ?? [])]) {
        for (const p of tps.partitions) owned.add(keyOf(tps.topic, p));
      }
      for (const k of m.owned) if (!owned.has(k)) release(k, e.at);
      for (const k of owned) if (!m.owned.has(k)) grant(k, e.at);
      m.owned = owned;
    }
    if (clientId === null && e.memberId !== null) clientId = members.get(e.memberId)?.clientId || null;
    return {
      seq: e.seq,
      at: e.at,
      type,
      groupEpoch: e.groupEpoch,
      memberId: e.memberId,
      clientId,
      memberEpoch: e.memberEpoch,
      assignment: e.assignment,
      pendingRevocation: e.pendingRevocation,
    };
  });
  const last = epoch as { groupEpoch: number; from: number; unowned: Map<Key, number> } | null;
  if (last) {
    closeEpoch(now);
    epochs[epochs.length - 1].to = null;
  }
  for (const [k, since] of unownedSince) gaps.push({ ...tpOf(k), from: since, to: null, ms: now - since });
  gaps.sort((a, b) => a.from - b.from);
  return {
    groupId,
    events,
    truncated: stored.length >= limit,
    limit,
    epochs,
    gaps: gaps.slice(-MAX_GAPS),
  };
}
