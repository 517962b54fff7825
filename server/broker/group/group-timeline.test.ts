/**
 * The rebalance timeline on a real PostgreSQL: each join, leave, epoch bump, assignment change
 * and refused stale heartbeat is recorded with the group epoch it led to, kept to the newest
 * TIMELINE_EVENTS_PER_GROUP per group, and still there after a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withBroker, type BrokerHarness } from "../../testing/broker-fixture.ts";
import { TIMELINE_EVENTS_PER_GROUP } from "../../schemas/limits.ts";

describe("the group timeline", () => {
  let h: BrokerHarness;
  beforeAll(async () => {
    h = await withBroker("postgres");
    await h.broker.createTopic({ name: "tl", partitions: 2 });
  }, 60_000);
  afterAll(() => h?.close());

  const join = { subscribedTopicNames: ["tl"], memberEpoch: 0, clientId: "app" } as const;

  it("records each change with its group epoch, and a stale heartbeat as fenced", async () => {
    const b = h.broker;
    const a = await b.heartbeatGroup("tl-g", join);
    const c = await b.heartbeatGroup("tl-g", { ...join, clientId: "other" });
    await expect(b.heartbeatGroup("tl-g", { memberId: a.memberId, memberEpoch: a.memberEpoch + 5 })).rejects.toMatchObject({
      code: "FENCED_MEMBER_EPOCH",
    });
    b.leaveGroup("tl-g", c.memberId);
    const { events, limit } = await b.groupTimeline("tl-g");
    expect(limit).toBe(TIMELINE_EVENTS_PER_GROUP);
    expect(events.map((e) => [e.type, e.groupEpoch, e.memberId === a.memberId ? "a" : e.memberId === c.memberId ? "c" : null])).toEqual([
      ["member-joined", 1, "a"],
      ["epoch-bumped", 1, null],
      ["assignment-changed", 1, "a"],
      ["member-joined", 2, "c"],
      ["epoch-bumped", 2, null],
      // c's epoch moves to 2 with nothing yet: a still owns both partitions
      ["assignment-changed", 2, "c"],
      ["fenced", 2, "a"],
      ["member-left", 3, "c"],
      ["epoch-bumped", 3, null],
    ]);
    expect(events[0].clientId).toBe("app");
    expect(events[2].assignment).toEqual([{ topic: "tl", partitions: [0, 1] }]);
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((x, y) => x - y));
    await expect(b.groupTimeline("no-such-group")).rejects.toMatchObject({ code: "GROUP_ID_NOT_FOUND" });
  });

  it("keeps the newest events of each group, and keeps them across a restart", async () => {
    const b = h.broker;
    await b.heartbeatGroup("tl-many", join);
    // each join and leave of a second member adds 5 events: joined, epoch, assignment, left, epoch
    for (let i = 0; i < 220; i++) {
      const m = await b.heartbeatGroup("tl-many", join);
      b.leaveGroup("tl-many", m.memberId);
    }
    const { events } = await b.groupTimeline("tl-many");
    expect(events).toHaveLength(TIMELINE_EVENTS_PER_GROUP);
    const last = events[events.length - 1];
    expect(last).toMatchObject({ type: "epoch-bumped", groupEpoch: 441 });
    const rows = await h.db.pool.query("SELECT count(*)::int AS n FROM group_timeline_events WHERE group_id = 'tl-many'");
    expect(rows.rows[0].n).toBe(TIMELINE_EVENTS_PER_GROUP);
    // the other group's events were not trimmed with these
    expect((await b.groupTimeline("tl-g")).events).toHaveLength(9);

    const reopened = await h.reopen();
    const after = await reopened.groupTimeline("tl-many");
    expect(after.events.map((e) => e.seq)).toEqual(events.map((e) => e.seq));
  });
});
