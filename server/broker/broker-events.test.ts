/**
 * The broker's group and transaction events, on a broker over a real database: members joining,
 * leaving and being fenced (session timeout), the group epoch moving, assignments changing, and
 * transactions begun, committed and aborted — each once its change is complete.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BrokerEventMap } from "./events.ts";
import type { ProduceAs } from "./broker.ts";
import { withBroker, type BrokerHarness } from "../testing/broker-fixture.ts";

type Seen = { name: keyof BrokerEventMap; event: unknown };

const GROUP_EVENTS = [
  "group-member-joined",
  "group-member-left",
  "group-member-fenced",
  "group-epoch-bumped",
  "group-assignment-changed",
] as const;
const TXN_EVENTS = ["transaction-begun", "transaction-committed", "transaction-aborted"] as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("broker events for groups and transactions", () => {
  let h: BrokerHarness;
  const seen: Seen[] = [];

  beforeAll(async () => {
    h = await withBroker("postgres", { groupConfig: { sessionTimeoutMs: 300, heartbeatIntervalMs: 100 }, txnCheckIntervalMs: 0 });
    for (const name of [...GROUP_EVENTS, ...TXN_EVENTS]) h.broker.events.on(name, (event: unknown) => seen.push({ name, event }));
    await h.broker.createTopic({ name: "ev", partitions: 2 });
  }, 60_000);
  afterAll(() => h?.close());

  const named = (name: keyof BrokerEventMap) => seen.filter((s) => s.name === name).map((s) => s.event);

  it("members join, get assignments as the epoch moves, leave, and are fenced when they go silent", async () => {
    const b = h.broker;
    const join = { subscribedTopicNames: ["ev"], memberEpoch: 0 } as const;
    const a = await b.heartbeatGroup("g-ev", join);
    expect(named("group-member-joined")).toEqual([{ groupId: "g-ev", memberId: a.memberId, clientId: "" }]);
    expect(named("group-epoch-bumped")).toEqual([{ groupId: "g-ev", groupEpoch: 1 }]);
    expect(named("group-assignment-changed")).toEqual([
      { groupId: "g-ev", memberId: a.memberId, memberEpoch: 1, assignment: [{ topic: "ev", partitions: [0, 1] }], pendingRevocation: [] },
    ]);

    // a second member: the epoch moves, and the first is asked to give one partition up
    const c = await b.heartbeatGroup("g-ev", join);
    await b.heartbeatGroup("g-ev", { memberId: a.memberId, memberEpoch: a.memberEpoch });
    expect(named("group-epoch-bumped")).toEqual([
      { groupId: "g-ev", groupEpoch: 1 },
      { groupId: "g-ev", groupEpoch: 2 },
    ]);
    const changes = named("group-assignment-changed") as {
      memberId: string;
      assignment: unknown;
      pendingRevocation: { partitions: number[] }[];
    }[];
    expect(
      changes
        .filter((e) => e.memberId === a.memberId)
        .at(-1)
        ?.pendingRevocation.flatMap((p) => p.partitions),
    ).toHaveLength(1);

    b.leaveGroup("g-ev", c.memberId);
    expect(named("group-member-left")).toEqual([{ groupId: "g-ev", memberId: c.memberId, clientId: "", reason: "left" }]);

    // a goes silent: the session timeout fences it
    for (let i = 0; i < 40 && named("group-member-fenced").length === 0; i++) await sleep(100);
    expect(named("group-member-fenced")).toEqual([{ groupId: "g-ev", memberId: a.memberId, clientId: "", reason: "session-timeout" }]);
  });

  it("transactions: begun on the first write, committed and aborted once their markers are written", async () => {
    const b = h.broker;
    const p = await b.initProducer({ transactionalId: "tx-ev" });
    let seq = 0;
    const send = async (partition: number) => {
      const as: ProduceAs = { producerId: p.producerId, producerEpoch: p.producerEpoch, baseSequence: seq, transactionalId: "tx-ev" };
      await b.produce("ev", [{ key: null, value: Buffer.from("v"), partition }], as);
      seq++;
    };
    await send(0);
    await sleep(0);
    expect(named("transaction-begun")).toEqual([{ transactionalId: "tx-ev", producerId: p.producerId, producerEpoch: p.producerEpoch }]);
    expect(named("transaction-committed")).toEqual([]);
    await b.endTransaction("tx-ev", p.producerId, p.producerEpoch, true);
    await sleep(0);
    expect(named("transaction-committed")).toEqual([
      {
        transactionalId: "tx-ev",
        producerId: p.producerId,
        producerEpoch: p.producerEpoch,
        reason: "client",
        partitions: [{ topic: "ev", partition: 0 }],
      },
    ]);

    seq = 0; // sequences are per partition: partition 1 starts at 0
    await send(1);
    await b.endTransaction("tx-ev", p.producerId, p.producerEpoch, false);
    await sleep(0);
    expect(named("transaction-begun")).toHaveLength(2);
    expect(named("transaction-aborted")).toEqual([
      {
        transactionalId: "tx-ev",
        producerId: p.producerId,
        producerEpoch: p.producerEpoch,
        reason: "client",
        partitions: [{ topic: "ev", partition: 1 }],
      },
    ]);
  });
});
