/**
 * Retention & replay against a real server: a group reset to earliest and to a time replays the
 * history into a new consumer (as many records as the log holds from there), then a short
 * retention.ms deletes the old batches — the log start offsets the broker reports moved; reset
 * deletes what the scenario made, and it runs again.
 */
import { describe, expect, it } from "vitest";
import { useTestServer } from "../testing/test-server.ts";
import { runToOutcome } from "../testing/scenario-runs.ts";
import { apiCaller } from "../testing/api-client.ts";
import { expectError } from "../testing/api-assertions.ts";
import { eventually } from "../testing/topic-reading.ts";
import type { TTopic } from "../schemas/topic.ts";

// the cleaner every 5 s (30 s by default) so the retention step takes seconds
const server = useTestServer({ TRIBUTARY_CLEANER_INTERVAL_MS: "5000" });
const call = apiCaller(() => server.url + "/api/v1");
const TOPIC = "scenario-retention.events";

describe("retention & replay scenario", () => {
  it(
    "replays the history from earliest and from a time, then a short retention moves the log start offsets; reset, run again",
    { timeout: 360_000 },
    async () => {
      for (let round = 0; round < 2; round++) {
        const s = await runToOutcome(call, "retention-replay", 150_000);
        const m = s.outcome!.measures as Record<string, number & number[]>;
        expect(m.history).toBeGreaterThan(300);
        expect(m.replayedFromEarliest).toBe(m.history);
        expect(m.replayedFromTime).toBe(m.writtenSinceTime);
        expect(m.writtenSinceTime).toBeGreaterThan(0);
        expect(m.writtenSinceTime).toBeLessThan(m.history);
        expect(m.logStartBefore).toEqual([0, 0, 0]);

        // from the broker itself: the short retention is set and every partition starts past 0,
        // where the earliest offset now is; the group replayed into is there
        const topic = (await call("GET", `/topics/${TOPIC}`)).body as TTopic;
        expect(topic.configs["retention.ms"]).toBe(5000);
        const starts = topic.partitions.sort((a, b) => a.partition - b.partition).map((p) => p.logStartOffset);
        starts.forEach((o, i) => expect(o).toBeGreaterThanOrEqual(m.logStartAfter[i]));
        m.logStartAfter.forEach((o) => expect(o).toBeGreaterThan(0));
        const earliest = (await call("GET", `/topics/${TOPIC}/offsets?at=earliest`)).body;
        expect(earliest.partitions.map((p: { offset: number }) => p.offset)).toEqual(starts);
        expect(m.recordsDeleted).toBe(m.logStartAfter.reduce((a, b) => a + b, 0));
        const [groupId] = s.groups;
        expect((await call("GET", `/groups/${encodeURIComponent(groupId)}`)).status).toBe(200);

        const reset = await call("POST", "/scenarios/retention-replay/reset");
        expect(reset.status, reset.text).toBe(200);
        expect(reset.body).toMatchObject({ state: "idle", topics: [], groups: [], outcome: null });
        expect((await call("GET", `/topics/${TOPIC}`)).status).toBe(404);
        const sims = (await call("GET", "/simulations")).body;
        expect(sims.producers).toEqual([]);
        expect(sims.groups).toEqual([]);
        await eventually(
          "its group deleted",
          () => call("GET", `/groups/${encodeURIComponent(groupId)}`),
          (r) => r.status === 404,
        );
      }
    },
  );

  it("leaves a topic it did not create alone: the start is refused, the topic and its records stay", async () => {
    expect((await call("POST", "/topics", { json: { name: TOPIC, partitions: 2 } })).status).toBe(201);
    expect((await call("POST", `/topics/${TOPIC}/records`, { json: { records: [{ value: "mine" }] } })).status).toBeLessThan(300);
    expectError(await call("POST", "/scenarios/retention-replay/start"), 409, "SIMULATION_ALREADY_EXISTS", TOPIC);
    expect((await call("POST", "/scenarios/retention-replay/reset")).status).toBe(200);
    const topic = (await call("GET", `/topics/${TOPIC}`)).body as TTopic;
    expect(topic.partitions).toHaveLength(2);
    expect(topic.recordCount).toBe(1);
    expect(topic.configs["retention.ms"]).toBe(604_800_000);
  });
});
