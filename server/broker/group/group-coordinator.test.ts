import { describe, expect, it } from "vitest";
import { GroupError, type GroupErrorCode } from "../errors.ts";
import { GroupCoordinator } from "./group-coordinator.ts";
import type { GroupEvent } from "./consumer-group.ts";

function expectGroupError(fn: () => unknown, code: GroupErrorCode) {
  expect(fn).toThrow(GroupError);
  try {
    fn();
  } catch (e) {
    expect((e as GroupError).code).toBe(code);
  }
}

function coordinator(events: GroupEvent[] = []) {
  let n = 0;
  return new GroupCoordinator({
    topics: new Map([
      ["orders", 6],
      ["payments", 2],
    ]),
    config: { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 },
    newMemberId: () => `m${++n}`,
    onEvent: (e) => events.push(e),
  });
}

describe("GroupCoordinator", () => {
  it("creates a group on first join and lists groups with their state", () => {
    const gc = coordinator();
    expect(gc.listGroups()).toEqual([]);
    gc.heartbeat("billing", { memberEpoch: 0, subscribedTopicNames: ["payments"] }, 0);
    const r = gc.heartbeat("analytics", { memberEpoch: 0, subscribedTopicNames: ["orders"], serverAssignor: "range" }, 0);
    expect(r).toMatchObject({ memberId: "m2", memberEpoch: 1, heartbeatIntervalMs: 1_000 });
    gc.heartbeat("analytics", { memberEpoch: 0, subscribedTopicNames: ["orders"] }, 0);
    expect(gc.listGroups()).toEqual([
      { groupId: "analytics", protocolType: "consumer", state: "PreparingRebalance", members: 2, assignor: "range", groupEpoch: 2 },
      { groupId: "billing", protocolType: "consumer", state: "Stable", members: 1, assignor: "sticky", groupEpoch: 1 },
    ]);
    expect(gc.listGroups({ states: ["Stable"] }).map((g) => g.groupId)).toEqual(["billing"]);
    expect(gc.describeGroup("analytics").members.map((m) => m.memberId)).toEqual(["m2", "m3"]);
  });

  it("answers GROUP_ID_NOT_FOUND for heartbeats, leaves, describes and deletes of unknown groups", () => {
    const gc = coordinator();
    expectGroupError(() => gc.heartbeat("nope", { memberId: "x", memberEpoch: 3 }, 0), "GROUP_ID_NOT_FOUND");
    expectGroupError(() => gc.leave("nope", "x"), "GROUP_ID_NOT_FOUND");
    expectGroupError(() => gc.describeGroup("nope"), "GROUP_ID_NOT_FOUND");
    expectGroupError(() => gc.deleteGroup("nope"), "GROUP_ID_NOT_FOUND");
    expect(gc.listGroups()).toEqual([]);
  });

  it("does not create a group for a rejected first join", () => {
    const gc = coordinator();
    expectGroupError(() => gc.heartbeat("g", { memberEpoch: 0, subscribedTopicRegex: "(" }, 0), "INVALID_REGULAR_EXPRESSION");
    expectGroupError(() => gc.heartbeat("g", { memberEpoch: 0 }, 0), "INVALID_REQUEST");
    expect(gc.listGroups()).toEqual([]);
  });

  it("rejects invalid group ids with INVALID_GROUP_ID", () => {
    const gc = coordinator();
    expectGroupError(() => gc.heartbeat("", { memberEpoch: 0, subscribedTopicNames: ["orders"] }, 0), "INVALID_GROUP_ID");
    expectGroupError(() => gc.describeGroup(""), "INVALID_GROUP_ID");
    expectGroupError(() => gc.validateCommit(undefined as never, "", -1, "orders", 0), "INVALID_GROUP_ID");
  });

  it("deletes only empty groups; a join afterwards starts a new group at epoch 1", () => {
    const events: GroupEvent[] = [];
    const gc = coordinator(events);
    const r = gc.heartbeat("g", { memberEpoch: 0, subscribedTopicNames: ["orders"] }, 0);
    expectGroupError(() => gc.deleteGroup("g"), "NON_EMPTY_GROUP");
    gc.leave("g", r.memberId);
    gc.deleteGroup("g");
    expect(events.at(-1)).toEqual({ type: "state-changed", groupId: "g", from: "Empty", to: "Dead" });
    expect(gc.listGroups()).toEqual([]);
    expect(gc.heartbeat("g", { memberEpoch: 0, subscribedTopicNames: ["orders"] }, 1).memberEpoch).toBe(1);
  });

  it("expires members across groups and schedules the next deadline", () => {
    const gc = coordinator();
    const a = gc.heartbeat("g1", { memberEpoch: 0, subscribedTopicNames: ["orders"] }, 0);
    gc.heartbeat("g2", { memberEpoch: 0, subscribedTopicNames: ["orders"] }, 5_000);
    expect(gc.nextDeadlineMs()).toBe(10_000);
    expect(gc.expireMembers(9_999)).toEqual([]);
    expect(gc.expireMembers(10_000)).toEqual([{ groupId: "g1", memberId: a.memberId, reason: "session-timeout" }]);
    expect(gc.nextDeadlineMs()).toBe(15_000);
    expect(gc.listGroups().map((g) => g.state)).toEqual(["Empty", "Stable"]);
  });

  it("fans topic metadata out to every group", () => {
    const gc = coordinator();
    const r = gc.heartbeat("g", { memberEpoch: 0, subscribedTopicRegex: "ord.*" }, 0);
    gc.updateTopicMetadata(
      new Map([
        ["orders", 6],
        ["payments", 2],
        ["orders-dlq", 1],
      ]),
    );
    const r2 = gc.heartbeat("g", { memberId: r.memberId, memberEpoch: r.memberEpoch, ownedPartitions: r.assignment }, 1);
    expect(r2.assignment.map((x) => x.topic)).toEqual(["orders", "orders-dlq"]);
    // A group created later sees the new metadata too.
    const late = gc.heartbeat("late", { memberEpoch: 0, subscribedTopicNames: ["orders-dlq"] }, 2);
    expect(late.assignment).toEqual([{ topic: "orders-dlq", partitions: [0] }]);
  });

  it("validates commits: member commits go to the group, admin commits need an empty or unknown group", () => {
    const gc = coordinator();
    expect(() => gc.validateCommit("fresh", "", -1, "orders", 0)).not.toThrow();
    expectGroupError(() => gc.validateCommit("fresh", "m1", 1, "orders", 0), "GROUP_ID_NOT_FOUND");
    const r = gc.heartbeat("g", { memberEpoch: 0, subscribedTopicNames: ["orders"] }, 0);
    expect(() => gc.validateCommit("g", r.memberId, r.memberEpoch, "orders", 0)).not.toThrow();
    expectGroupError(() => gc.validateCommit("g", r.memberId, r.memberEpoch - 1, "orders", 0), "STALE_MEMBER_EPOCH");
    expectGroupError(() => gc.validateCommit("g", r.memberId, r.memberEpoch, "payments", 0), "ILLEGAL_GENERATION");
    expectGroupError(() => gc.validateCommit("g", "", -1, "orders", 0), "NON_EMPTY_GROUP");
  });

  it("ensureGroup registers an empty group (e.g. known only from stored offsets)", () => {
    const gc = coordinator();
    const g = gc.ensureGroup("restored");
    expect(gc.ensureGroup("restored")).toBe(g);
    expect(gc.listGroups()).toEqual([
      { groupId: "restored", protocolType: "consumer", state: "Empty", members: 0, assignor: null, groupEpoch: 0 },
    ]);
    expect(gc.group("restored")).toBe(g);
    expect(gc.group("other")).toBeUndefined();
  });
});
