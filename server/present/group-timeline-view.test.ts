/** The timeline's replay: epochs with their owners, and partitions without an owner, from recorded events. */
import { describe, expect, it } from "vitest";
import type { StoredTimelineEvent } from "../broker/broker.ts";
import { groupTimelineView } from "./group-timeline-view.ts";

let seq = 0;
function ev(
  at: number,
  type: string,
  groupEpoch: number,
  memberId: string | null,
  more: Partial<StoredTimelineEvent> = {},
): StoredTimelineEvent {
  return {
    seq: ++seq,
    groupId: "g",
    at,
    type,
    groupEpoch,
    memberId,
    clientId: null,
    memberEpoch: null,
    assignment: null,
    pendingRevocation: null,
    ...more,
  };
}
const owns = (at: number, epoch: number, member: string, partitions: number[], pending: number[] = []) =>
  ev(at, "assignment-changed", epoch, member, {
    memberEpoch: epoch,
    assignment: [{ topic: "t", partitions }],
    pendingRevocation: pending.length ? [{ topic: "t", partitions: pending }] : [],
  });

describe("groupTimelineView", () => {
  it("replays joins, revocations and an expiry into epochs with owners and the gaps between release and grant", () => {
    const events = [
      ev(1000, "member-joined", 1, "a", { clientId: "app-a" }),
      ev(1000, "epoch-bumped", 1, null),
      owns(1000, 1, "a", [0, 1, 2, 3]),
      ev(2000, "member-joined", 2, "b", { clientId: "app-b" }),
      ev(2000, "epoch-bumped", 2, null),
      // a is told to give up 2 and 3, lets go at 2500; b takes them at 2700
      owns(2100, 2, "a", [0, 1], [2, 3]),
      owns(2500, 2, "a", [0, 1]),
      owns(2700, 2, "b", [2, 3]),
      // b dies: expired at 10000; a takes everything at 10400
      ev(10_000, "session-timeout", 3, "b", { clientId: "app-b" }),
      ev(10_000, "epoch-bumped", 3, null),
      owns(10_400, 3, "a", [0, 1, 2, 3]),
    ];
    const v = groupTimelineView("g", events, 1000, 20_000);
    expect(v.epochs.map((e) => [e.groupEpoch, e.from, e.to])).toEqual([
      [1, 1000, 2000],
      [2, 2000, 10_000],
      [3, 10_000, null],
    ]);
    expect(v.epochs[0].members).toEqual([{ memberId: "a", clientId: "app-a", owned: [{ topic: "t", partitions: [0, 1, 2, 3] }] }]);
    expect(v.epochs[1].members).toEqual([
      { memberId: "a", clientId: "app-a", owned: [{ topic: "t", partitions: [0, 1] }] },
      { memberId: "b", clientId: "app-b", owned: [{ topic: "t", partitions: [2, 3] }] },
    ]);
    expect(v.epochs[1].unowned).toEqual([
      { topic: "t", partition: 2, ms: 200 },
      { topic: "t", partition: 3, ms: 200 },
    ]);
    expect(v.epochs[2].unowned).toEqual([
      { topic: "t", partition: 2, ms: 400 },
      { topic: "t", partition: 3, ms: 400 },
    ]);
    expect(v.gaps).toEqual([
      { topic: "t", partition: 2, from: 2500, to: 2700, ms: 200 },
      { topic: "t", partition: 3, from: 2500, to: 2700, ms: 200 },
      { topic: "t", partition: 2, from: 10_000, to: 10_400, ms: 400 },
      { topic: "t", partition: 3, from: 10_000, to: 10_400, ms: 400 },
    ]);
    // assignment events name the member's client from its join
    expect(v.events.find((e) => e.type === "assignment-changed" && e.memberId === "b")?.clientId).toBe("app-b");
    expect(v.truncated).toBe(false);
  });

  it("leaves a partition's gap open while nobody has taken it, and ends gaps when the last member leaves", () => {
    const open = groupTimelineView(
      "g",
      [ev(0, "member-joined", 1, "a"), owns(0, 1, "a", [0]), ev(100, "member-joined", 2, "b"), ev(150, "member-left", 3, "a")],
      1000,
      1000,
    );
    expect(open.gaps).toEqual([{ topic: "t", partition: 0, from: 150, to: null, ms: 850 }]);
    const empty = groupTimelineView(
      "g",
      [ev(0, "member-joined", 1, "a"), owns(0, 1, "a", [0]), ev(500, "member-left", 2, "a")],
      1000,
      1000,
    );
    expect(empty.gaps).toEqual([]);
    expect(empty.epochs.at(-1)?.members).toEqual([]);
  });
});
