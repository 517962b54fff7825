/**
 * The teaching scenarios against a real server: each reaches its stated outcome, asserted from
 * the API (the group's own description, the topics), not only from the scenario's report; reset
 * deletes what it created and it runs again; a topic of its name it did not create refuses the start.
 */
import { describe, expect, it } from "vitest";
import { useTestServer } from "../testing/test-server.ts";
import { runToOutcome, scenarioFinished } from "../testing/scenario-runs.ts";
import { apiCaller } from "../testing/api-client.ts";
import { expectError } from "../testing/api-assertions.ts";
import { eventually } from "../testing/topic-reading.ts";
import type { TGroup } from "../schemas/group.ts";
import { SCENARIO_IDS, type TScenario } from "../schemas/topology.ts";

// a crashed member is expired after 5 s
const server = useTestServer({ TRIBUTARY_GROUP_SESSION_TIMEOUT_MS: "5000", TRIBUTARY_GROUP_HEARTBEAT_INTERVAL_MS: "500" });
const call = apiCaller(() => server.url + "/api/v1");

async function group(id: string): Promise<TGroup> {
  const res = await call("GET", `/groups/${encodeURIComponent(id)}`);
  expect(res.status, res.text).toBe(200);
  return res.body as TGroup;
}

const partitionsPerMember = (g: TGroup) =>
  g.members.map((m) => m.assignment.reduce((n, a) => n + a.partitions.length, 0)).sort((a, b) => a - b);

describe("scenarios", () => {
  it("lists every scenario with its explanation, idle", async () => {
    const res = await call("GET", "/scenarios");
    expect(res.status).toBe(200);
    expect(res.body.scenarios.map((s: TScenario) => [s.id, s.state])).toEqual(SCENARIO_IDS.map((id) => [id, "idle"]));
    for (const s of res.body.scenarios as TScenario[]) expect(s.explanation.length).toBeGreaterThan(100);
    expect(res.body.scenarios[0].explanation).toMatch(/13th/);
    expectError(await call("POST", "/scenarios/no-such/start"), 400, "VALIDATION_FAILED", "scenario must be");
  });

  it(
    "consumer groups & failover: 4 each, a member crashes, 6 each, no record lost — then reset deletes what it made",
    { timeout: 180_000 },
    async () => {
      const started = await call("POST", "/scenarios/consumer-groups-failover/start");
      expect(started.status, started.text).toBe(202);
      expect(started.body.state).toBe("running");
      expectError(await call("POST", "/scenarios/consumer-groups-failover/start"), 409, "INVALID_SIMULATION_STATE", "running");
      const s = await scenarioFinished(call, "consumer-groups-failover", 120_000);
      expect(s.state, JSON.stringify(s)).toBe("done");
      expect(s.outcome?.reached, JSON.stringify(s)).toBe(true);
      expect(s.outcome?.measures.partitionsBefore).toEqual([4, 4, 4]);
      expect(s.outcome?.measures.partitionsAfter).toEqual([6, 6]);
      expect(s.outcome?.measures.lost).toBe(0);
      // from the broker itself: the group has 2 members owning 6 each and nothing left to read
      const [groupId] = s.groups;
      const g = await group(groupId);
      expect(partitionsPerMember(g)).toEqual([6, 6]);
      expect(g.totalLag).toBe(0);
      const topic = (await call("GET", "/topics/scenario-failover.orders")).body;
      const produced = topic.partitions.reduce((n: number, p: { highWatermark: number }) => n + p.highWatermark, 0);
      expect(produced).toBe(s.outcome?.measures.produced);
      expect(produced).toBeGreaterThan(0);
      // the timeline has both epochs' shapes
      const timeline = (await call("GET", `/groups/${encodeURIComponent(groupId)}/timeline`)).body;
      expect(timeline.events.some((e: { type: string }) => e.type === "session-timeout")).toBe(true);

      const reset = await call("POST", "/scenarios/consumer-groups-failover/reset");
      expect(reset.status, reset.text).toBe(200);
      expect(reset.body).toMatchObject({ state: "idle", topics: [], groups: [], outcome: null });
      expectError(await call("GET", "/topics/scenario-failover.orders"), 404, "UNKNOWN_TOPIC_OR_PARTITION");
      const sims = (await call("GET", "/simulations")).body;
      expect(sims.producers).toEqual([]);
      expect(sims.groups).toEqual([]);
      await eventually(
        "its group deleted",
        () => call("GET", `/groups/${encodeURIComponent(groupId)}`),
        (r) => r.status === 404,
      );
    },
  );

  it(
    "partitions & parallelism: 12 members read one partition each, a 13th idles; it runs again after a reset",
    { timeout: 240_000 },
    async () => {
      for (let round = 0; round < 2; round++) {
        const s = await runToOutcome(call, "partitions-parallelism", 120_000);
        expect(s.outcome?.measures).toMatchObject({ members: 13, busyMembers: 12, idleMembers: 1 });
        const g = await group(s.groups[0]);
        expect(partitionsPerMember(g)).toEqual([0, ...Array(12).fill(1)]);
        expect((await call("POST", "/scenarios/partitions-parallelism/reset")).status).toBe(200);
      }
    },
  );

  it("refuses to start over a topic of its name that it did not create, and leaves it alone", async () => {
    expect((await call("POST", "/topics", { json: { name: "scenario-parallelism.orders", partitions: 3 } })).status).toBe(201);
    expectError(
      await call("POST", "/scenarios/partitions-parallelism/start"),
      409,
      "SIMULATION_ALREADY_EXISTS",
      "scenario-parallelism.orders",
    );
    expect((await call("POST", "/scenarios/partitions-parallelism/reset")).status).toBe(200);
    const topic = await call("GET", "/topics/scenario-parallelism.orders");
    expect(topic.status).toBe(200);
    expect(topic.body.partitions).toHaveLength(3);
  });
});
