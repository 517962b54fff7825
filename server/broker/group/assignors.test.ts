import { describe, expect, it } from "vitest";
import {
  ASSIGNORS,
  ASSIGNOR_NAMES,
  rangeAssignor,
  resolveAssignorName,
  roundRobinAssignor,
  stickyAssignor,
  type Assignor,
  type AssignorMember,
} from "./assignors.ts";
import { keyOf, type TopicPartition } from "./topic-partitions.ts";
import { rng } from "../../testing/prng.ts";

/** "t0p1" style shorthand, as in Kafka's docs. */
const tp = (s: string): TopicPartition => {
  const m = /^(.+)p(\d+)$/.exec(s)!;
  return { topic: m[1], partition: Number(m[2]) };
};
const tps = (...s: string[]) => s.map(tp);
const show = (result: Map<string, TopicPartition[]>) =>
  Object.fromEntries([...result].map(([id, list]) => [id, list.map((x) => `${x.topic}p${x.partition}`)]));
const members = (subs: Record<string, string[]>): AssignorMember[] =>
  Object.entries(subs).map(([memberId, subscribedTopics]) => ({ memberId, subscribedTopics }));
const none = new Map<string, TopicPartition[]>();

function checkComplete(ms: AssignorMember[], topics: Map<string, number>, result: Map<string, TopicPartition[]>) {
  expect([...result.keys()].sort()).toEqual(ms.map((m) => m.memberId).sort());
  const seen = new Map<string, string>();
  for (const [id, list] of result) {
    const subs = new Set(ms.find((m) => m.memberId === id)!.subscribedTopics);
    for (const x of list) {
      expect(subs.has(x.topic), `${id} got ${x.topic} it is not subscribed to`).toBe(true);
      expect(seen.has(keyOf(x.topic, x.partition)), `${x.topic}-${x.partition} assigned twice`).toBe(false);
      seen.set(keyOf(x.topic, x.partition), id);
    }
  }
  for (const [topic, count] of topics) {
    const subscribed = ms.some((m) => m.subscribedTopics.includes(topic));
    for (let p = 0; p < count; p++) expect(seen.has(keyOf(topic, p))).toBe(subscribed);
  }
}

const loads = (r: Map<string, TopicPartition[]>) => [...r.values()].map((l) => l.length);

describe("range assignor (Kafka's RangeAssignor)", () => {
  it("matches Kafka's documented example: C0 [t0p0,t0p1,t1p0,t1p1], C1 [t0p2,t1p2]", () => {
    const r = rangeAssignor(
      members({ C0: ["t0", "t1"], C1: ["t0", "t1"] }),
      new Map([
        ["t0", 3],
        ["t1", 3],
      ]),
      none,
    );
    expect(show(r)).toEqual({ C0: ["t0p0", "t0p1", "t1p0", "t1p1"], C1: ["t0p2", "t1p2"] });
  });

  it("gives the first partitions % members members one extra, as contiguous ranges", () => {
    const r = rangeAssignor(members({ c: ["t"], a: ["t"], b: ["t"] }), new Map([["t", 10]]), none);
    expect(show(r)).toEqual({ a: ["tp0", "tp1", "tp2", "tp3"], b: ["tp4", "tp5", "tp6"], c: ["tp7", "tp8", "tp9"] });
  });

  it("only divides a topic among its subscribers", () => {
    const r = rangeAssignor(
      members({ a: ["x"], b: ["x", "y"] }),
      new Map([
        ["x", 2],
        ["y", 2],
      ]),
      none,
    );
    expect(show(r)).toEqual({ a: ["xp0"], b: ["xp1", "yp0", "yp1"] });
  });
});

describe("round-robin assignor (Kafka's RoundRobinAssignor)", () => {
  it("matches Kafka's documented example: C0 [t0p0,t0p2,t1p1], C1 [t0p1,t1p0,t1p2]", () => {
    const r = roundRobinAssignor(
      members({ C0: ["t0", "t1"], C1: ["t0", "t1"] }),
      new Map([
        ["t0", 3],
        ["t1", 3],
      ]),
      none,
    );
    expect(show(r)).toEqual({ C0: ["t0p0", "t0p2", "t1p1"], C1: ["t0p1", "t1p0", "t1p2"] });
  });

  it("matches Kafka's documented unequal-subscription example", () => {
    const r = roundRobinAssignor(
      members({ C0: ["t0"], C1: ["t0", "t1"], C2: ["t0", "t1", "t2"] }),
      new Map([
        ["t0", 1],
        ["t1", 2],
        ["t2", 3],
      ]),
      none,
    );
    expect(show(r)).toEqual({ C0: ["t0p0"], C1: ["t1p0"], C2: ["t1p1", "t2p0", "t2p1", "t2p2"] });
  });
});

describe("sticky assignor", () => {
  const all = (ids: string[], topics: string[]) => members(Object.fromEntries(ids.map((id) => [id, topics])));

  it("matches Kafka's documented StickyAssignor example when C1 leaves", () => {
    const topics = new Map([
      ["t0", 2],
      ["t1", 2],
      ["t2", 2],
      ["t3", 2],
    ]);
    const current = new Map([
      ["C0", tps("t0p0", "t1p1", "t3p0")],
      ["C1", tps("t0p1", "t2p0", "t3p1")],
      ["C2", tps("t1p0", "t2p1")],
    ]);
    const r = stickyAssignor(all(["C0", "C2"], ["t0", "t1", "t2", "t3"]), topics, current);
    expect(show(r)).toEqual({ C0: ["t0p0", "t1p1", "t2p0", "t3p0"], C2: ["t0p1", "t1p0", "t2p1", "t3p1"] });
  });

  it("starts balanced: 12 partitions over 3 members is 4 each", () => {
    const r = stickyAssignor(all(["a", "b", "c"], ["t"]), new Map([["t", 12]]), none);
    expect(loads(r)).toEqual([4, 4, 4]);
  });

  it("moves exactly 3 partitions when a 4th member joins 3 members owning 4 each of 12", () => {
    const topics = new Map([["t", 12]]);
    const before = stickyAssignor(all(["a", "b", "c"], ["t"]), topics, none);
    const after = stickyAssignor(all(["a", "b", "c", "d"], ["t"]), topics, before);
    expect(loads(after)).toEqual([3, 3, 3, 3]);
    const moved = [...after].flatMap(([id, list]) => list.filter((x) => !(before.get(id) ?? []).some((y) => y.partition === x.partition)));
    expect(moved).toHaveLength(3);
    expect(after.get("d")).toHaveLength(3);
    for (const id of ["a", "b", "c"])
      expect(after.get(id)!.every((x) => before.get(id)!.some((y) => y.partition === x.partition))).toBe(true);
  });

  it("gives a leaver's partitions to the survivors and moves nothing else", () => {
    const topics = new Map([["t", 12]]);
    const before = stickyAssignor(all(["a", "b", "c", "d"], ["t"]), topics, none);
    const after = stickyAssignor(all(["a", "b", "c"], ["t"]), topics, before);
    expect(loads(after)).toEqual([4, 4, 4]);
    for (const id of ["a", "b", "c"]) for (const x of before.get(id)!) expect(after.get(id)).toContainEqual(x);
  });

  it("drops partitions of topics a member unsubscribed from and of vanished partitions", () => {
    const r = stickyAssignor(
      members({ a: ["x"], b: ["x", "y"] }),
      new Map([
        ["x", 2],
        ["y", 1],
      ]),
      new Map([["a", tps("xp0", "yp0", "xp7")]]),
    );
    checkComplete(
      members({ a: ["x"], b: ["x", "y"] }),
      new Map([
        ["x", 2],
        ["y", 1],
      ]),
      r,
    );
    expect(r.get("a")).toContainEqual(tp("xp0"));
  });

  it("is balanced to within one and moves the minimum number of partitions, from any valid start", () => {
    const random = rng(42);
    for (let run = 0; run < 300; run++) {
      const topics = new Map<string, number>();
      const nTopics = 1 + Math.floor(random() * 3);
      for (let t = 0; t < nTopics; t++) topics.set(`t${t}`, 1 + Math.floor(random() * 12));
      const ids = Array.from({ length: 1 + Math.floor(random() * 6) }, (_, i) => `m${i}`);
      const ms = all(ids, [...topics.keys()]);
      // A random, possibly very lopsided, start (some partitions unowned, some owners gone).
      const current = new Map<string, TopicPartition[]>();
      for (const [topic, count] of topics) {
        for (let p = 0; p < count; p++) {
          if (random() < 0.2) continue;
          const owner = `m${Math.floor(random() * (ids.length + 1))}`; // may be a departed member
          current.set(owner, [...(current.get(owner) ?? []), { topic, partition: p }]);
        }
      }
      const r = stickyAssignor(ms, topics, current);
      checkComplete(ms, topics, r);
      const l = loads(r);
      expect(Math.max(...l) - Math.min(...l)).toBeLessThanOrEqual(1);

      const total = [...topics.values()].reduce((a, b) => a + b, 0);
      const q = Math.floor(total / ids.length);
      const counts = ids.map((id) => (current.get(id) ?? []).length);
      const minMoves =
        counts.reduce((s, c) => s + Math.max(0, c - q), 0) - Math.min(total % ids.length, counts.filter((c) => c > q).length);
      let moved = 0;
      for (const id of ids)
        for (const x of current.get(id) ?? []) if (!r.get(id)!.some((y) => y.topic === x.topic && y.partition === x.partition)) moved++;
      expect(moved, `run ${run}`).toBe(minMoves);
    }
  });

  it("balances differing subscriptions as far as they allow", () => {
    const ms = members({ a: ["x"], b: ["x", "y"], c: ["y"] });
    const topics = new Map([
      ["x", 4],
      ["y", 4],
    ]);
    const r = stickyAssignor(ms, topics, new Map([["b", tps("xp0", "xp1", "xp2", "xp3", "yp0", "yp1", "yp2", "yp3")]]));
    checkComplete(ms, topics, r);
    expect(loads(r).sort()).toEqual([2, 3, 3]);
  });
});

describe.each(ASSIGNOR_NAMES)("%s assignor, common contract", (name) => {
  const assignor: Assignor = ASSIGNORS[name];

  it("assigns every subscribed partition exactly once, only to subscribers, and lists every member", () => {
    const random = rng(7);
    for (let run = 0; run < 100; run++) {
      const topics = new Map<string, number>();
      for (let t = 0; t < 4; t++) if (random() < 0.8) topics.set(`t${t}`, Math.floor(random() * 9));
      const ms = Array.from({ length: 1 + Math.floor(random() * 5) }, (_, i) => ({
        memberId: `m${i}`,
        subscribedTopics: ["t0", "t1", "t2", "t3", "ghost"].filter(() => random() < 0.6),
      }));
      checkComplete(ms, new Map([...topics].filter(([t]) => t !== "ghost")), assignor(ms, topics, none));
    }
  });

  it("is deterministic: the same result for any member order", () => {
    const ms = members({ b: ["x", "y"], a: ["x", "y"], c: ["x", "y"], d: ["y"] });
    const topics = new Map([
      ["x", 7],
      ["y", 5],
    ]);
    const first = show(assignor(ms, topics, none));
    expect(show(assignor([...ms].reverse(), topics, none))).toEqual(first);
    expect(show(assignor([ms[2], ms[0], ms[3], ms[1]], topics, none))).toEqual(first);
  });

  it("balances identical single-topic subscriptions to within one", () => {
    for (let members = 1; members <= 7; members++) {
      for (let partitions = 0; partitions <= 20; partitions++) {
        const ms = Array.from({ length: members }, (_, i) => ({ memberId: `m${i}`, subscribedTopics: ["t"] }));
        const l = loads(assignor(ms, new Map([["t", partitions]]), none));
        expect(Math.max(...l) - Math.min(...l)).toBeLessThanOrEqual(1);
      }
    }
  });

  it("handles no members, no topics, and members with empty subscriptions", () => {
    expect(assignor([], new Map([["t", 3]]), none).size).toBe(0);
    expect(show(assignor(members({ a: [] }), new Map([["t", 3]]), none))).toEqual({ a: [] });
    expect(show(assignor(members({ a: ["t"] }), new Map(), none))).toEqual({ a: [] });
  });
});

describe("resolveAssignorName", () => {
  it("knows the three assignors and common aliases, case-insensitively", () => {
    expect(resolveAssignorName("range")).toBe("range");
    expect(resolveAssignorName("RoundRobin")).toBe("roundrobin");
    expect(resolveAssignorName("round-robin")).toBe("roundrobin");
    expect(resolveAssignorName("uniform")).toBe("sticky");
    expect(resolveAssignorName("cooperative-sticky")).toBe("sticky");
  });
  it("rejects unknown names", () => {
    expect(resolveAssignorName("")).toBeUndefined();
    expect(resolveAssignorName("fair")).toBeUndefined();
    expect(resolveAssignorName("constructor")).toBeUndefined();
  });
});
