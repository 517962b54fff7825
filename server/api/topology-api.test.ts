/**
 * The live topology, the rebalance timeline and simulated clients (issue #17) against a real
 * server process: a client's producer and a group's members with what they own appear in the
 * snapshot; a simulated group of 3 on 12 partitions owns 4 each, and after one member is killed
 * (it stops heartbeating) the other two own 6 each once its session timed out — and the timeline
 * shows both epochs and how long the dead member's partitions had no owner; limits are refused
 * with 400 naming the field; the WebSocket subscription pushes snapshots.
 */
import { afterAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { Consumer, Producer } from "../client/index.ts";
import { useTestServer } from "../testing/test-server.ts";
import { apiCaller } from "../testing/api-client.ts";
import { expectError } from "../testing/api-assertions.ts";
import { eventually } from "../testing/topic-reading.ts";
import { withoutStall } from "../testing/hardening-kit.ts";
import type { TGroupTimeline, TSimulatedGroup, TTopologyGroup, TTopologySnapshot } from "../schemas/topology.ts";

// a killed member is expired after 5 s; members heartbeat every 500 ms (a loaded machine may delay one by seconds)
const server = useTestServer({ TRIBUTARY_GROUP_SESSION_TIMEOUT_MS: "5000", TRIBUTARY_GROUP_HEARTBEAT_INTERVAL_MS: "500" });
const call = apiCaller(() => server.url + "/api/v1");

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

async function createTopic(name: string, partitions: number): Promise<void> {
  const res = await call("POST", "/topics", { json: { name, partitions } });
  expect(res.status, res.text).toBe(201);
}

async function topology(): Promise<TTopologySnapshot> {
  const res = await call("GET", "/topology");
  expect(res.status, res.text).toBe(200);
  return res.body as TTopologySnapshot;
}

const owned = (m: { assignment: { partitions: number[] }[] }) => m.assignment.reduce((n, a) => n + a.partitions.length, 0);
const groupIn = (t: TTopologySnapshot, id: string): TTopologyGroup | undefined => t.groups.find((g) => g.groupId === id);

describe("the topology snapshot", () => {
  it("shows a producer with its client id, rate and topics, and a group's members with the partitions each owns and the lag", async () => {
    await createTopic("topo-orders", 4);
    const producer = new Producer({ baseUrl: server.url, clientId: "checkout-service", lingerMs: 5 });
    cleanups.push(() => producer.flush());
    for (let i = 0; i < 20; i++) await producer.sendMany("topo-orders", [{ key: `o${i}`, value: JSON.stringify({ i }) }]);
    const consumer = new Consumer({ baseUrl: server.url, groupId: "topo-billing", clientId: "billing-1", autoOffsetReset: "earliest" });
    cleanups.push(() => consumer.stop());
    consumer.subscribe({ topics: ["topo-orders"] });
    await consumer.run({ eachMessage: async () => undefined });

    const t = await eventually(
      "the producer and the group's member with its 4 partitions",
      topology,
      (t) =>
        t.producers.some((p) => p.clientId === "checkout-service") &&
        owned(groupIn(t, "topo-billing")?.members[0] ?? { assignment: [] }) === 4,
    );
    const p = t.producers.find((p) => p.clientId === "checkout-service")!;
    expect(p.idempotent).toBe(true);
    expect(p.producerId).toBe(producer.producerIdentity!.producerId);
    expect(p.transactional).toBe(false);
    expect(p.simulated).toBe(false);
    expect(p.topics.map((x) => x.topic)).toEqual(["topo-orders"]);
    expect(p.topics[0].partitions.length).toBeGreaterThan(0);
    const topic = t.topics.find((x) => x.name === "topo-orders")!;
    expect(topic.partitionCount).toBe(4);
    expect(topic.partitions.reduce((s, x) => s + x.highWatermark - x.logStartOffset, 0)).toBe(20);
    const g = groupIn(t, "topo-billing")!;
    expect(g.topics).toEqual(["topo-orders"]);
    expect(g.members).toHaveLength(1);
    expect(g.members[0]).toMatchObject({ clientId: "billing-1", simulated: false });
    expect(g.members[0].assignment).toEqual([{ topic: "topo-orders", partitions: [0, 1, 2, 3] }]);
    expect(g.lag.map((l) => l.partition)).toEqual([0, 1, 2, 3]);
    expect(g.lag.every((l) => l.owner === g.members[0].memberId)).toBe(true);
    expect(t.truncated).toEqual({ producers: false, topics: false, partitions: false, groups: false, pipelines: false });
  });
});

describe("simulated clients", () => {
  it("a group of 3 on 12 partitions owns 4 each; killed, one's partitions go to the other two (6 each); the timeline shows both epochs and the gap", async () => {
    await createTopic("topo-failover", 12);
    const prod = await call("POST", "/simulations/producers", {
      json: { topic: "topo-failover", ratePerSec: 200, keys: { type: "uniform", count: 50 } },
    });
    expect(prod.status, prod.text).toBe(201);
    cleanups.push(() => call("DELETE", `/simulations/producers/${prod.body.id}`));
    const created = await call("POST", "/simulations/groups", {
      json: { groupId: "topo-sim", topics: ["topo-failover"], members: 3, processingMsPerRecord: 1 },
    });
    expect(created.status, created.text).toBe(201);
    const sim = created.body as TSimulatedGroup;
    cleanups.push(() => call("DELETE", `/simulations/groups/${sim.id}`));

    const counts = (g: TTopologyGroup | undefined) => (g?.members ?? []).map(owned).sort((a, b) => a - b);
    const stable = await eventually("3 members with 4 partitions each", topology, (t) => counts(groupIn(t, "topo-sim")).join() === "4,4,4");
    const g = groupIn(stable, "topo-sim")!;
    expect(g.simulated).toBe(true);
    expect(g.simulationId).toBe(sim.id);
    expect(g.members.every((m) => m.simulated)).toBe(true);
    const simProducer = stable.producers.find((p) => p.simulationId === prod.body.id);
    expect(simProducer?.simulated).toBe(true);
    const epochBefore = g.groupEpoch;

    const killed = await call("POST", `/simulations/groups/${sim.id}/members/1`, { json: { action: "kill" } });
    expect(killed.status, killed.text).toBe(200);
    expect(killed.body.members[1].state).toBe("killed");
    const after = await eventually(
      "2 members with 6 partitions each",
      topology,
      (t) => counts(groupIn(t, "topo-sim")).join() === "6,6",
      20_000,
    );
    expect(groupIn(after, "topo-sim")!.groupEpoch).toBeGreaterThan(epochBefore);

    const res = await call("GET", "/groups/topo-sim/timeline");
    expect(res.status, res.text).toBe(200);
    const timeline = res.body as TGroupTimeline;
    const ctx = JSON.stringify(timeline).slice(0, 4000);
    const types = timeline.events.map((e) => e.type);
    expect(types.filter((t) => t === "member-joined").length, ctx).toBeGreaterThanOrEqual(3);
    const expired = timeline.events.find((e) => e.type === "session-timeout" && e.clientId === `${sim.id}-1`)!;
    expect(expired, ctx).toBeDefined();
    // the epoch with 3 members owning 4 each, and the last one with 2 owning 6 each
    const shape = (e: TGroupTimeline["epochs"][number]) =>
      e.members
        .map((m) => owned({ assignment: m.owned }))
        .sort((a, b) => a - b)
        .join();
    expect(timeline.epochs.some((e) => shape(e) === "4,4,4")).toBe(true);
    const last = timeline.epochs[timeline.epochs.length - 1];
    expect(last.to).toBeNull();
    expect(shape(last)).toBe("6,6");
    // the dead member's 4 partitions had no owner from its expiry until the survivors took them
    const before = timeline.epochs.filter((e) => e.to !== null && e.to <= expired.at).at(-1)!;
    const dead = before.members.find((m) => m.clientId === `${sim.id}-1`)!;
    expect(owned({ assignment: dead.owned }), ctx).toBe(4);
    for (const p of dead.owned[0].partitions) {
      const gap = timeline.gaps.find((x) => x.partition === p && x.from === expired.at);
      expect(gap?.to, `partition ${p}: ${ctx}`).toBeGreaterThanOrEqual(expired.at);
    }
    expect(timeline.truncated).toBe(false);
    expect(timeline.limit).toBe(1000);

    // restarting the member brings the group back to 4 each
    const restarted = await call("POST", `/simulations/groups/${sim.id}/members/1`, { json: { action: "start" } });
    expect(restarted.status, restarted.text).toBe(200);
    await eventually("3 members with 4 partitions each again", topology, (t) => counts(groupIn(t, "topo-sim")).join() === "4,4,4");

    const list = await call("GET", "/simulations");
    expect(list.status).toBe(200);
    const mine = list.body.groups.find((x: TSimulatedGroup) => x.id === sim.id) as TSimulatedGroup;
    expect(mine.processed).toBeGreaterThan(0);
    expect(mine.skipped).toBe(0);
  });

  it("refuses what is past a limit or malformed with a 400 naming the field", async () => {
    await createTopic("topo-limits", 1);
    const cases: [string, unknown, string][] = [
      ["/simulations/producers", { topic: "topo-limits", ratePerSec: 50_000 }, "ratePerSec"],
      ["/simulations/producers", { topic: "topo-limits", ratePerSec: 10, keys: { type: "hot", count: 5, hot: 9 } }, "keys.hot"],
      ["/simulations/producers", { topic: "topo-limits", ratePerSec: 10, value: { type: "cel", expression: "seq +" } }, "value.expression"],
      ["/simulations/groups", { groupId: "topo-limits-g", topics: ["topo-limits"], members: 17 }, "members"],
      [
        "/simulations/groups",
        { groupId: "topo-limits-g", topics: ["topo-limits"], members: 1, processingMsPerRecord: -1 },
        "processingMsPerRecord",
      ],
      ["/simulations/groups", { groupId: "topo-limits-g", topics: [], members: 1 }, "topics"],
    ];
    for (const [path, json, field] of cases) {
      const res = await call("POST", path, { json });
      expectError(res, 400, "VALIDATION_FAILED", field);
    }
    expectError(
      await call("POST", "/simulations/producers", { json: { topic: "no-such-topic", ratePerSec: 1 } }),
      404,
      "UNKNOWN_TOPIC_OR_PARTITION",
    );
    expectError(await call("POST", "/simulations/groups/sim-g999/members/0", { json: { action: "kill" } }), 404, "SIMULATION_NOT_FOUND");
    expectError(await call("GET", "/groups/no-such-group/timeline"), 404, "GROUP_ID_NOT_FOUND");
    // the total rate of all simulated producers is bounded too
    const made: string[] = [];
    let refused = null;
    for (let i = 0; i < 5 && !refused; i++) {
      const res = await call("POST", "/simulations/producers", { json: { topic: "topo-limits", ratePerSec: 5000, paused: true } });
      if (res.status === 201) made.push(res.body.id);
      else refused = res;
    }
    expect(refused).not.toBeNull();
    expectError(refused!, 400, "VALIDATION_FAILED", "ratePerSec");
    for (const id of made) expect((await call("DELETE", `/simulations/producers/${id}`)).status).toBe(204);
  });
});

describe("a costly value template", () => {
  it("at 5000 records/s falls behind its rate instead of stalling the server", async () => {
    await createTopic("topo-costly", 1);
    // about 1 ms per value: 5000/s would be 5 s of work per second without the template time budget
    const list = `[${Array.from({ length: 60 }, (_, i) => i).join(",")}]`;
    const expression = `{"n": ${list}.map(x, ${list}.map(y, x * y + seq).size()).size()}`;
    const res = await call("POST", "/simulations/producers", {
      json: { topic: "topo-costly", ratePerSec: 5000, keys: { type: "none" }, value: { type: "cel", expression } },
    });
    expect(res.status, res.text).toBe(201);
    await withoutStall(server.url, () => new Promise((r) => setTimeout(r, 4000)));
    const list2 = (await call("GET", "/simulations")).body as { producers: { id: string; produced: number; state: string }[] };
    const p = list2.producers.find((x) => x.id === res.body.id)!;
    expect(p.produced).toBeGreaterThan(0);
    expect(p.produced).toBeLessThan(5000 * 4);
    expect((await call("DELETE", `/simulations/producers/${res.body.id}`)).status).toBe(204);
  });
});

describe("the WebSocket subscription", () => {
  it("pushes topology snapshots every second until unsubscribed", async () => {
    const ws = new WebSocket(server.url.replace("http", "ws") + "/ws");
    const frames: { type: string; id?: string; topology?: TTopologySnapshot }[] = [];
    ws.on("message", (d) => frames.push(JSON.parse(d.toString())));
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    ws.send(JSON.stringify({ type: "subscribe-topology", id: "topo" }));
    const two = await eventually(
      "two topology frames",
      async () => frames.filter((f) => f.type === "topology"),
      (f) => f.length >= 2,
      10_000,
    );
    expect(two[0].id).toBe("topo");
    expect(two[0].topology!.topics.some((t) => t.name === "topo-orders")).toBe(true);
    expect(two[1].topology!.at).toBeGreaterThan(two[0].topology!.at);
    ws.send(JSON.stringify({ type: "unsubscribe", id: "topo" }));
    await eventually("unsubscribed", async () => frames.some((f) => f.type === "unsubscribed"), Boolean, 5000);
    const count = frames.filter((f) => f.type === "topology").length;
    await new Promise((r) => setTimeout(r, 2500));
    expect(frames.filter((f) => f.type === "topology").length).toBeLessThanOrEqual(count + 1);
    ws.close();
  });
});
