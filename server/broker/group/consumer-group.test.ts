import { describe, expect, it } from "vitest";
import { ConsumerGroup, type ConsumerGroupOptions, type GroupEvent } from "./consumer-group.ts";
import { GroupError, type GroupErrorCode } from "../errors.ts";
import { TestConsumer, type Subscription } from "./group-test-helpers.ts";
import { fromTopicPartitions, keyOf, type TopicPartition } from "./topic-partitions.ts";

const HB = 5_000;
const SESSION = 45_000;

function newGroup(topics: Record<string, number> = { t: 12 }, options: ConsumerGroupOptions = {}) {
  let n = 0;
  return new ConsumerGroup("g", {
    topics: new Map(Object.entries(topics)),
    newMemberId: () => `generated-${++n}`,
    ...options,
    config: { heartbeatIntervalMs: HB, sessionTimeoutMs: SESSION, ...options.config },
  });
}

function expectGroupError(fn: () => unknown, code: GroupErrorCode): GroupError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GroupError);
    expect((e as GroupError).code).toBe(code);
    expect((e as GroupError).isBrokerError).toBe(true);
    return e as GroupError;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

/** No partition is attributed to two members (granted or pending revocation). */
function expectSingleOwners(group: ConsumerGroup) {
  const seen = new Map<string, string>();
  for (const m of group.describe().members) {
    for (const tp of [...fromTopicPartitions(m.assignment), ...fromTopicPartitions(m.pendingRevocation)]) {
      const k = keyOf(tp.topic, tp.partition);
      expect(seen.get(k), `${tp.topic}-${tp.partition} owned by ${seen.get(k)} and ${m.memberId}`).toBeUndefined();
      seen.set(k, m.memberId);
      expect(group.ownerOf(tp.topic, tp.partition)).toBe(m.memberId);
    }
  }
}

/** Heartbeats everyone in rounds until the group is Stable; returns the number of rounds. */
function stabilize(group: ConsumerGroup, consumers: TestConsumer[], now: number, maxRounds = 10): number {
  for (let round = 1; round <= maxRounds; round++) {
    for (const c of consumers) {
      c.heartbeat(now);
      expectSingleOwners(group);
    }
    if (group.state === "Stable") return round;
  }
  throw new Error(`not Stable after ${maxRounds} rounds: ${JSON.stringify(group.describe(), null, 1)}`);
}

const counts = (cs: TestConsumer[]) => cs.map((c) => c.partitions.length);
const has = (list: TopicPartition[], topic: string, partition: number) => list.some((x) => x.topic === topic && x.partition === partition);

function threeStable(subscription?: Subscription) {
  const group = newGroup();
  const cs = ["a", "b", "c"].map((id) => new TestConsumer(group, id, subscription));
  for (const c of cs) c.join(0);
  stabilize(group, cs, 0);
  return { group, cs, a: cs[0], b: cs[1], c: cs[2] };
}

describe("joining", () => {
  it("gives the first member every partition at once: Empty → Stable, epoch 1", () => {
    const events: GroupEvent[] = [];
    const g = newGroup({ t: 12 }, { onEvent: (e) => events.push(e) });
    expect(g.state).toBe("Empty");
    const reply = g.join({ memberId: "a", subscribedTopicNames: ["t"], clientId: "app", host: "10.0.0.1" }, 0);
    expect(reply).toEqual({
      memberId: "a",
      memberEpoch: 1,
      heartbeatIntervalMs: HB,
      assignment: [{ topic: "t", partitions: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] }],
    });
    expect(g.state).toBe("Stable");
    expect(g.groupEpoch).toBe(1);
    expect(g.assignmentEpoch).toBe(1);
    expect(g.assignor).toBe("sticky");
    expect(events).toEqual([
      { type: "member-joined", groupId: "g", memberId: "a", clientId: "app" },
      { type: "epoch-bumped", groupId: "g", groupEpoch: 1 },
      { type: "assignment-changed", groupId: "g", memberId: "a", memberEpoch: 1, assignment: reply.assignment, pendingRevocation: [] },
      { type: "state-changed", groupId: "g", from: "Empty", to: "Stable" },
    ]);
  });

  it("generates a member id when the join brings none", () => {
    const group = newGroup();
    expect(group.join({ subscribedTopicNames: ["t"] }, 0).memberId).toBe("generated-1");
    expect(group.join({ subscribedTopicNames: ["t"] }, 0).memberId).toBe("generated-2");
  });

  it("spreads 12 partitions over 3 members as 4 each", () => {
    const { group, cs } = threeStable();
    expect(counts(cs)).toEqual([4, 4, 4]);
    expect(group.state).toBe("Stable");
    expect(group.groupEpoch).toBe(3);
    for (const m of group.describe().members) {
      expect(m.memberEpoch).toBe(3);
      expect(m.assignment).toEqual(m.targetAssignment);
      expect(m.state).toBe("Stable");
    }
    expect(new Set(cs.flatMap((c) => c.partitions.map((p) => p.partition))).size).toBe(12);
  });

  it("does not hand a joiner partitions that others still own", () => {
    const group = newGroup();
    new TestConsumer(group, "a").join(0);
    const reply = group.join({ memberId: "b", subscribedTopicNames: ["t"] }, 0);
    expect(reply.assignment).toEqual([]);
    expect(reply.memberEpoch).toBe(2);
    expect(group.state).toBe("PreparingRebalance");
  });
});

describe("a 4th member joining 3 × 4 of 12", () => {
  it("revokes before reassigning, lets the old owner commit first, and ends at 3/3/3/3 moving 3 partitions", () => {
    const { group, cs, a } = threeStable();
    const before = new Map(cs.map((c) => [c.memberId, c.partitions]));
    const d = new TestConsumer(group, "d");

    expect(d.join(0).assignment).toEqual([]); // all 12 are still owned
    expect(d.epoch).toBe(4);
    expect(group.state).toBe("PreparingRebalance");

    // a is told to give one partition up: it is left out of the reply, a stays at epoch 3.
    a.heartbeat(1);
    expect(a.partitions).toHaveLength(3);
    expect(a.epoch).toBe(3);
    const [revoked] = group
      .describe()
      .members.find((m) => m.memberId === "a")!
      .pendingRevocation.flatMap((x) => x.partitions.map((partition) => ({ topic: x.topic, partition })));
    expect(has(before.get("a")!, revoked.topic, revoked.partition)).toBe(true);
    expect(group.ownerOf("t", revoked.partition)).toBe("a");
    expect(() => group.validateCommit("a", 3, "t", revoked.partition)).not.toThrow(); // commit before letting go

    // d asks again: a has not confirmed yet, so d still gets nothing.
    expect(d.heartbeat(2)!.assignment).toEqual([]);
    // a's next heartbeat no longer lists it: released, and a moves to epoch 4.
    a.heartbeat(3);
    expect(a.epoch).toBe(4);
    expect(group.ownerOf("t", revoked.partition)).toBeUndefined();
    expectGroupError(() => group.validateCommit("a", 4, "t", revoked.partition), "ILLEGAL_GENERATION");
    d.heartbeat(4);
    expect(has(d.partitions, "t", revoked.partition)).toBe(true);

    stabilize(group, [...cs, d], 5);
    expect(counts([...cs, d])).toEqual([3, 3, 3, 3]);
    let moved = 0;
    for (const c of cs) for (const p of before.get(c.memberId)!) if (!has(c.partitions, p.topic, p.partition)) moved++;
    expect(moved).toBe(3);
  });

  it("passes Stable → PreparingRebalance → CompletingRebalance → Stable", () => {
    const states: string[] = [];
    const group = newGroup({ t: 12 }, { onEvent: (e) => e.type === "state-changed" && states.push(e.to) });
    const cs = ["a", "b", "c"].map((id) => new TestConsumer(group, id));
    for (const c of cs) c.join(0);
    stabilize(group, cs, 0);
    states.length = 0;
    const d = new TestConsumer(group, "d");
    d.join(0);
    stabilize(group, [...cs, d], 0);
    expect(states[0]).toBe("PreparingRebalance");
    expect(states).toContain("CompletingRebalance");
    expect(states.at(-1)).toBe("Stable");
  });
});

describe("leaving and timing out", () => {
  it("frees a leaver's partitions at once; survivors take them on their next heartbeat", () => {
    const { group, a, b, c } = threeStable();
    const aParts = a.partitions;
    a.leave();
    expect(group.size).toBe(2);
    for (const p of aParts) expect(group.ownerOf(p.topic, p.partition)).toBeUndefined();
    b.heartbeat(1);
    c.heartbeat(1);
    expect(counts([b, c])).toEqual([6, 6]);
    expect(group.state).toBe("Stable");
    expectGroupError(() => group.heartbeat({ memberId: "a", memberEpoch: 3 }, 2), "UNKNOWN_MEMBER_ID");
  });

  it("leave through a heartbeat with epoch -1 answers epoch -1 and no assignment", () => {
    const { group } = threeStable();
    expect(group.heartbeat({ memberId: "a", memberEpoch: -1 }, 1)).toEqual({
      memberId: "a",
      memberEpoch: -1,
      heartbeatIntervalMs: HB,
      assignment: [],
    });
    expect(group.size).toBe(2);
  });

  it("removes a member that misses its session timeout; survivors own its partitions within the timeout", () => {
    const { group, a, b, c } = threeStable();
    const cParts = c.partitions;
    expect(group.nextDeadlineMs()).toBe(SESSION);
    let now = 0;
    let expired: ReturnType<ConsumerGroup["expireMembers"]> = [];
    while (expired.length === 0) {
      now += HB;
      a.heartbeat(now);
      b.heartbeat(now);
      expired = group.expireMembers(now);
    }
    expect(now).toBe(SESSION);
    expect(expired).toEqual([{ memberId: "c", reason: "session-timeout" }]);
    // Within one heartbeat interval (< session timeout) the survivors have c's partitions.
    a.heartbeat(now + HB);
    b.heartbeat(now + HB);
    expect(counts([a, b])).toEqual([6, 6]);
    for (const p of cParts) expect(["a", "b"]).toContain(group.ownerOf(p.topic, p.partition));
    expect(group.state).toBe("Stable");
    // The zombie is fenced from committing and heartbeating.
    expectGroupError(() => group.validateCommit("c", c.epoch, "t", cParts[0].partition), "UNKNOWN_MEMBER_ID");
    expectGroupError(() => group.heartbeat({ memberId: "c", memberEpoch: c.epoch }, now), "UNKNOWN_MEMBER_ID");
  });

  it("does not expire a member heartbeating within its session timeout", () => {
    const { group, cs } = threeStable();
    for (let now = HB; now <= 10 * SESSION; now += HB) {
      for (const c of cs) c.heartbeat(now);
      expect(group.expireMembers(now)).toEqual([]);
    }
    expect(group.size).toBe(3);
  });

  it("removes a member that will not give up a revoked partition after its rebalance timeout", () => {
    const group = newGroup({ t: 2 });
    const a = group.join({ memberId: "a", subscribedTopicNames: ["t"], rebalanceTimeoutMs: 10_000 }, 0);
    const owned = a.assignment;
    const b = new TestConsumer(group, "b");
    b.join(0);
    // a keeps claiming both partitions.
    group.heartbeat({ memberId: "a", memberEpoch: a.memberEpoch, ownedPartitions: owned }, 1_000);
    group.heartbeat({ memberId: "a", memberEpoch: a.memberEpoch, ownedPartitions: owned }, 4_000);
    expect(b.heartbeat(4_000)!.assignment).toEqual([]);
    expect(group.nextDeadlineMs()).toBe(11_000);
    expect(group.expireMembers(10_999)).toEqual([]);
    expect(group.expireMembers(11_000)).toEqual([{ memberId: "a", reason: "rebalance-timeout" }]);
    expect(b.heartbeat(11_001)!.assignment).toEqual([{ topic: "t", partitions: [0, 1] }]);
  });

  it("goes back to Empty when the last member leaves, and forgets the assignor", () => {
    const group = newGroup();
    group.join({ memberId: "a", subscribedTopicNames: ["t"], serverAssignor: "range" }, 0);
    expect(group.assignor).toBe("range");
    group.leave("a");
    expect(group.state).toBe("Empty");
    expect(group.assignor).toBeUndefined();
    expect(group.ownerOf("t", 0)).toBeUndefined();
  });
});

describe("offset commit validation", () => {
  it("accepts a commit from the owner at its current epoch", () => {
    const { group, a } = threeStable();
    expect(() => group.validateCommit("a", a.epoch, "t", a.partitions[0].partition)).not.toThrow();
  });

  it("rejects a commit from a stale epoch (STALE_MEMBER_EPOCH) and a future one (FENCED_MEMBER_EPOCH)", () => {
    const { group, a } = threeStable();
    const oldEpoch = a.epoch;
    new TestConsumer(group, "d").join(0);
    a.heartbeat(1);
    a.heartbeat(2); // revocation confirmed: a moves to the new epoch
    expect(a.epoch).toBeGreaterThan(oldEpoch);
    const mine = a.partitions[0].partition;
    const e = expectGroupError(() => group.validateCommit("a", oldEpoch, "t", mine), "STALE_MEMBER_EPOCH");
    expect(e.details).toMatchObject({ memberEpoch: oldEpoch, expectedMemberEpoch: a.epoch });
    expect(e.retriable).toBe(false);
    expectGroupError(() => group.validateCommit("a", a.epoch + 1, "t", mine), "FENCED_MEMBER_EPOCH");
  });

  it("rejects a commit for a partition the member does not own (ILLEGAL_GENERATION)", () => {
    const { group, a, b } = threeStable();
    const e = expectGroupError(() => group.validateCommit("a", a.epoch, "t", b.partitions[0].partition), "ILLEGAL_GENERATION");
    expect(e.details).toMatchObject({ reason: "partition-not-owned" });
    expectGroupError(() => group.validateCommit("a", a.epoch, "other-topic", 0), "ILLEGAL_GENERATION");
  });

  it("rejects a commit for a target partition not yet released to the member", () => {
    const group = newGroup({ t: 2 });
    new TestConsumer(group, "a").join(0);
    const b = new TestConsumer(group, "b");
    b.join(0);
    const target = group.describe().members.find((m) => m.memberId === "b")!.targetAssignment[0].partitions[0];
    expectGroupError(() => group.validateCommit("b", b.epoch, "t", target), "ILLEGAL_GENERATION");
  });

  it("rejects unknown members and allows admin commits only on an empty group", () => {
    const group = newGroup();
    expect(() => group.validateCommit("", -1, "t", 0)).not.toThrow();
    new TestConsumer(group, "a").join(0);
    expectGroupError(() => group.validateCommit("nobody", 1, "t", 0), "UNKNOWN_MEMBER_ID");
    expectGroupError(() => group.validateCommit("", -1, "t", 0), "NON_EMPTY_GROUP");
    expectGroupError(() => group.assertNoActiveMembers(), "NON_EMPTY_GROUP");
  });

  it.each<[string, number, string, number]>([
    ["a", 1.5, "t", 0],
    ["a", 1, "", 0],
    ["a", 1, "t", -1],
    ["a", 1, "t", 0.5],
    ["a", Number.NaN, "t", 0],
  ])("rejects malformed commit (%s, %s, %s, %s) with INVALID_REQUEST", (memberId, epoch, topic, partition) => {
    const group = newGroup();
    new TestConsumer(group, "a").join(0);
    expectGroupError(() => group.validateCommit(memberId, epoch, topic, partition), "INVALID_REQUEST");
  });
});

describe("heartbeat epochs and fencing", () => {
  it("fences a heartbeat with an epoch ahead of the coordinator's", () => {
    const { group, a } = threeStable();
    expectGroupError(
      () => group.heartbeat({ memberId: "a", memberEpoch: a.epoch + 1, ownedPartitions: a.owned }, 1),
      "FENCED_MEMBER_EPOCH",
    );
  });

  it("accepts the previous epoch when the last reply was lost, but fences an older one", () => {
    const group = newGroup({ t: 4 });
    const a = new TestConsumer(group, "a");
    const b = new TestConsumer(group, "b");
    a.join(0); // epoch 1
    b.join(0); // epoch 2; a must give 2 partitions up
    a.heartbeat(1); // told to revoke, still epoch 1
    a.heartbeat(2, { lose: true }); // released and moved to epoch 2: reply lost
    expect(a.epoch).toBe(1);
    expect(a.heartbeat(3)!.memberEpoch).toBe(2); // previous epoch + owned ⊆ assignment: accepted
    expect(a.rejoins).toBe(0);
  });

  it("fences an epoch older than the previous one", () => {
    const group = newGroup({ t: 4 });
    const a = new TestConsumer(group, "a");
    a.join(0); // epoch 1
    new TestConsumer(group, "b").join(0); // group epoch 2
    group.leave("b"); // group epoch 3
    expect(a.heartbeat(1)!.memberEpoch).toBe(3); // nothing to revoke any more: 1 → 3
    expectGroupError(() => group.heartbeat({ memberId: "a", memberEpoch: 2, ownedPartitions: a.owned }, 2), "FENCED_MEMBER_EPOCH");
    expect(group.heartbeat({ memberId: "a", memberEpoch: 1, ownedPartitions: a.owned }, 3).memberEpoch).toBe(3);
  });

  it("fences the previous epoch if it claims partitions outside the assignment", () => {
    const group = newGroup({ t: 4 });
    const a = new TestConsumer(group, "a");
    a.join(0);
    new TestConsumer(group, "b").join(0);
    a.heartbeat(1);
    a.heartbeat(2); // epoch 2 now, owns 2
    expectGroupError(
      () => group.heartbeat({ memberId: "a", memberEpoch: 1, ownedPartitions: [{ topic: "t", partitions: [0, 1, 2, 3] }] }, 3),
      "FENCED_MEMBER_EPOCH",
    );
  });

  it("a fenced member rejoining under its id gives everything up and starts over", () => {
    const { group, a, b } = threeStable();
    const aParts = a.partitions;
    const epochBefore = group.groupEpoch;
    // The client lost its state; it rejoins with epoch 0 and its id.
    const reply = group.join({ memberId: "a", subscribedTopicNames: ["t"] }, 1);
    expect(reply.memberEpoch).toBe(epochBefore + 1);
    expect(group.size).toBe(3);
    expectSingleOwners(group);
    // Its old partitions were released and (sticky) handed straight back.
    expect(fromTopicPartitions(reply.assignment)).toEqual(aParts);
    expect(b.heartbeat(2)!.memberEpoch).toBe(epochBefore + 1);
  });

  it("treats a heartbeat without ownedPartitions as still owning everything", () => {
    const group = newGroup({ t: 2 });
    const a = group.join({ memberId: "a", subscribedTopicNames: ["t"] }, 0);
    new TestConsumer(group, "b").join(0);
    group.heartbeat({ memberId: "a", memberEpoch: a.memberEpoch }, 1);
    group.heartbeat({ memberId: "a", memberEpoch: a.memberEpoch }, 2);
    expect(group.describe().members.find((m) => m.memberId === "a")!.pendingRevocation).toHaveLength(1);
    expect(group.state).toBe("PreparingRebalance");
  });

  it("treats null fields as not sent (JSON / Kafka-protocol nullable fields)", () => {
    const group = newGroup({ t: 2 });
    const r = group.heartbeat(
      {
        memberId: null,
        memberEpoch: 0,
        subscribedTopicNames: ["t"],
        subscribedTopicRegex: null,
        clientId: null,
        serverAssignor: null,
        ownedPartitions: null,
      },
      0,
    );
    expect(r.memberId).toBe("generated-1");
    const r2 = group.heartbeat(
      {
        memberId: r.memberId,
        memberEpoch: 1,
        subscribedTopicNames: null,
        subscribedTopicRegex: null,
        rebalanceTimeoutMs: null,
        ownedPartitions: r.assignment,
      },
      1,
    );
    expect(r2).toEqual(r);
    expect(group.groupEpoch).toBe(1);
  });

  it("rejects heartbeats from unknown members", () => {
    const { group } = threeStable();
    expectGroupError(() => group.heartbeat({ memberId: "zzz", memberEpoch: 1 }, 1), "UNKNOWN_MEMBER_ID");
    expectGroupError(() => group.heartbeat({ memberId: "zzz", memberEpoch: -1 }, 1), "UNKNOWN_MEMBER_ID");
    expectGroupError(() => group.leave("zzz"), "UNKNOWN_MEMBER_ID");
  });
});

describe("subscriptions and topic metadata", () => {
  it("assigns the topics a regex matches in full, and picks up new matching topics", () => {
    const group = newGroup({ "orders-eu": 2, "orders-us": 2, payments: 3, orders: 1 });
    const a = new TestConsumer(group, "a", { subscribedTopicRegex: "orders-.*" });
    a.join(0);
    expect(a.owned).toEqual([
      { topic: "orders-eu", partitions: [0, 1] },
      { topic: "orders-us", partitions: [0, 1] },
    ]);
    expect(group.describe().members[0]).toMatchObject({
      subscribedTopicRegex: "orders-.*",
      subscribedTopicNames: null,
      subscribedTopics: ["orders-eu", "orders-us"],
    });

    const epoch = group.groupEpoch;
    expect(
      group.updateTopicMetadata(
        new Map([
          ["orders-eu", 2],
          ["orders-us", 2],
          ["payments", 3],
          ["orders", 1],
          ["logs", 5],
        ]),
      ),
    ).toBe(false);
    expect(group.groupEpoch).toBe(epoch);
    expect(
      group.updateTopicMetadata(
        new Map([
          ["orders-eu", 2],
          ["orders-us", 2],
          ["payments", 3],
          ["orders", 1],
          ["orders-asia", 1],
        ]),
      ),
    ).toBe(true);
    expect(group.groupEpoch).toBe(epoch + 1);
    expect(group.state).toBe("CompletingRebalance");
    a.heartbeat(1);
    expect(a.owned.map((x) => x.topic)).toEqual(["orders-asia", "orders-eu", "orders-us"]);
    expect(group.state).toBe("Stable");
  });

  it("gives a topic's new partitions out after it grows", () => {
    const { group, cs } = threeStable();
    expect(group.updateTopicMetadata(new Map([["t", 15]]))).toBe(true);
    stabilize(group, cs, 1);
    expect(counts(cs)).toEqual([5, 5, 5]);
  });

  it("revokes the partitions of a deleted topic", () => {
    const group = newGroup({ x: 2, y: 2 });
    const a = new TestConsumer(group, "a", { subscribedTopicNames: ["x", "y"] });
    a.join(0);
    group.updateTopicMetadata(new Map([["x", 2]]));
    expect(group.state).toBe("PreparingRebalance");
    a.heartbeat(1);
    a.heartbeat(2);
    expect(a.owned).toEqual([{ topic: "x", partitions: [0, 1] }]);
    expect(group.ownerOf("y", 0)).toBeUndefined();
    expect(group.state).toBe("Stable");
  });

  it("rebalances when a member changes its subscription, and ignores unknown topics", () => {
    const group = newGroup({ x: 2, y: 2 });
    const a = group.join({ memberId: "a", subscribedTopicNames: ["x", "nope"] }, 0);
    expect(a.assignment).toEqual([{ topic: "x", partitions: [0, 1] }]);
    const r1 = group.heartbeat({ memberId: "a", memberEpoch: 1, ownedPartitions: a.assignment, subscribedTopicNames: ["y"] }, 1);
    expect(group.groupEpoch).toBe(2);
    expect(r1.assignment).toEqual([]); // x is pending revocation
    const r2 = group.heartbeat({ memberId: "a", memberEpoch: r1.memberEpoch, ownedPartitions: r1.assignment }, 2);
    expect(r2).toMatchObject({ memberEpoch: 2, assignment: [{ topic: "y", partitions: [0, 1] }] });
    // Re-sending the same subscription is not a change.
    group.heartbeat({ memberId: "a", memberEpoch: 2, ownedPartitions: r2.assignment, subscribedTopicNames: ["y"] }, 3);
    expect(group.groupEpoch).toBe(2);
  });

  it("rejects an invalid regex with INVALID_REGULAR_EXPRESSION", () => {
    const group = newGroup();
    expectGroupError(() => group.join({ subscribedTopicRegex: "orders-(" }, 0), "INVALID_REGULAR_EXPRESSION");
    expectGroupError(() => group.join({ subscribedTopicRegex: "" }, 0), "INVALID_REGULAR_EXPRESSION");
    expectGroupError(() => group.join({ subscribedTopicRegex: "a".repeat(1001) }, 0), "INVALID_REGULAR_EXPRESSION");
    expect(group.size).toBe(0);
  });
});

describe("assignor selection: one assignor per group, chosen by its first member", () => {
  it("uses the first member's choice and rejects a different one while others are in the group", () => {
    const group = newGroup({ t: 6 });
    group.join({ memberId: "a", subscribedTopicNames: ["t"], serverAssignor: "range" }, 0);
    expect(group.assignor).toBe("range");
    const e = expectGroupError(
      () => group.join({ memberId: "b", subscribedTopicNames: ["t"], serverAssignor: "roundrobin" }, 0),
      "UNSUPPORTED_ASSIGNOR",
    );
    expect(e.details).toMatchObject({ assignor: "range", requested: "roundrobin" });
    expect(group.size).toBe(1);
    group.join({ memberId: "b", subscribedTopicNames: ["t"], serverAssignor: "range" }, 0);
    group.join({ memberId: "c", subscribedTopicNames: ["t"] }, 0); // naming none is fine
    expect(group.describe().members.map((m) => m.serverAssignor)).toEqual(["range", "range", null]);
    expectGroupError(() => group.heartbeat({ memberId: "c", memberEpoch: 3, serverAssignor: "sticky" }, 1), "UNSUPPORTED_ASSIGNOR");
  });

  it("lets the group switch once it is empty, or when its only member asks", () => {
    const group = newGroup({ t: 6 });
    group.join({ memberId: "a", subscribedTopicNames: ["t"], serverAssignor: "range" }, 0);
    const r = group.heartbeat({ memberId: "a", memberEpoch: 1, serverAssignor: "round-robin" }, 1);
    expect(group.assignor).toBe("roundrobin");
    expect(r.memberEpoch).toBe(2);
    group.leave("a");
    group.join({ memberId: "b", subscribedTopicNames: ["t"], serverAssignor: "uniform" }, 2);
    expect(group.assignor).toBe("sticky");
  });

  it("rejects unknown assignor names", () => {
    const group = newGroup();
    expectGroupError(() => group.join({ subscribedTopicNames: ["t"], serverAssignor: "fair" }, 0), "UNSUPPORTED_ASSIGNOR");
  });

  it("assigns with range when the group uses range", () => {
    const group = newGroup({ t0: 3, t1: 3 });
    const cs = ["C0", "C1"].map((id) => new TestConsumer(group, id, { subscribedTopicNames: ["t0", "t1"], serverAssignor: "range" }));
    for (const c of cs) c.join(0);
    stabilize(group, cs, 1);
    expect(cs[0].owned).toEqual([
      { topic: "t0", partitions: [0, 1] },
      { topic: "t1", partitions: [0, 1] },
    ]);
    expect(cs[1].owned).toEqual([
      { topic: "t0", partitions: [2] },
      { topic: "t1", partitions: [2] },
    ]);
  });
});

describe("bad requests", () => {
  it.each<[string, object]>([
    ["epoch -2 (static leave is unsupported)", { memberId: "a", memberEpoch: -2 }],
    ["fractional epoch", { memberId: "a", memberEpoch: 1.5 }],
    ["missing epoch", { memberId: "a" }],
    ["heartbeat without memberId", { memberEpoch: 1 }],
    ["empty memberId", { memberId: "", memberEpoch: 0, subscribedTopicNames: ["t"] }],
    ["join without a subscription", { memberEpoch: 0 }],
    ["both topic names and a regex", { memberEpoch: 0, subscribedTopicNames: ["t"], subscribedTopicRegex: "t" }],
    ["topic names not an array", { memberEpoch: 0, subscribedTopicNames: "t" }],
    ["empty topic name", { memberEpoch: 0, subscribedTopicNames: [""] }],
    ["owned partitions on join", { memberEpoch: 0, subscribedTopicNames: ["t"], ownedPartitions: [{ topic: "t", partitions: [0] }] }],
    ["malformed ownedPartitions", { memberId: "a", memberEpoch: 1, ownedPartitions: [{ topic: "t", partitions: [-1] }] }],
    ["ownedPartitions not an array", { memberId: "a", memberEpoch: 1, ownedPartitions: "t" }],
    ["zero rebalanceTimeoutMs", { memberEpoch: 0, subscribedTopicNames: ["t"], rebalanceTimeoutMs: 0 }],
    ["non-string clientId", { memberEpoch: 0, subscribedTopicNames: ["t"], clientId: 7 }],
  ])("%s → INVALID_REQUEST, group unchanged", (_, request) => {
    const group = newGroup();
    group.join({ memberId: "a", subscribedTopicNames: ["t"] }, 0);
    const before = JSON.stringify(group.describe());
    expectGroupError(() => group.heartbeat(request as never, 1), "INVALID_REQUEST");
    expect(JSON.stringify(group.describe())).toBe(before);
  });

  it("rejects a null request", () => {
    expectGroupError(() => newGroup().heartbeat(null as never, 0), "INVALID_REQUEST");
  });

  it("rejects joins beyond maxSize with GROUP_MAX_SIZE_REACHED, but lets members rejoin", () => {
    const group = newGroup({ t: 4 }, { config: { maxSize: 2 } });
    group.join({ memberId: "a", subscribedTopicNames: ["t"] }, 0);
    group.join({ memberId: "b", subscribedTopicNames: ["t"] }, 0);
    expectGroupError(() => group.join({ memberId: "c", subscribedTopicNames: ["t"] }, 0), "GROUP_MAX_SIZE_REACHED");
    expect(() => group.join({ memberId: "b", subscribedTopicNames: ["t"] }, 0)).not.toThrow();
  });

  it.each<[string, unknown]>([
    ["not a Map", { t: 3 }],
    ["negative partition count", new Map([["t", -1]])],
    ["fractional partition count", new Map([["t", 1.5]])],
    ["empty topic name", new Map([["", 1]])],
  ])("rejects topic metadata with %s (INVALID_REQUEST)", (_, topics) => {
    const group = newGroup();
    group.join({ memberId: "a", subscribedTopicNames: ["t"] }, 0);
    expectGroupError(() => group.updateTopicMetadata(topics as never), "INVALID_REQUEST");
    expectGroupError(() => new ConsumerGroup("g", { topics: topics as never }), "INVALID_REQUEST");
    expect(group.describe().members[0].assignment).toEqual([{ topic: "t", partitions: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] }]);
  });

  it.each<[string, object]>([
    ["heartbeat interval not below the session timeout", { heartbeatIntervalMs: 10_000, sessionTimeoutMs: 10_000 }],
    ["zero session timeout", { sessionTimeoutMs: 0 }],
    ["fractional maxSize", { maxSize: 2.5 }],
    ["unknown default assignor", { defaultAssignor: "fair" }],
  ])("rejects a config with %s (RangeError)", (_, config) => {
    expect(() => new ConsumerGroup("g", { config: config as never })).toThrow(RangeError);
  });

  it.each(["", "   ", "x".repeat(256)])("rejects group id %j with INVALID_GROUP_ID", (id) => {
    expectGroupError(() => new ConsumerGroup(id), "INVALID_GROUP_ID");
  });
});

describe("events", () => {
  it("are delivered only once the call's changes are complete", () => {
    const seen: string[] = [];
    const group: ConsumerGroup = newGroup(
      { t: 4 },
      {
        onEvent: (e) => seen.push(`${e.type}:${group.state}:${group.size}`),
      },
    );
    group.join({ memberId: "a", subscribedTopicNames: ["t"] }, 0);
    group.join({ memberId: "a", subscribedTopicNames: ["t"] }, 1); // rejoin: removed + joined
    // Every listener call saw the finished group, never the member-less middle of the rejoin.
    expect(seen).toEqual([
      "member-joined:Stable:1",
      "epoch-bumped:Stable:1",
      "assignment-changed:Stable:1",
      "state-changed:Stable:1",
      "member-removed:Stable:1",
      "member-joined:Stable:1",
      "epoch-bumped:Stable:1",
      "assignment-changed:Stable:1",
    ]);
  });

  it("a throwing listener cannot leave the group half-updated", () => {
    const group = newGroup(
      { t: 4 },
      {
        onEvent: () => {
          throw new Error("listener bug");
        },
      },
    );
    expect(() => group.join({ memberId: "a", subscribedTopicNames: ["t"] }, 0)).toThrow("listener bug");
    expect(group.state).toBe("Stable");
    expect(
      group.heartbeat({ memberId: "a", memberEpoch: 1, ownedPartitions: [{ topic: "t", partitions: [0, 1, 2, 3] }] }, 1).memberEpoch,
    ).toBe(1);
  });
});

describe("describe and deletion", () => {
  it("describes state, epochs, assignor and members with client id, host and assignment", () => {
    const group = newGroup({ t: 2 });
    group.join({ memberId: "b", subscribedTopicNames: ["t"], clientId: "svc-b", host: "/10.0.0.2", rebalanceTimeoutMs: 60_000 }, 5);
    group.join({ memberId: "a", subscribedTopicNames: ["t"], clientId: "svc-a", host: "/10.0.0.1" }, 7);
    const d = group.describe();
    expect(d).toMatchObject({
      groupId: "g",
      protocolType: "consumer",
      state: "PreparingRebalance",
      groupEpoch: 2,
      assignmentEpoch: 2,
      assignor: "sticky",
    });
    expect(d.members.map((m) => m.memberId)).toEqual(["a", "b"]);
    expect(d.members[0]).toMatchObject({
      clientId: "svc-a",
      host: "/10.0.0.1",
      memberEpoch: 2,
      assignment: [],
      state: "UnreleasedPartitions",
      sessionTimeoutMs: SESSION,
      rebalanceTimeoutMs: 300_000,
      lastHeartbeatMs: 7,
    });
    expect(d.members[1]).toMatchObject({
      clientId: "svc-b",
      memberEpoch: 1,
      assignment: [{ topic: "t", partitions: [0, 1] }],
      state: "UnrevokedPartitions",
      rebalanceTimeoutMs: 60_000,
    });
    expect(d.members[0].targetAssignment.length + d.members[1].targetAssignment.length).toBe(2);
  });

  it("deletes only an empty group; a dead group answers GROUP_ID_NOT_FOUND", () => {
    const group = newGroup();
    group.join({ memberId: "a", subscribedTopicNames: ["t"] }, 0);
    expectGroupError(() => group.markDead(), "NON_EMPTY_GROUP");
    group.leave("a");
    group.markDead();
    expect(group.state).toBe("Dead");
    expectGroupError(() => group.join({ subscribedTopicNames: ["t"] }, 0), "GROUP_ID_NOT_FOUND");
    expectGroupError(() => group.validateCommit("", -1, "t", 0), "GROUP_ID_NOT_FOUND");
    expectGroupError(() => group.updateTopicMetadata(new Map()), "GROUP_ID_NOT_FOUND");
    expectGroupError(() => group.markDead(), "GROUP_ID_NOT_FOUND");
    expect(group.expireMembers(1e9)).toEqual([]);
  });
});
