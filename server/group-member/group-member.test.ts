import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { TributaryError } from "../errors/tributary-error.ts";
import {
  GroupMember,
  type CommitOffset,
  type GroupMemberOptions,
  type HeartbeatReply,
  type MemberClock,
  type MemberHost,
  type MemberTransport,
} from "./group-member.ts";
import { assertTransition, canTransition, IllegalMemberTransitionError, MEMBER_STATES, type MemberState } from "./member-states.ts";
import type { TopicPartitions } from "./topic-partitions.ts";

const LEGAL: [MemberState, MemberState][] = [
  ["Unjoined", "Joining"],
  ["Unjoined", "Left"],
  ["Joining", "Stable"],
  ["Joining", "Leaving"],
  ["Joining", "Left"],
  ["Stable", "Reconciling"],
  ["Stable", "Fenced"],
  ["Stable", "PrepareLeaving"],
  ["Reconciling", "Acknowledging"],
  ["Reconciling", "Fenced"],
  ["Reconciling", "PrepareLeaving"],
  ["Acknowledging", "Stable"],
  ["Acknowledging", "Reconciling"],
  ["Acknowledging", "Fenced"],
  ["Acknowledging", "PrepareLeaving"],
  ["Fenced", "Joining"],
  ["Fenced", "Leaving"],
  ["PrepareLeaving", "Leaving"],
  ["Leaving", "Left"],
];

describe("group member state transition table", () => {
  it("allows exactly the listed transitions", () => {
    const legal = new Set(LEGAL.map(([a, b]) => `${a}→${b}`));
    for (const from of MEMBER_STATES) {
      for (const to of MEMBER_STATES) expect(canTransition(from, to), `${from} → ${to}`).toBe(legal.has(`${from}→${to}`));
    }
    expect(() => assertTransition("Left", "Joining")).toThrow(IllegalMemberTransitionError);
    expect(() => assertTransition("Fenced", "Stable")).toThrow(IllegalMemberTransitionError);
  });
});

// ---- a scripted coordinator, a manual clock and a recording host -------------------------------

/** Lets the promise chains of the member run. */
const flush = async () => {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
};

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

class ManualClock implements MemberClock {
  private next = 1;
  readonly timers = new Map<number, { fn: () => void; ms: number }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.timers.set(id, { fn, ms });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  /** The delays of the timers pending now. */
  pending(): number[] {
    return [...this.timers.values()].map((t) => t.ms).sort((a, b) => a - b);
  }
  /** Fires every pending timer of at most `ms`. */
  async fire(ms = Infinity): Promise<void> {
    for (const [id, t] of [...this.timers]) {
      if (t.ms > ms) continue;
      this.timers.delete(id);
      t.fn();
    }
    await flush();
  }
}

const reply = (memberId: string, memberEpoch: number, assignment: TopicPartitions[], heartbeatIntervalMs = 3_000): HeartbeatReply => ({
  memberId,
  memberEpoch,
  heartbeatIntervalMs,
  assignment,
});

/** The coordinator's side: each request takes the next scripted answer (a reply, or an error to throw). */
class ScriptedTransport implements MemberTransport {
  readonly log: string[] = [];
  readonly heartbeats: { memberId: string; memberEpoch: number; ownedPartitions: TopicPartitions[] }[] = [];
  readonly commits: CommitOffset[][] = [];
  joinReplies: (HeartbeatReply | Error)[] = [];
  heartbeatReplies: (HeartbeatReply | Error)[] = [];
  /** When set, commits wait for it. */
  commitGate: Promise<void> | null = null;

  async join(): Promise<HeartbeatReply> {
    this.log.push("join");
    const r = this.joinReplies.shift();
    if (!r || r instanceof Error) throw r ?? new Error("no join reply scripted");
    return r;
  }
  async heartbeat(request: { memberId: string; memberEpoch: number; ownedPartitions: TopicPartitions[] }): Promise<HeartbeatReply> {
    this.log.push("heartbeat");
    this.heartbeats.push(request);
    const r = this.heartbeatReplies.shift();
    if (!r) throw new Error("no heartbeat reply scripted");
    if (r instanceof Error) throw r;
    return r;
  }
  async commit(request: { offsets: CommitOffset[] }): Promise<CommitOffset[]> {
    this.log.push("commit");
    this.commits.push(request.offsets);
    if (this.commitGate) await this.commitGate;
    return request.offsets;
  }
  leave(): void {
    this.log.push("leave");
  }
}

/** Positions: every partition at 10 + its number; records "in hand" until drain is let go. */
class RecordingHost implements MemberHost {
  readonly events: string[] = [];
  drainGate: Promise<void> | null = null;
  positions(partitions: readonly { topic: string; partition: number }[]): CommitOffset[] {
    return partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition, offset: 10 + tp.partition }));
  }
  joined(e: { memberId: string; rejoin: boolean }) {
    this.events.push(`joined ${e.memberId}${e.rejoin ? " (rejoin)" : ""}`);
  }
  assignmentChanged(e: { assigned: { partition: number }[]; revoking: { partition: number }[] }) {
    this.events.push(`assigned [${e.assigned.map((t) => t.partition)}] revoking [${e.revoking.map((t) => t.partition)}]`);
  }
  async drain(partitions: readonly { partition: number }[]) {
    this.events.push(`drain [${partitions.map((t) => t.partition)}]`);
    await this.drainGate;
    this.events.push(`drained [${partitions.map((t) => t.partition)}]`);
  }
  released(e: { partitions: { partition: number }[]; reason: string }) {
    this.events.push(`released [${e.partitions.map((t) => t.partition)}] ${e.reason}`);
  }
  left(e: { reason: string }) {
    this.events.push(`left ${e.reason}`);
  }
}

function setup(options: Partial<GroupMemberOptions> = {}) {
  const transport = new ScriptedTransport();
  const host = new RecordingHost();
  const clock = new ManualClock();
  const member = new GroupMember(
    transport,
    host,
    { autoCommit: true, onFenced: "rejoin", membershipLost: () => new TributaryError("UNKNOWN_MEMBER_ID", "membership lost"), ...options },
    clock,
  );
  return { transport, host, clock, member };
}

const owned = (h: { ownedPartitions: TopicPartitions[] }) => h.ownedPartitions.flatMap((t) => t.partitions);

describe("GroupMember", () => {
  it("joins, heartbeats at the interval the coordinator gives, and follows a new one", async () => {
    const { transport, clock, member } = setup();
    transport.joinReplies.push(reply("m1", 1, [{ topic: "t", partitions: [0, 1] }], 3_000));
    await member.start();
    expect(member.state).toBe("Stable");
    expect([member.memberId, member.memberEpoch]).toEqual(["m1", 1]);
    expect(member.ownedPartitions()).toEqual([
      { topic: "t", partition: 0 },
      { topic: "t", partition: 1 },
    ]);
    // auto-commit rides on the heartbeat here (no interval given): one heartbeat timer, at 3 s
    expect(clock.pending()).toEqual([3_000]);

    transport.heartbeatReplies.push(reply("m1", 2, [{ topic: "t", partitions: [0, 1] }], 1_200));
    await clock.fire();
    expect(transport.heartbeats.map((h) => [h.memberId, h.memberEpoch, owned(h)])).toEqual([["m1", 1, [0, 1]]]);
    expect(member.memberEpoch).toBe(2);
    expect(clock.pending()).toEqual([1_200]);
    // the positions moved, so the heartbeat's auto-commit sent them
    expect(transport.commits).toEqual([
      [
        { topic: "t", partition: 0, offset: 10 },
        { topic: "t", partition: 1, offset: 11 },
      ],
    ]);
    // unchanged positions are not committed again
    transport.heartbeatReplies.push(reply("m1", 2, [{ topic: "t", partitions: [0, 1] }], 1_200));
    await clock.fire();
    expect(transport.commits).toHaveLength(1);
    expect(member.state).toBe("Stable");
  });

  it("revokes: stops, waits for the records in hand, commits, and only then stops reporting the partition", async () => {
    const { transport, host, clock, member } = setup({ autoCommitIntervalMs: 60_000 });
    transport.joinReplies.push(reply("m1", 1, [{ topic: "t", partitions: [0, 1] }]));
    await member.start();
    const drainGate = deferred();
    host.drainGate = drainGate.promise;
    const commitGate = deferred();
    transport.commitGate = commitGate.promise;

    // the coordinator moves partition 1 away
    transport.heartbeatReplies.push(reply("m1", 2, [{ topic: "t", partitions: [0] }]));
    await clock.fire(3_000);
    expect(member.state).toBe("Reconciling");
    expect(member.isActive("t", 1)).toBe(false);
    expect(host.events).toEqual(["joined m1", "assigned [0,1] revoking []", "assigned [] revoking [1]", "drain [1]"]);

    // while the handler still holds records of partition 1, heartbeats keep reporting it as owned
    transport.heartbeatReplies.push(reply("m1", 2, [{ topic: "t", partitions: [0] }]));
    await clock.fire(3_000);
    expect(owned(transport.heartbeats[1])).toEqual([0, 1]);
    expect(transport.commits).toEqual([]);

    // the records in hand are done: their position is committed, and until that commit is done nothing is released
    drainGate.resolve();
    await flush();
    expect(transport.commits).toEqual([[{ topic: "t", partition: 1, offset: 11 }]]);
    expect(member.state).toBe("Reconciling");
    expect(member.ownedPartitions().map((t) => t.partition)).toEqual([0, 1]);

    commitGate.resolve();
    await flush();
    expect(host.events.slice(-2)).toEqual(["drained [1]", "released [1] revoked"]);
    expect(member.state).toBe("Acknowledging");
    // the release is acknowledged at once, not at the next interval
    expect(clock.pending()).toContain(0);
    transport.heartbeatReplies.push(reply("m1", 2, [{ topic: "t", partitions: [0] }]));
    await clock.fire(0);
    expect(owned(transport.heartbeats[2])).toEqual([0]);
    expect(member.state).toBe("Stable");
  });

  it("without autoCommit, a revoked partition waits for the host's commit (up to the grace period)", async () => {
    const { transport, host, clock, member } = setup({ autoCommit: false, revocationGraceMs: (interval) => interval * 2 });
    transport.joinReplies.push(reply("m1", 1, [{ topic: "t", partitions: [0, 1] }]));
    await member.start();
    transport.heartbeatReplies.push(reply("m1", 2, [{ topic: "t", partitions: [0] }]));
    await clock.fire(3_000);
    expect(member.state).toBe("Reconciling");
    expect(clock.pending()).toEqual([3_000, 6_000]); // the next heartbeat, and the grace period
    expect(host.events).not.toContain("released [1] revoked");

    await member.commit([{ topic: "t", partition: 1, offset: 5 }]);
    await flush();
    expect(transport.commits).toEqual([[{ topic: "t", partition: 1, offset: 5 }]]);
    expect(host.events).toContain("released [1] revoked");
    expect(member.state).toBe("Acknowledging");
  });

  it("fenced: drops everything without a commit, fails a queued commit at once, and joins again as a new member", async () => {
    const { transport, host, clock, member } = setup({ autoCommitIntervalMs: 60_000 });
    transport.joinReplies.push(reply("m1", 1, [{ topic: "t", partitions: [0, 1] }]));
    await member.start();
    const drainGate = deferred();
    host.drainGate = drainGate.promise;

    transport.heartbeatReplies.push(new TributaryError("FENCED_MEMBER_EPOCH", "stale epoch"));
    transport.joinReplies.push(reply("m2", 3, [{ topic: "t", partitions: [1] }]));
    await clock.fire(3_000);
    expect(member.state).toBe("Fenced");
    expect(member.ownedPartitions()).toEqual([
      { topic: "t", partition: 0 },
      { topic: "t", partition: 1 },
    ]);
    // a handler still running commits: refused at once, not queued behind the rejoin
    await expect(member.commit()).rejects.toMatchObject({ code: "UNKNOWN_MEMBER_ID" });

    drainGate.resolve();
    await flush();
    expect(transport.commits).toEqual([]);
    expect(transport.log).toEqual(["join", "heartbeat", "join"]);
    expect(host.events.slice(2)).toEqual([
      "drain [0,1]",
      "drained [0,1]",
      "released [0,1] lost",
      "joined m2 (rejoin)",
      "assigned [1] revoking []",
    ]);
    expect(member.state).toBe("Stable");
    expect([member.memberId, member.memberEpoch, member.incarnation]).toEqual(["m2", 3, 2]);
  });

  it("fenced with onFenced 'end': the membership ends (no commit, a best-effort leave)", async () => {
    const { transport, host, clock, member } = setup({ onFenced: "end" });
    transport.joinReplies.push(reply("m1", 1, [{ topic: "t", partitions: [0] }]));
    await member.start();
    transport.heartbeatReplies.push(new TributaryError("UNKNOWN_MEMBER_ID", "gone"));
    await clock.fire(3_000);
    expect(member.state).toBe("Left");
    // the heartbeat's auto-commit went before it; nothing is committed after the fence
    expect(transport.log).toEqual(["join", "commit", "heartbeat", "leave"]);
    expect(host.events.slice(-2)).toEqual(["released [0] lost", "left fenced"]);
    expect(clock.pending()).toEqual([]);
  });

  it("a transient heartbeat failure is retried at the next interval with the same view", async () => {
    const { transport, clock, member } = setup({ autoCommit: false });
    transport.joinReplies.push(reply("m1", 1, [{ topic: "t", partitions: [0] }]));
    await member.start();
    transport.heartbeatReplies.push(new Error("database unavailable"), reply("m1", 1, [{ topic: "t", partitions: [0] }]));
    await clock.fire();
    expect(member.state).toBe("Stable");
    expect(clock.pending()).toEqual([3_000]);
    await clock.fire();
    expect(transport.heartbeats.map(owned)).toEqual([[0], [0]]);
  });

  it("a poll yields to the coordinator: its signal aborts when another operation is queued, and it is skipped while one waits", async () => {
    const { transport, member } = setup({ autoCommit: false });
    transport.joinReplies.push(reply("m1", 1, [{ topic: "t", partitions: [0] }]));
    await member.start();
    const longPoll = member.poll(
      (signal) => new Promise<string>((resolve) => signal.addEventListener("abort", () => resolve("cut short"), { once: true })),
    );
    await flush();
    const commit = member.commit([{ topic: "t", partition: 0, offset: 3 }]);
    expect(await longPoll).toBe("cut short");
    await commit;

    const gate = deferred();
    const busy = member.exclusive(() => gate.promise);
    const skipped = member.poll(async () => "records");
    const after = member.exclusive(async () => "after");
    gate.resolve();
    await busy;
    expect(await skipped).toBeNull();
    expect(await after).toBe("after");
    expect(await member.poll(async () => "records")).toBe("records");
  });

  it("keeps nothing of a poll's result: what a poll returned can be collected before the next operation", async () => {
    const { transport, member } = setup({ autoCommit: false });
    transport.joinReplies.push(reply("m1", 1, [{ topic: "t", partitions: [0] }]));
    await member.start();
    v8.setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    let collected = false;
    const registry = new FinalizationRegistry<string>(() => (collected = true));
    // the caller takes the records and lets them go (as the consumer does once they are processed)
    await (async () => {
      const records = await member.poll(async () => ({ records: new Array<number>(1000).fill(1) }));
      registry.register(records!, "records");
    })();
    for (let i = 0; i < 20 && !collected; i++) {
      gc();
      await new Promise<void>((r) => setTimeout(r, 10));
    }
    expect(collected).toBe(true);
  });

  it("leaves: waits for the records in hand, commits, then leaves; polls stop", async () => {
    const { transport, host, member } = setup({ autoCommitIntervalMs: 60_000 });
    transport.joinReplies.push(reply("m1", 1, [{ topic: "t", partitions: [0] }]));
    await member.start();
    const drainGate = deferred();
    host.drainGate = drainGate.promise;
    const leaving = member.leave();
    await flush();
    expect(member.state).toBe("PrepareLeaving");
    expect(await member.poll(async () => "records")).toBeNull();
    // a handler finishing its records may still commit
    await member.commit([{ topic: "t", partition: 0, offset: 7 }]);
    drainGate.resolve();
    await leaving;
    expect(transport.log).toEqual(["join", "commit", "commit", "leave"]);
    expect(transport.commits[1]).toEqual([{ topic: "t", partition: 0, offset: 10 }]);
    expect(host.events.slice(-2)).toEqual(["released [0] stopped", "left left"]);
    expect(member.state).toBe("Left");
    await expect(member.commit()).rejects.toMatchObject({ code: "UNKNOWN_MEMBER_ID" });
  });
});
