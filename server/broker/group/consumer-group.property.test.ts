/**
 * Property-style test: many seeded random interleavings of joins, heartbeats (some with lost
 * replies), leaves, crashes, clock jumps with expiry, and topic growth. After every step no
 * partition may have two owners — on the coordinator's side or among the clients' own views —
 * and every client that is up to date must be able to commit what it holds. When things quiet
 * down, the group must converge to a balanced Stable assignment covering every partition.
 */
import { describe, expect, it } from "vitest";
import { ASSIGNOR_NAMES, type AssignorName } from "./assignors.ts";
import { ConsumerGroup, type GroupDescription } from "./consumer-group.ts";
import { isGroupError } from "../errors.ts";
import { rng, TestConsumer, type Subscription } from "./group-test-helpers.ts";
import { fromTopicPartitions, keyOf, type TopicPartition } from "./topic-partitions.ts";

const SESSION = 10_000;
const HB = 1_000;
/** Raise for a soak run: GROUP_PROPERTY_SEEDS=5000. */
const SEEDS = Number(process.env.GROUP_PROPERTY_SEEDS ?? 150);
const STEPS = 400;

const keys = (tps: TopicPartition[]) => tps.map((t) => keyOf(t.topic, t.partition));

function fail(seed: number, step: number, message: string, d: GroupDescription): never {
  throw new Error(`seed ${seed} step ${step}: ${message}\n${JSON.stringify(d, null, 1)}`);
}

function checkInvariants(seed: number, step: number, group: ConsumerGroup, clients: TestConsumer[]): void {
  const d = group.describe();
  const serverOwner = new Map<string, string>();
  const byId = new Map(d.members.map((m) => [m.memberId, m]));
  for (const m of d.members) {
    for (const k of keys([...fromTopicPartitions(m.assignment), ...fromTopicPartitions(m.pendingRevocation)])) {
      if (serverOwner.has(k)) fail(seed, step, `${k} owned by ${serverOwner.get(k)} and ${m.memberId}`, d);
      serverOwner.set(k, m.memberId);
    }
  }
  const clientOwner = new Map<string, string>();
  for (const c of clients) {
    const m = byId.get(c.memberId);
    if (!m) {
      // A zombie (expired while it was not looking): whatever it holds, it can no longer commit.
      for (const tp of c.partitions) {
        try {
          group.validateCommit(c.memberId, c.epoch, tp.topic, tp.partition);
          fail(seed, step, `zombie ${c.memberId} could commit ${tp.topic}-${tp.partition}`, d);
        } catch (e) {
          if (!isGroupError(e) || e.code !== "UNKNOWN_MEMBER_ID") throw e;
        }
      }
      continue;
    }
    for (const k of keys(c.partitions)) {
      if (clientOwner.has(k)) fail(seed, step, `clients ${clientOwner.get(k)} and ${c.memberId} both hold ${k}`, d);
      clientOwner.set(k, c.memberId);
      if (serverOwner.get(k) !== c.memberId) fail(seed, step, `client ${c.memberId} holds ${k}, coordinator says ${serverOwner.get(k)}`, d);
    }
    if (c.fresh) {
      if (c.epoch !== m.memberEpoch || JSON.stringify(c.owned) !== JSON.stringify(m.assignment)) {
        fail(seed, step, `up-to-date client ${c.memberId} disagrees with the coordinator`, d);
      }
      for (const tp of c.partitions) group.validateCommit(c.memberId, c.epoch, tp.topic, tp.partition);
    }
  }
  if (d.state === "Stable") {
    for (const m of d.members) {
      if (JSON.stringify(m.assignment) !== JSON.stringify(m.targetAssignment) || m.memberEpoch !== d.assignmentEpoch) {
        fail(seed, step, `Stable but ${m.memberId} is not reconciled`, d);
      }
    }
  }
  if ((d.state === "Empty") !== (d.members.length === 0)) fail(seed, step, "Empty iff no members", d);
}

function checkConverged(
  seed: number,
  group: ConsumerGroup,
  clients: TestConsumer[],
  topics: Map<string, number>,
  subscribed: (t: string) => boolean,
  assignor: AssignorName,
) {
  const d = group.describe();
  if (d.members.length === 0 && d.state === "Empty") return; // everyone left or crashed
  if (d.state !== "Stable") fail(seed, -1, `did not converge (state ${d.state})`, d);
  const all = [...topics]
    .filter(([t]) => subscribed(t))
    .flatMap(([topic, n]) => Array.from({ length: n }, (_, partition) => keyOf(topic, partition)));
  const assigned = d.members.flatMap((m) => keys(fromTopicPartitions(m.assignment)));
  expect(assigned.sort(), `seed ${seed}: every partition once`).toEqual(all.sort());
  for (const m of d.members) {
    expect(m.pendingRevocation).toEqual([]);
    expect(m.assignment).toEqual(m.targetAssignment);
  }
  for (const c of clients)
    expect(c.owned, `seed ${seed}: ${c.memberId}`).toEqual(d.members.find((m) => m.memberId === c.memberId)!.assignment);
  const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
  if (assignor === "range") {
    for (const [topic] of topics) {
      if (!subscribed(topic)) continue;
      const perMember = d.members.map((m) => fromTopicPartitions(m.assignment).filter((x) => x.topic === topic).length);
      expect(spread(perMember), `seed ${seed}: range balance of ${topic}`).toBeLessThanOrEqual(1);
    }
  } else {
    expect(spread(d.members.map((m) => fromTopicPartitions(m.assignment).length)), `seed ${seed}: balance`).toBeLessThanOrEqual(1);
  }
}

function runScenario(seed: number) {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const assignor = pick(ASSIGNOR_NAMES);
  const regex = random() < 0.3;
  const topics = new Map<string, number>();
  const nTopics = 1 + Math.floor(random() * 3);
  for (let i = 0; i < nTopics; i++) topics.set(regex ? `in-${i}` : `t${i}`, 1 + Math.floor(random() * 10));
  if (regex) topics.set("unrelated", 3);
  const subscribed = (t: string) => (regex ? t.startsWith("in-") : true);
  const subscription = (): Subscription => ({
    ...(regex ? { subscribedTopicRegex: "in-\\d+" } : { subscribedTopicNames: [...topics.keys()] }),
    serverAssignor: random() < 0.7 ? assignor : undefined,
    rebalanceTimeoutMs: 3_000 + Math.floor(random() * 20_000),
  });

  const group = new ConsumerGroup("g", {
    topics,
    config: { sessionTimeoutMs: SESSION, heartbeatIntervalMs: HB, defaultAssignor: assignor },
  });
  let clients: TestConsumer[] = [];
  const crashed = new Set<TestConsumer>();
  let now = 0;
  let nextId = 0;
  const stats = { heartbeats: 0, rejoins: 0, expired: 0 };

  const expire = () => {
    stats.expired += group.expireMembers(now).length;
    const members = new Set(group.describe().members.map((m) => m.memberId));
    // Crashed clients are gone for good once the coordinator has noticed.
    clients = clients.filter((c) => !(crashed.has(c) && !members.has(c.memberId)));
  };

  for (let step = 0; step < STEPS; step++) {
    const live = clients.filter((c) => !crashed.has(c));
    const r = random();
    if (r < 0.12 || live.length === 0) {
      if (live.length < 6) {
        const c = new TestConsumer(group, `m${String(nextId++).padStart(2, "0")}`, subscription());
        c.join(now);
        clients.push(c);
      }
    } else if (r < 0.66) {
      const c = pick(live);
      c.heartbeat(now, { lose: random() < 0.1 });
      stats.heartbeats++;
    } else if (r < 0.7) {
      const c = pick(live);
      try {
        c.leave();
      } catch (e) {
        if (!isGroupError(e) || e.code !== "UNKNOWN_MEMBER_ID") throw e; // it had already been expired
      }
      clients = clients.filter((x) => x !== c);
    } else if (r < 0.74) {
      crashed.add(pick(live));
    } else if (r < 0.93) {
      now += Math.floor(random() * 3_000);
      expire();
    } else {
      const topic = pick([...topics.keys()].filter(subscribed));
      if (regex && random() < 0.5) topics.set(`in-${topics.size + 10}`, 1 + Math.floor(random() * 3));
      else topics.set(topic, topics.get(topic)! + 1 + Math.floor(random() * 3));
      group.updateTopicMetadata(topics);
    }
    checkInvariants(seed, step, group, clients);
  }

  // Quiet down: live clients heartbeat on time until the crashed ones have expired...
  for (let i = 0; i < SESSION / HB + 2 && clients.some((c) => crashed.has(c)); i++) {
    now += HB;
    for (const c of clients) if (!crashed.has(c)) c.heartbeat(now);
    expire();
    checkInvariants(seed, STEPS, group, clients);
  }
  expect(clients.some((c) => crashed.has(c))).toBe(false);
  // ...then a few rounds of heartbeats settle every revocation and grant, let any client the
  // coordinator expired while it was slow find out and rejoin, and re-deliver lost replies.
  const settled = () =>
    group.state === "Stable" && clients.every((c) => c.fresh && group.describe().members.some((m) => m.memberId === c.memberId));
  for (let round = 0; round < 5 && !settled(); round++) {
    for (const c of clients) c.heartbeat(now);
    checkInvariants(seed, STEPS + 1 + round, group, clients);
  }
  checkConverged(seed, group, clients, topics, subscribed, assignor);
  stats.rejoins = clients.reduce((s, c) => s + c.rejoins, 0);
  return stats;
}

describe("consumer group under random interleavings", () => {
  const CHUNK = 50;
  const chunks = Array.from({ length: Math.ceil(SEEDS / CHUNK) }, (_, i) => [i * CHUNK + 1, Math.min(SEEDS, (i + 1) * CHUNK)]);
  const total = { heartbeats: 0, rejoins: 0, expired: 0 };

  it.each(chunks)(`never gives a partition two owners and converges to balanced Stable: seeds %i–%i × ${STEPS} steps`, (from, to) => {
    for (let seed = from; seed <= to; seed++) {
      const s = runScenario(seed);
      total.heartbeats += s.heartbeats;
      total.rejoins += s.rejoins;
      total.expired += s.expired;
    }
  });

  it("exercised expiry and fencing, not just happy paths", () => {
    expect(total.heartbeats).toBeGreaterThan(SEEDS * 100);
    expect(total.expired).toBeGreaterThan(SEEDS);
    expect(total.rejoins).toBeGreaterThan(SEEDS / 10);
  });
});
