/**
 * The consumer-group endpoints through real HTTP against a real server process on a fresh
 * PostgreSQL database: bad input on every endpoint (each answered with its status and a specific
 * `{error:{code,message}}`, changing nothing), every offset-reset mode with its dry-run plan,
 * auto.offset.reset, resuming from a commit after a restart, deleting groups and offsets.
 */
import { decodeGroupPoll } from "../client/consumer.ts";
import { beforeAll, describe, expect, it } from "vitest";
import { useTestServer } from "../testing/test-server.ts";
import { expectError } from "../testing/api-assertions.ts";
import { apiCaller } from "../testing/api-client.ts";
import type { ResetPlanEntry } from "../schemas/group.ts";

// members in these tests heartbeat by hand, if at all: a long session keeps them alive
const server = useTestServer({ TRIBUTARY_GROUP_SESSION_TIMEOUT_MS: "300000", TRIBUTARY_GROUP_HEARTBEAT_INTERVAL_MS: "5000" });

const call = apiCaller(() => server.url + "/api/v1");

const enc = encodeURIComponent;
const gp = (group: string) => `/groups/${enc(group)}`;
const mp = (group: string, member: string) => `${gp(group)}/members/${enc(member)}`;

interface Member {
  group: string;
  memberId: string;
  memberEpoch: number;
  assignment: { topic: string; partitions: number[] }[];
}

async function createTopic(name: string, partitions: number): Promise<void> {
  const res = await call("POST", "/topics", { json: { name, partitions } });
  expect(res.status, res.text).toBe(201);
}

async function produce(topic: string, records: { partition: number; key?: string; value?: string; timestamp?: number }[]): Promise<void> {
  const res = await call("POST", `/topics/${enc(topic)}/records`, { json: { records } });
  expect(res.status, res.text).toBe(200);
}

async function join(group: string, body: Record<string, unknown>): Promise<Member> {
  const res = await call("POST", `${gp(group)}/members`, { json: body });
  expect(res.status, res.text).toBe(201);
  expect(res.body.groupId).toBe(group);
  expect(res.body.generationId).toBe(res.body.memberEpoch);
  return { group, memberId: res.body.memberId, memberEpoch: res.body.memberEpoch, assignment: res.body.assignment };
}

/** Heartbeats reporting the member's assignment as owned; follows the reply. */
async function heartbeat(m: Member, owned = m.assignment): Promise<void> {
  const res = await call("POST", `${mp(m.group, m.memberId)}/heartbeat`, { json: { memberEpoch: m.memberEpoch, ownedPartitions: owned } });
  expect(res.status, res.text).toBe(200);
  m.memberEpoch = res.body.memberEpoch;
  m.assignment = res.body.assignment;
}

/** Heartbeats every member until the group is Stable. */
async function settle(members: Member[]): Promise<void> {
  for (let round = 0; round < 20; round++) {
    for (const m of members) await heartbeat(m);
    if ((await describe_(members[0].group)).state === "Stable") return;
  }
  throw new Error("group did not become Stable");
}

async function poll(m: Member, query = "waitMs=0") {
  const res = await call("GET", `${mp(m.group, m.memberId)}/records?${query}`);
  expect(res.status, res.text).toBe(200);
  return res.body.records as { topic: string; partition: number; offset: number; key: string | null; value: string | null }[];
}

async function commit(m: Member, offsets?: { topic: string; partition: number; offset: number }[]) {
  const res = await call("POST", `${mp(m.group, m.memberId)}/offsets`, {
    json: { memberEpoch: m.memberEpoch, ...(offsets ? { offsets } : {}) },
  });
  expect(res.status, res.text).toBe(200);
  return res.body.committed as { topic: string; partition: number; offset: number }[];
}

async function leave(m: Member): Promise<void> {
  const res = await call("DELETE", mp(m.group, m.memberId));
  expect(res.status, res.text).toBe(204);
}

async function describe_(group: string) {
  const res = await call("GET", gp(group));
  expect(res.status, res.text).toBe(200);
  return res.body;
}

/** Committed offsets of a group: "topic/partition" → offset (null: none). */
async function committedOffsets(group: string): Promise<Record<string, number | null>> {
  const d = await describe_(group);
  return Object.fromEntries(
    d.offsets.map((o: { topic: string; partition: number; committedOffset: number | null }) => [
      `${o.topic}/${o.partition}`,
      o.committedOffset,
    ]),
  );
}

async function groupIds(): Promise<string[]> {
  const res = await call("GET", "/groups");
  expect(res.status, res.text).toBe(200);
  return res.body.groups.map((g: { groupId: string }) => g.groupId);
}

const LONG = "x".repeat(256);

describe("groups API: bad input on every endpoint", () => {
  const G = "bad-g";
  let m: Member;
  /** Epochs the member held before its current one (for stale-epoch requests). */
  let oldEpoch: number;

  beforeAll(async () => {
    await createTopic("bad-t", 2);
    await createTopic("bad-other", 1);
    await produce(
      "bad-t",
      [0, 0, 0, 0, 0, 1, 1, 1, 1, 1].map((partition, i) => ({ partition, value: `v${i}` })),
    );
    m = await join(G, { topics: ["bad-t"], clientId: "bad-client", assignor: "sticky", autoOffsetReset: "earliest" });
    expect(m.assignment).toEqual([{ topic: "bad-t", partitions: [0, 1] }]);
    oldEpoch = m.memberEpoch;
    // a second member joining and leaving moves the group (and, once m follows, m) on by epochs
    for (let i = 0; i < 2; i++) {
      const other = await join(G, { topics: ["bad-t"] });
      await settle([m, other]);
      await leave(other);
      await settle([m]);
    }
    expect(m.memberEpoch).toBeGreaterThanOrEqual(oldEpoch + 2);
    expect(m.assignment).toEqual([{ topic: "bad-t", partitions: [0, 1] }]);
  });

  it("GET /groups/{group}: unknown 404, malformed group id 400", async () => {
    expectError(await call("GET", gp("no-such-group")), 404, "GROUP_ID_NOT_FOUND", "no-such-group");
    expectError(await call("GET", gp(LONG)), 400, "VALIDATION_FAILED", "group", "255");
    expectError(await call("GET", gp("   ")), 400, "VALIDATION_FAILED", "blank");
  });

  it("DELETE /groups/{group}: unknown 404, non-empty 409 (the group and member survive)", async () => {
    expectError(await call("DELETE", gp("no-such-group")), 404, "GROUP_ID_NOT_FOUND", "no-such-group");
    expectError(await call("DELETE", gp(LONG)), 400, "VALIDATION_FAILED");
    expectError(await call("DELETE", gp(G)), 409, "NON_EMPTY_GROUP", "1 active member");
    await heartbeat(m);
    expect((await describe_(G)).members.map((x: { memberId: string }) => x.memberId)).toEqual([m.memberId]);
  });

  it("POST /groups/{group}/members (join): every malformed request is refused and joins nobody", async () => {
    const path = `${gp(G)}/members`;
    const epochBefore = (await describe_(G)).groupEpoch;
    expectError(await call("POST", path, { raw: '{"topics": ["bad-t"' }), 400, "INVALID_JSON");
    expectError(await call("POST", path, { raw: '{"topics":["bad-t"]}', contentType: "text/plain" }), 415, "UNSUPPORTED_MEDIA_TYPE");
    expectError(await call("POST", path, { json: {} }), 400, "VALIDATION_FAILED", "exactly one of topics or topicPattern");
    expectError(await call("POST", path, { json: [] }), 400, "VALIDATION_FAILED");
    expectError(
      await call("POST", path, { json: { topics: ["bad-t"], topicPattern: "bad-.*" } }),
      400,
      "VALIDATION_FAILED",
      "exactly one of topics or topicPattern",
    );
    expectError(await call("POST", path, { json: { topics: ["bad-t"], memberId: "mine" } }), 400, "VALIDATION_FAILED", "memberId");
    expectError(await call("POST", path, { json: { topics: [] } }), 400, "VALIDATION_FAILED", "topics");
    expectError(await call("POST", path, { json: { topics: ["no/slash"] } }), 400, "VALIDATION_FAILED", "topics.0");
    expectError(await call("POST", path, { json: { topics: "bad-t" } }), 400, "VALIDATION_FAILED", "topics");
    expectError(await call("POST", path, { json: { topics: ["bad-t"], assignor: "fancy" } }), 400, "VALIDATION_FAILED", "assignor");
    expectError(await call("POST", path, { json: { topicPattern: "bad-(" } }), 400, "INVALID_REGULAR_EXPRESSION", "bad-(");
    expectError(await call("POST", path, { json: { topicPattern: "[z-a]" } }), 400, "INVALID_REGULAR_EXPRESSION");
    expectError(
      await call("POST", path, { json: { topics: ["bad-t"], autoOffsetReset: "smallest" } }),
      400,
      "VALIDATION_FAILED",
      "autoOffsetReset",
    );
    expectError(
      await call("POST", path, { json: { topics: ["bad-t"], rebalanceTimeoutMs: 0 } }),
      400,
      "VALIDATION_FAILED",
      "rebalanceTimeoutMs",
    );
    expectError(await call("POST", path, { json: { topics: ["bad-t"], clientId: 7 } }), 400, "VALIDATION_FAILED", "clientId");
    // the group uses sticky; a second member may not ask for another assignor
    expectError(
      await call("POST", path, { json: { topics: ["bad-t"], assignor: "range" } }),
      400,
      "UNSUPPORTED_ASSIGNOR",
      "sticky",
      "range",
    );
    expectError(await call("POST", `${gp(LONG)}/members`, { json: { topics: ["bad-t"] } }), 400, "VALIDATION_FAILED", "group");
    // refused first joins of new groups leave no group behind
    expectError(await call("POST", `${gp("never-g")}/members`, { json: { topicPattern: "(" } }), 400, "INVALID_REGULAR_EXPRESSION");
    expectError(
      await call("POST", `${gp("never-g")}/members`, { json: { topics: ["bad-t"], topicPattern: "x" } }),
      400,
      "VALIDATION_FAILED",
    );
    expectError(await call("GET", gp("never-g")), 404, "GROUP_ID_NOT_FOUND");
    expect(await groupIds()).not.toContain("never-g");
    const d = await describe_(G);
    expect(d.members.map((x: { memberId: string }) => x.memberId)).toEqual([m.memberId]);
    expect(d.groupEpoch).toBe(epochBefore);
  });

  it("POST …/members/{member}/heartbeat: unknown group/member 404, malformed 400, wrong epochs 409", async () => {
    const path = `${mp(G, m.memberId)}/heartbeat`;
    const owned = m.assignment;
    const epochBefore = (await describe_(G)).groupEpoch;
    expectError(
      await call("POST", `${mp("no-such-group", m.memberId)}/heartbeat`, { json: { memberEpoch: 1 } }),
      404,
      "GROUP_ID_NOT_FOUND",
    );
    expectError(
      await call("POST", `${mp(G, "no-such-member")}/heartbeat`, { json: { memberEpoch: m.memberEpoch } }),
      404,
      "UNKNOWN_MEMBER_ID",
      "no-such-member",
    );
    expectError(
      await call("POST", `${mp(G, LONG)}/heartbeat`, { json: { memberEpoch: m.memberEpoch } }),
      400,
      "VALIDATION_FAILED",
      "member",
    );
    expectError(await call("POST", path, { raw: "{memberEpoch: 1}" }), 400, "INVALID_JSON");
    expectError(await call("POST", path, { json: {} }), 400, "VALIDATION_FAILED", "memberEpoch");
    expectError(await call("POST", path, { json: { memberEpoch: m.memberEpoch, extra: true } }), 400, "VALIDATION_FAILED", "extra");
    expectError(await call("POST", path, { json: { memberEpoch: -1 } }), 400, "VALIDATION_FAILED", "memberEpoch");
    expectError(await call("POST", path, { json: { memberEpoch: String(m.memberEpoch) } }), 400, "VALIDATION_FAILED", "memberEpoch");
    expectError(await call("POST", path, { json: { memberEpoch: m.memberEpoch + 0.5 } }), 400, "VALIDATION_FAILED", "memberEpoch");
    expectError(
      await call("POST", path, { json: { memberEpoch: m.memberEpoch, ownedPartitions: [{ topic: "bad-t", partitions: [-1] }] } }),
      400,
      "VALIDATION_FAILED",
      "ownedPartitions",
    );
    expectError(
      await call("POST", path, { json: { memberEpoch: m.memberEpoch, ownedPartitions: [{ topic: "bad-t" }] } }),
      400,
      "VALIDATION_FAILED",
    );
    // epoch 0 is a join, which goes through POST /members
    expectError(await call("POST", path, { json: { memberEpoch: 0 } }), 400, "VALIDATION_FAILED", "join through POST");
    // an epoch ahead of the coordinator's, or one too old to be a lost reply: fenced
    expectError(
      await call("POST", path, { json: { memberEpoch: m.memberEpoch + 1, ownedPartitions: owned } }),
      409,
      "FENCED_MEMBER_EPOCH",
      "rejoin",
    );
    expectError(
      await call("POST", path, { json: { memberEpoch: oldEpoch, ownedPartitions: owned } }),
      409,
      "FENCED_MEMBER_EPOCH",
      String(oldEpoch),
    );
    // none of it changed the group; the member is still in it at its epoch
    await heartbeat(m);
    const d = await describe_(G);
    expect(d.groupEpoch).toBe(epochBefore);
    expect(d.members).toHaveLength(1);
    expect(d.members[0].memberEpoch).toBe(m.memberEpoch);
  });

  it("GET …/members/{member}/records: unknown group/member 404, bad limits 400", async () => {
    const path = `${mp(G, m.memberId)}/records`;
    expectError(await call("GET", `${mp("no-such-group", m.memberId)}/records`), 404, "GROUP_ID_NOT_FOUND");
    expectError(await call("GET", `${mp(G, "no-such-member")}/records`), 404, "UNKNOWN_MEMBER_ID", "no-such-member");
    expectError(await call("GET", `${path}?waitMs=30001`), 400, "VALIDATION_FAILED", "waitMs", "30000");
    expectError(await call("GET", `${path}?waitMs=-1`), 400, "VALIDATION_FAILED", "waitMs");
    expectError(await call("GET", `${path}?waitMs=1e3`), 400, "VALIDATION_FAILED", "waitMs");
    expectError(await call("GET", `${path}?maxRecords=0`), 400, "VALIDATION_FAILED", "maxRecords");
    expectError(await call("GET", `${path}?maxRecords=10001`), 400, "VALIDATION_FAILED", "maxRecords");
    expectError(await call("GET", `${path}?maxRecords=ten`), 400, "VALIDATION_FAILED", "maxRecords");
    expectError(await call("GET", `${path}?maxBytes=0`), 400, "VALIDATION_FAILED", "maxBytes");
    expectError(await call("GET", `${path}?offset=3`), 400, "VALIDATION_FAILED", "offset");
    expectError(await call("GET", `${path}?maxRecords=1&maxRecords=2`), 400, "VALIDATION_FAILED", "more than once");
    // the refused polls consumed nothing: the first real one starts at the beginning
    const records = await poll(m, "maxRecords=100&waitMs=0");
    expect(records.filter((r) => r.partition === 0).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4]);
    expect(records.filter((r) => r.partition === 1).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4]);
  });

  it("POST …/members/{member}/offsets (commit): bad offsets 400, not owned / stale / newer epoch 409, nothing committed", async () => {
    const path = `${mp(G, m.memberId)}/offsets`;
    const e = m.memberEpoch;
    const o = (offset: number, partition = 0, topic = "bad-t") => ({ memberEpoch: e, offsets: [{ topic, partition, offset }] });
    expectError(await call("POST", `${mp("no-such-group", m.memberId)}/offsets`, { json: o(1) }), 404, "GROUP_ID_NOT_FOUND");
    expectError(await call("POST", `${mp(G, "no-such-member")}/offsets`, { json: o(1) }), 404, "UNKNOWN_MEMBER_ID", "no-such-member");
    expectError(await call("POST", path, { raw: '{"memberEpoch":' }), 400, "INVALID_JSON");
    expectError(await call("POST", path, { json: { offsets: o(1).offsets } }), 400, "VALIDATION_FAILED", "memberEpoch");
    expectError(await call("POST", path, { json: { ...o(1), force: true } }), 400, "VALIDATION_FAILED", "force");
    expectError(
      await call("POST", path, { json: { memberEpoch: e, offsets: [{ topic: "bad-t", partition: 0, offset: 1, leaderEpoch: 3 }] } }),
      400,
      "VALIDATION_FAILED",
    );
    expectError(
      await call("POST", path, { json: { memberEpoch: e, offsets: [{ topic: "bad-t", partition: 0 }] } }),
      400,
      "VALIDATION_FAILED",
      "offset",
    );
    expectError(await call("POST", path, { json: o(-1) }), 400, "VALIDATION_FAILED", "offset");
    expectError(await call("POST", path, { json: o(1.5) }), 400, "VALIDATION_FAILED", "offset");
    expectError(await call("POST", path, { json: o(1e20) }), 400, "VALIDATION_FAILED", "offset");
    expectError(await call("POST", path, { json: o(2 ** 53) }), 400, "VALIDATION_FAILED", "offset");
    expectError(await call("POST", path, { json: o(1, -1) }), 400, "VALIDATION_FAILED", "partition");
    // beyond the high watermark (5) of an owned partition
    expectError(await call("POST", path, { json: o(6) }), 400, "INVALID_REQUEST", "high watermark");
    expectError(await call("POST", path, { json: o(1_000_000) }), 400, "INVALID_REQUEST", "[0, 5]");
    // partitions this member does not own: another topic, a partition the topic does not have
    expectError(await call("POST", path, { json: o(0, 0, "bad-other") }), 409, "ILLEGAL_GENERATION", "bad-other-0");
    expectError(await call("POST", path, { json: o(0, 7) }), 409, "ILLEGAL_GENERATION", "bad-t-7");
    // epochs: older than the member's → stale; newer → fenced
    expectError(await call("POST", path, { json: { ...o(1), memberEpoch: oldEpoch } }), 409, "STALE_MEMBER_EPOCH", "stale");
    expectError(await call("POST", path, { json: { ...o(1), memberEpoch: e + 1 } }), 409, "FENCED_MEMBER_EPOCH");
    // one bad entry refuses the whole commit
    const mixed = {
      memberEpoch: e,
      offsets: [
        { topic: "bad-t", partition: 0, offset: 2 },
        { topic: "bad-other", partition: 0, offset: 0 },
      ],
    };
    expectError(await call("POST", path, { json: mixed }), 409, "ILLEGAL_GENERATION");
    const mixed2 = {
      memberEpoch: e,
      offsets: [
        { topic: "bad-t", partition: 0, offset: 2 },
        { topic: "bad-t", partition: 1, offset: 99 },
      ],
    };
    expectError(await call("POST", path, { json: mixed2 }), 400, "INVALID_REQUEST");
    expect(await committedOffsets(G)).toEqual({ "bad-t/0": null, "bad-t/1": null });
    // the good commit works
    expect(await commit(m, [{ topic: "bad-t", partition: 0, offset: 5 }])).toEqual([{ topic: "bad-t", partition: 0, offset: 5 }]);
    expect(await committedOffsets(G)).toEqual({ "bad-t/0": 5, "bad-t/1": null });
  });

  it("DELETE …/members/{member} (leave): unknown group/member 404, malformed member id 400", async () => {
    expectError(await call("DELETE", mp("no-such-group", m.memberId)), 404, "GROUP_ID_NOT_FOUND");
    expectError(await call("DELETE", mp(G, "no-such-member")), 404, "UNKNOWN_MEMBER_ID", "no-such-member");
    expectError(await call("DELETE", mp(G, LONG)), 400, "VALIDATION_FAILED", "member");
    expect((await describe_(G)).members).toHaveLength(1);
  });

  it("POST /groups/{group}/offsets/reset: bad mode / unknown topic / partition out of range 400, applied with members 409", async () => {
    const path = `${gp(G)}/offsets/reset`;
    const before = await committedOffsets(G);
    expectError(await call("POST", path, { raw: "{to:" }), 400, "INVALID_JSON");
    expectError(await call("POST", path, { json: {} }), 400, "VALIDATION_FAILED", "to");
    expectError(await call("POST", path, { json: { to: "earliest" } }), 400, "VALIDATION_FAILED", "to");
    expectError(await call("POST", path, { json: { to: { to: "yesterday" } } }), 400, "VALIDATION_FAILED", "to");
    expectError(await call("POST", path, { json: { to: { to: "earliest" }, force: true } }), 400, "VALIDATION_FAILED", "force");
    expectError(await call("POST", path, { json: { to: { to: "earliest", offset: 3 } } }), 400, "VALIDATION_FAILED");
    expectError(await call("POST", path, { json: { to: { to: "offset" } } }), 400, "VALIDATION_FAILED", "offset");
    expectError(await call("POST", path, { json: { to: { to: "offset", offset: -1 } } }), 400, "VALIDATION_FAILED", "offset");
    expectError(await call("POST", path, { json: { to: { to: "timestamp", timestamp: -5 } } }), 400, "VALIDATION_FAILED", "timestamp");
    expectError(await call("POST", path, { json: { to: { to: "shift", shiftBy: 1.5 } } }), 400, "VALIDATION_FAILED", "shiftBy");
    expectError(await call("POST", path, { json: { to: { to: "earliest" }, dryRun: "yes" } }), 400, "VALIDATION_FAILED", "dryRun");
    expectError(
      await call("POST", path, { json: { to: { to: "earliest" }, topics: [{ topic: "no-such-topic" }] } }),
      400,
      "INVALID_REQUEST",
      "no-such-topic",
    );
    expectError(
      await call("POST", path, { json: { to: { to: "earliest" }, topics: [{ topic: "bad-t", partitions: [2] }] } }),
      400,
      "INVALID_REQUEST",
      "partition 2",
      "0..1",
    );
    expectError(
      await call("POST", path, { json: { to: { to: "earliest" }, topics: [{ topic: "bad-t", partitions: [-1] }] } }),
      400,
      "VALIDATION_FAILED",
    );
    expectError(
      await call("POST", `${gp("no-such-group")}/offsets/reset`, { json: { to: { to: "earliest" } } }),
      404,
      "GROUP_ID_NOT_FOUND",
    );
    // applying while the group has a member is refused; planning is allowed
    expectError(await call("POST", path, { json: { to: { to: "earliest" }, dryRun: false } }), 409, "NON_EMPTY_GROUP", "active member");
    const plan = await call("POST", path, { json: { to: { to: "earliest" } } });
    expect(plan.status, plan.text).toBe(200);
    expect(plan.body.dryRun).toBe(true);
    expect(await committedOffsets(G)).toEqual(before);
    // refused resets and dry runs of a group that does not exist create nothing
    expectError(
      await call("POST", `${gp("reset-ghost")}/offsets/reset`, {
        json: { to: { to: "earliest" }, topics: [{ topic: "nope" }], dryRun: false },
      }),
      400,
      "INVALID_REQUEST",
    );
    const ghostPlan = await call("POST", `${gp("reset-ghost")}/offsets/reset`, {
      json: { to: { to: "latest" }, topics: [{ topic: "bad-t" }] },
    });
    expect(ghostPlan.status, ghostPlan.text).toBe(200);
    expect(ghostPlan.body.plan.map((p: { newOffset: number }) => p.newOffset)).toEqual([5, 5]);
    expectError(await call("GET", gp("reset-ghost")), 404, "GROUP_ID_NOT_FOUND");
    expect(await groupIds()).not.toContain("reset-ghost");
  });

  it("DELETE /groups/{group}/offsets?topic=: missing/bad topic 400, unknown group 404, subscribed topic 409", async () => {
    const path = `${gp(G)}/offsets`;
    expectError(await call("DELETE", path), 400, "VALIDATION_FAILED", "topic");
    expectError(await call("DELETE", `${path}?topic=`), 400, "VALIDATION_FAILED", "topic");
    expectError(await call("DELETE", `${path}?topic=a/b`), 400, "VALIDATION_FAILED", "topic");
    expectError(await call("DELETE", `${path}?topic=bad-t&partition=0`), 400, "VALIDATION_FAILED", "partition");
    expectError(await call("DELETE", `${gp("no-such-group")}/offsets?topic=bad-t`), 404, "GROUP_ID_NOT_FOUND");
    expectError(await call("DELETE", `${path}?topic=bad-t`), 409, "GROUP_SUBSCRIBED_TO_TOPIC", "bad-t");
    expect(await committedOffsets(G)).toEqual({ "bad-t/0": 5, "bad-t/1": null });
  });

  it("still serves the member afterwards, and it can leave", async () => {
    await heartbeat(m);
    expect(m.assignment).toEqual([{ topic: "bad-t", partitions: [0, 1] }]);
    await leave(m);
    expect((await describe_(G)).state).toBe("Empty");
  });
});

describe("groups API: offset reset modes", () => {
  const G = "rs-g";
  // recent, so retention (7 days by default) never touches these records
  const T0 = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
  const counts = [10, 6, 3];

  beforeAll(async () => {
    await createTopic("rs", 3);
    const records = counts.flatMap((n, partition) =>
      Array.from({ length: n }, (_, i) => ({ partition, key: `k${i}`, value: `p${partition}-${i}`, timestamp: T0 + i * 1000 })),
    );
    await produce("rs", records);
    const m = await join(G, { topics: ["rs"], autoOffsetReset: "earliest" });
    await commit(m, [
      { topic: "rs", partition: 0, offset: 4 },
      { topic: "rs", partition: 1, offset: 2 },
    ]);
    await leave(m);
  });

  const START = { "rs/0": 4, "rs/1": 2, "rs/2": null };

  async function plan(to: Record<string, unknown>, topics?: unknown) {
    const res = await call("POST", `${gp(G)}/offsets/reset`, { json: { to, ...(topics ? { topics } : {}) } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.groupId).toBe(G);
    expect(res.body.dryRun).toBe(true);
    return res.body.plan as ResetPlanEntry[];
  }

  /** The plan for partitions 0, 1, 2 (currently 4, 2, none; high watermarks 10, 6, 3). */
  function expected(newOffsets: number[]) {
    const current = [4, 2, null];
    return newOffsets.map((newOffset, partition) => {
      const from = current[partition] ?? newOffset;
      return {
        topic: "rs",
        partition,
        currentOffset: current[partition],
        newOffset,
        logStartOffset: 0,
        highWatermark: counts[partition],
        recordsToReread: Math.max(0, from - newOffset),
        recordsToSkip: Math.max(0, newOffset - from),
      };
    });
  }

  it("plans every mode (clamped to the log) without changing anything", async () => {
    const cases: [string, Record<string, unknown>, number[]][] = [
      ["earliest", { to: "earliest" }, [0, 0, 0]],
      ["latest", { to: "latest" }, [10, 6, 3]],
      ["timestamp at a record", { to: "timestamp", timestamp: T0 + 5000 }, [5, 5, 3]],
      ["timestamp between records", { to: "timestamp", timestamp: T0 + 5500 }, [6, 6, 3]],
      ["timestamp before all", { to: "timestamp", timestamp: T0 - 60_000 }, [0, 0, 0]],
      ["timestamp after all", { to: "timestamp", timestamp: T0 + 3_600_000 }, [10, 6, 3]],
      ["explicit offset", { to: "offset", offset: 7 }, [7, 6, 3]],
      ["explicit offset 0", { to: "offset", offset: 0 }, [0, 0, 0]],
      ["explicit offset past the end", { to: "offset", offset: 1_000_000_000_000 }, [10, 6, 3]],
      ["shift forward", { to: "shift", shiftBy: 3 }, [7, 5, 3]],
      ["shift back", { to: "shift", shiftBy: -3 }, [1, 0, 0]],
      ["shift far forward", { to: "shift", shiftBy: 1000 }, [10, 6, 3]],
      ["shift far back", { to: "shift", shiftBy: -1000 }, [0, 0, 0]],
      ["shift by 0", { to: "shift", shiftBy: 0 }, [4, 2, 0]],
    ];
    for (const [name, to, newOffsets] of cases) {
      expect(await plan(to), name).toEqual(expected(newOffsets));
      expect(await committedOffsets(G), `${name} was only a dry run`).toEqual(START);
    }
    // a chosen partition only
    expect(await plan({ to: "shift", shiftBy: -1 }, [{ topic: "rs", partitions: [1] }])).toEqual([expected([3, 1, 0])[1]]);
    // the group (described) is unchanged: still Empty, same offsets
    const d = await describe_(G);
    expect(d.state).toBe("Empty");
    expect(d.members).toEqual([]);
  });

  it("applies a reset: describe shows the new offsets, and a new member starts from them", async () => {
    const res = await call("POST", `${gp(G)}/offsets/reset`, { json: { to: { to: "shift", shiftBy: -2 }, dryRun: false } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.dryRun).toBe(false);
    expect(res.body.plan).toEqual(expected([2, 0, 0]));
    expect(await committedOffsets(G)).toEqual({ "rs/0": 2, "rs/1": 0, "rs/2": 0 });

    const one = await call("POST", `${gp(G)}/offsets/reset`, {
      json: { to: { to: "timestamp", timestamp: T0 + 8000 }, topics: [{ topic: "rs", partitions: [0] }], dryRun: false },
    });
    expect(one.status, one.text).toBe(200);
    expect(one.body.plan).toEqual([{ ...expected([8, 0, 0])[0], currentOffset: 2, recordsToReread: 0, recordsToSkip: 6 }]);
    const d = await describe_(G);
    expect(d.offsets.map((o: { committedOffset: number; lag: number }) => [o.committedOffset, o.lag])).toEqual([
      [8, 2],
      [0, 6],
      [0, 3],
    ]);
    expect(d.totalLag).toBe(11);

    const m = await join(G, { topics: ["rs"], autoOffsetReset: "latest" });
    const records = await poll(m, "maxRecords=100&waitMs=1000");
    expect(records.filter((r) => r.partition === 0).map((r) => r.offset)).toEqual([8, 9]);
    expect(records.filter((r) => r.partition === 1).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(records.filter((r) => r.partition === 2).map((r) => r.offset)).toEqual([0, 1, 2]);
    await leave(m);
  });
});

describe("groups API: auto.offset.reset", () => {
  beforeAll(async () => {
    await createTopic("aor", 1);
    await produce(
      "aor",
      [0, 1, 2, 3, 4].map((i) => ({ partition: 0, value: `v${i}` })),
    );
  });

  it("earliest starts at the log start", async () => {
    const m = await join("aor-e", { topics: ["aor"], autoOffsetReset: "earliest" });
    expect((await poll(m, "waitMs=1000")).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4]);
    await leave(m);
  });

  it("latest (the default) starts at the high watermark: only records produced afterwards come", async () => {
    const m = await join("aor-l", { topics: ["aor"] });
    expect(await poll(m, "waitMs=0")).toEqual([]);
    await produce("aor", [{ partition: 0, value: "after" }]);
    const records = await poll(m, "waitMs=5000");
    expect(records.map((r) => [r.offset, r.value])).toEqual([[5, "after"]]);
    await leave(m);
  });

  it("none fails the poll with 409 NO_OFFSET_FOR_PARTITION until an offset is committed", async () => {
    const m = await join("aor-n", { topics: ["aor"], autoOffsetReset: "none" });
    const res = await call("GET", `${mp("aor-n", m.memberId)}/records?waitMs=0`);
    expectError(res, 409, "NO_OFFSET_FOR_PARTITION", "aor-0", "none");
    expect(res.body.error.details).toEqual({ topic: "aor", partition: 0 });
    await commit(m, [{ topic: "aor", partition: 0, offset: 3 }]);
    expect((await poll(m, "waitMs=1000")).map((r) => r.offset)).toEqual([3, 4, 5]);
    await leave(m);
  });
});

describe("groups API: restart, revocation, deletion", () => {
  it("a restarted consumer (a new member after the old one left) resumes at the last committed offset", async () => {
    await createTopic("resume", 1);
    await produce(
      "resume",
      Array.from({ length: 20 }, (_, i) => ({ partition: 0, value: `v${i}` })),
    );
    const a = await join("resume-g", { topics: ["resume"], autoOffsetReset: "earliest" });
    expect((await poll(a, "maxRecords=7&waitMs=0")).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // without offsets: the member's positions
    expect(await commit(a)).toEqual([{ topic: "resume", partition: 0, offset: 7 }]);
    // read further but never committed: re-delivered to the next member
    expect((await poll(a, "maxRecords=3&waitMs=0")).map((r) => r.offset)).toEqual([7, 8, 9]);
    await leave(a);
    const d = await describe_("resume-g");
    expect(d.state).toBe("Empty");
    expect(d.offsets).toEqual([
      {
        topic: "resume",
        partition: 0,
        committedOffset: 7,
        metadata: null,
        logStartOffset: 0,
        highWatermark: 20,
        lag: 13,
        lagBasis: "committed",
        owner: null,
      },
    ]);
    // auto.offset.reset latest would start at 20: the commit wins
    const b = await join("resume-g", { topics: ["resume"], autoOffsetReset: "latest" });
    expect(b.memberId).not.toBe(a.memberId);
    expect((await poll(b, "maxRecords=100&waitMs=0")).map((r) => r.offset)).toEqual(Array.from({ length: 13 }, (_, i) => 7 + i));
    expect(await commit(b)).toEqual([{ topic: "resume", partition: 0, offset: 20 }]);
    await leave(b);
    expect((await committedOffsets("resume-g"))["resume/0"]).toBe(20);
  });

  it("a commit without offsets during a revocation still covers the partitions being given up", async () => {
    await createTopic("revoke", 2);
    await produce(
      "revoke",
      [0, 0, 0, 1, 1, 1].map((partition, i) => ({ partition, value: `v${i}` })),
    );
    const a = await join("revoke-g", { topics: ["revoke"], autoOffsetReset: "earliest" });
    expect(a.assignment).toEqual([{ topic: "revoke", partitions: [0, 1] }]);
    expect(await poll(a, "maxRecords=100&waitMs=0")).toHaveLength(6);
    const b = await join("revoke-g", { topics: ["revoke"], autoOffsetReset: "earliest" });
    expect(b.assignment).toEqual([]); // nothing is free yet
    const epoch = a.memberEpoch;
    await heartbeat(a, [{ topic: "revoke", partitions: [0, 1] }]);
    // one partition is being revoked: left out of the assignment, epoch unchanged until released
    expect(a.memberEpoch).toBe(epoch);
    expect(a.assignment[0].partitions).toHaveLength(1);
    const kept = a.assignment[0].partitions[0];
    const given = 1 - kept;
    // a's position on the revoked partition (3) is committed with the old epoch
    expect(await commit(a)).toEqual([
      { topic: "revoke", partition: 0, offset: 3 },
      { topic: "revoke", partition: 1, offset: 3 },
    ]);
    await heartbeat(a); // released
    expect(a.memberEpoch).toBeGreaterThan(epoch);
    // the old epoch is now stale
    expectError(
      await call("POST", `${mp("revoke-g", a.memberId)}/offsets`, {
        json: { memberEpoch: epoch, offsets: [{ topic: "revoke", partition: kept, offset: 3 }] },
      }),
      409,
      "STALE_MEMBER_EPOCH",
    );
    await heartbeat(b);
    expect(b.assignment).toEqual([{ topic: "revoke", partitions: [given] }]);
    // b starts where a stopped: nothing of the given-up partition is delivered twice
    await produce("revoke", [{ partition: given, value: "new" }]);
    expect((await poll(b, "maxRecords=100&waitMs=2000")).map((r) => [r.partition, r.offset])).toEqual([[given, 3]]);
    await leave(a);
    await leave(b);
  });

  it("deletes a topic's offsets (refused while members subscribe to it) and an empty group", async () => {
    await createTopic("del-a", 1);
    await createTopic("del-b", 1);
    await produce("del-a", [
      { partition: 0, value: "a" },
      { partition: 0, value: "a" },
    ]);
    await produce("del-b", [
      { partition: 0, value: "b" },
      { partition: 0, value: "b" },
    ]);
    const m = await join("del-g", { topics: ["del-a", "del-b"], autoOffsetReset: "earliest" });
    expect(await poll(m, "maxRecords=100&waitMs=1000")).toHaveLength(4);
    expect(await commit(m)).toHaveLength(2);
    expect(await committedOffsets("del-g")).toEqual({ "del-a/0": 2, "del-b/0": 2 });
    expectError(await call("DELETE", `${gp("del-g")}/offsets?topic=del-a`), 409, "GROUP_SUBSCRIBED_TO_TOPIC");
    await leave(m);
    // a member subscribed to other topics does not stand in the way
    const other = await join("del-g", { topics: ["del-b"] });
    const res = await call("DELETE", `${gp("del-g")}/offsets?topic=del-a`);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ groupId: "del-g", topic: "del-a", deleted: 1 });
    expect(await committedOffsets("del-g")).toEqual({ "del-b/0": 2 });
    // deleting again deletes nothing
    expect((await call("DELETE", `${gp("del-g")}/offsets?topic=del-a`)).body.deleted).toBe(0);
    expectError(await call("DELETE", gp("del-g")), 409, "NON_EMPTY_GROUP");
    await leave(other);

    expect(await groupIds()).toContain("del-g");
    const del = await call("DELETE", gp("del-g"));
    expect(del.status, del.text).toBe(204);
    expectError(await call("GET", gp("del-g")), 404, "GROUP_ID_NOT_FOUND");
    expect(await groupIds()).not.toContain("del-g");
    expectError(await call("DELETE", gp("del-g")), 404, "GROUP_ID_NOT_FOUND");
    // the offsets went with it: a new group under the same id has none
    const fresh = await join("del-g", { topics: ["del-b"], autoOffsetReset: "none" });
    expectError(await call("GET", `${mp("del-g", fresh.memberId)}/records`), 409, "NO_OFFSET_FOR_PARTITION");
    expect((await describe_("del-g")).groupEpoch).toBe(1);
    await leave(fresh);
  });

  it("lists groups with state, member count, assignor and lag", async () => {
    const res = await call("GET", "/groups");
    expect(res.status).toBe(200);
    const byId = new Map(res.body.groups.map((g: { groupId: string }) => [g.groupId, g]));
    expect(byId.get("rs-g")).toEqual({
      groupId: "rs-g",
      state: "Empty",
      members: 0,
      assignor: null,
      totalLag: 11,
      uncommittedPartitions: 0,
    });
    expect(byId.get("resume-g")).toEqual({
      groupId: "resume-g",
      state: "Empty",
      members: 0,
      assignor: null,
      totalLag: 0,
      uncommittedPartitions: 0,
    });
    const ids = res.body.groups.map((g: { groupId: string }) => g.groupId);
    expect(ids).toEqual([...ids].sort());
  });
});

describe("groups API: lag of partitions without a committed offset", () => {
  it("counts them in the total lag, from the log start (earliest, none, no owner) or the head (an owner that resets to latest), marked as such", async () => {
    await createTopic("unread", 3);
    await produce(
      "unread",
      Array.from({ length: 15 }, (_, i) => ({ partition: i % 3, value: `v${i}` })),
    );
    const a = await join("unread-g", { topics: ["unread"], autoOffsetReset: "earliest" });
    await settle([a]);
    expect(await commit(a, [{ topic: "unread", partition: 0, offset: 2 }])).toEqual([{ topic: "unread", partition: 0, offset: 2 }]);
    const lagOf = (d: { offsets: { partition: number; committedOffset: number | null; lag: number; lagBasis: string }[] }) =>
      d.offsets.map((o) => [o.partition, o.committedOffset, o.lag, o.lagBasis]);
    // the owner resets to earliest: unread partitions count from the log start
    let d = await describe_("unread-g");
    expect(lagOf(d)).toEqual([
      [0, 2, 3, "committed"],
      [1, null, 5, "earliest"],
      [2, null, 5, "earliest"],
    ]);
    expect(d.totalLag).toBe(13);
    await leave(a);
    // no member to say where it would start: from the log start, in the list too
    d = await describe_("unread-g");
    expect(lagOf(d)).toEqual([
      [0, 2, 3, "committed"],
      [1, null, 5, "earliest"],
      [2, null, 5, "earliest"],
    ]);
    const list = await call("GET", "/groups");
    expect(list.body.groups.find((g: { groupId: string }) => g.groupId === "unread-g")).toEqual({
      groupId: "unread-g",
      state: "Empty",
      members: 0,
      assignor: null,
      totalLag: 13,
      uncommittedPartitions: 2,
    });
    // an owner that resets to latest would start at the head: nothing waits for it
    const b = await join("unread-g", { topics: ["unread"], autoOffsetReset: "latest" });
    await settle([b]);
    d = await describe_("unread-g");
    expect(lagOf(d)).toEqual([
      [0, 2, 3, "committed"],
      [1, null, 0, "latest"],
      [2, null, 0, "latest"],
    ]);
    expect(d.totalLag).toBe(3);
    await leave(b);
  });
});

describe("groups API: binary polls", () => {
  it("a poll with Accept record-batch carries the member's stored batches, from its position, as the JSON poll would", async () => {
    await createTopic("bin-poll", 2);
    await produce(
      "bin-poll",
      [0, 1, 2, 3, 4, 5].map((i) => ({ partition: i % 2, key: `k${i}`, value: `v${i}` })),
    );
    const m = await join("bin-poll-group", { topics: ["bin-poll"], autoOffsetReset: "earliest" });
    await settle([m]);
    const binaryPoll = async (query: string) => {
      const res = await fetch(`${server.url}/api/v1${mp(m.group, m.memberId)}/records?${query}`, {
        headers: { accept: "application/vnd.kafka.record-batch" },
      });
      const body = Buffer.from(await res.arrayBuffer());
      return { status: res.status, type: res.headers.get("content-type"), body };
    };
    // the first poll takes two records of each partition's one batch; the next starts after them
    const first = await binaryPoll("waitMs=0&maxRecords=1");
    expect(first.status).toBe(200);
    expect(first.type).toBe("application/vnd.kafka.record-batch");
    const got = decodeGroupPoll(first.body).map((r) => `${r.partition}:${r.offset}:${r.key}=${r.value}`);
    expect(got.length).toBeGreaterThan(0);
    await produce("bin-poll", [{ partition: 0, key: "k6", value: "v6" }]);
    const all = [...got];
    for (let i = 0; i < 10 && all.length < 7; i++) {
      all.push(...decodeGroupPoll((await binaryPoll("waitMs=200")).body).map((r) => `${r.partition}:${r.offset}:${r.key}=${r.value}`));
    }
    expect(all.sort()).toEqual(["0:0:k0=v0", "0:1:k2=v2", "0:2:k4=v4", "0:3:k6=v6", "1:0:k1=v1", "1:1:k3=v3", "1:2:k5=v5"]);
    // positions moved as for a JSON poll: committing them stores the ends
    await commit(m);
    expect(await committedOffsets("bin-poll-group")).toMatchObject({ "bin-poll/0": 4, "bin-poll/1": 3 });
    // errors stay JSON
    const unknown = await fetch(`${server.url}/api/v1${mp(m.group, "nobody")}/records`, {
      headers: { accept: "application/vnd.kafka.record-batch" },
    });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("UNKNOWN_MEMBER_ID");
    const bad = await binaryPoll("maxBytes=0");
    expect(bad.status).toBe(400);
  });
});
