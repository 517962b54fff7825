/**
 * The exactly-once and stream-processing scenarios against a real server on PostgreSQL: each
 * reaches its outcome, checked again here from the topics themselves (read_committed), not only
 * from the scenario's report; reset removes what it created (topics, groups, the pipeline and its
 * internal topics) and leaves alone a user's own `purchases`, `fraud-alerts` and pipeline.
 */
import { describe, expect, it } from "vitest";
import { useTestServer } from "../testing/test-server.ts";
import { runToOutcome } from "../testing/scenario-runs.ts";
import { apiCaller } from "../testing/api-client.ts";
import { eventually, readCommitted } from "../testing/topic-reading.ts";
import { PIPELINE_TEMPLATES } from "../schemas/pipeline-templates.ts";

// a crashed processor's member is expired after 5 s
const server = useTestServer({ TRIBUTARY_GROUP_SESSION_TIMEOUT_MS: "5000", TRIBUTARY_GROUP_HEARTBEAT_INTERVAL_MS: "500" });
const call = apiCaller(() => server.url + "/api/v1");

interface BalanceUpdated {
  paymentId: string;
  account: string;
  amount: number;
  balance: number;
}

describe("scenarios: exactly-once and stream processing", () => {
  it(
    "exactly-once: the at-least-once processor deducts a crashed batch twice, the exactly-once one never — counted from the topics",
    { timeout: 240_000 },
    async () => {
      const s = await runToOutcome(call, "exactly-once-payments", 200_000);
      const m = s.outcome!.measures;
      expect(m.crashesAtLeastOnce).toBe(1);
      expect(m.crashesExactlyOnce).toBe(1);
      // the processors are the scenario's simulated clients: marked so on the canvas, with no simulation to act on
      const topology = (await call("GET", "/topology")).body as {
        groups: { groupId: string; simulated: boolean; simulationId: string | null; members: { simulated: boolean }[] }[];
      };
      const processorGroups = topology.groups.filter((g) => g.groupId.startsWith("scenario-eos."));
      expect(processorGroups.map((g) => [g.simulated, g.simulationId])).toEqual([
        [true, null],
        [true, null],
      ]);
      expect(processorGroups.flatMap((g) => g.members).every((x) => x.simulated)).toBe(true);

      // from the topics: every payment, and each processor's balance updates as a read_committed reader sees them
      const payments = (await readCommitted(server.url, "scenario-eos.payments", 3)).map(
        (r) => JSON.parse(r.value!) as { paymentId: string; account: string; amount: number },
      );
      expect(payments.length).toBe(m.payments);
      expect(payments.length).toBeGreaterThanOrEqual(240);
      const expected = new Map<string, number>();
      for (const p of payments) expected.set(p.account, (expected.get(p.account) ?? 10_000) - p.amount);
      const tally = async (topic: string) => {
        const events = (await readCommitted(server.url, topic, 3)).map((r) => JSON.parse(r.value!) as BalanceUpdated);
        const ids = events.map((e) => e.paymentId);
        const last = new Map(events.map((e) => [e.account, e.balance]));
        return {
          duplicates: ids.length - new Set(ids).size,
          missing: payments.filter((p) => !ids.includes(p.paymentId)).length,
          wrong: [...expected].filter(([a, b]) => last.get(a) !== b).length,
        };
      };
      const alo = await tally("scenario-eos.balances-at-least-once");
      const eos = await tally("scenario-eos.balances-exactly-once");
      expect(alo.duplicates).toBeGreaterThan(0);
      expect(alo.duplicates).toBe(m.duplicatesAtLeastOnce);
      expect(alo.wrong).toBe(m.wrongBalancesAtLeastOnce);
      expect(alo.wrong).toBeGreaterThan(0);
      expect(alo.missing).toBe(0);
      expect(eos).toEqual({ duplicates: 0, missing: 0, wrong: 0 });
      // the crashed transaction's updates were written, then aborted
      expect(m.abortedUpdatesExactlyOnce).toBeGreaterThan(0);
      // both groups committed every payment
      for (const g of s.groups) {
        const group = (await call("GET", `/groups/${encodeURIComponent(g)}`)).body as { totalLag: number };
        expect(group.totalLag).toBe(0);
      }

      const reset = await call("POST", "/scenarios/exactly-once-payments/reset");
      expect(reset.status, reset.text).toBe(200);
      expect(reset.body).toMatchObject({ state: "idle", topics: [], groups: [], outcome: null });
      for (const t of s.topics) expect((await call("GET", `/topics/${encodeURIComponent(t)}`)).status).toBe(404);
      for (const g of s.groups)
        await eventually(
          `group ${g} deleted`,
          () => call("GET", `/groups/${encodeURIComponent(g)}`),
          (r) => r.status === 404,
          60_000,
        );
      expect((await call("GET", "/simulations")).body.producers).toEqual([]);
    },
  );

  it(
    "stream processing: the fraud-alert pipeline alerts exactly the users over 10 an hour; reset and run again; a user's own purchases and pipeline untouched",
    { timeout: 300_000 },
    async () => {
      // the user's own topics and pipeline of the template's names
      expect((await call("POST", "/topics", { json: { name: "purchases", partitions: 1 } })).status).toBe(201);
      expect((await call("POST", "/topics/purchases/records", { json: { records: [{ key: "u", value: { user: "u" } }] } })).status).toBe(
        200,
      );
      const template = PIPELINE_TEMPLATES.find((t) => t.id === "fraud-alert")!.definition;
      expect((await call("POST", "/pipelines", { json: template })).status).toBe(201);

      for (let round = 0; round < 2; round++) {
        const s = await runToOutcome(call, "stream-processing-fraud", 200_000);
        const m = s.outcome!.measures;
        const pipeline = String(m.pipeline);

        // expected from the purchases as the broker holds them
        const purchases = (await readCommitted(server.url, "scenario-fraud.purchases", 3)).map(
          (r) => JSON.parse(r.value!) as { user: string; at: string },
        );
        const perUserHour = new Map<string, number>();
        for (const p of purchases) {
          const k = `${p.user}@${Math.floor(Date.parse(p.at) / 3600_000) * 3600_000}`;
          perUserHour.set(k, (perUserHour.get(k) ?? 0) + 1);
        }
        const expected = [...perUserHour]
          .filter(([, n]) => n > 10)
          .map(([k, n]) => `${k}=${n}`)
          .sort();
        expect(expected.length).toBeGreaterThan(0);
        const alerts = (await readCommitted(server.url, "scenario-fraud.alerts")).map((r) => {
          const a = JSON.parse(r.value!) as { user: string; purchases: number; windowStart: number | string };
          const start = typeof a.windowStart === "number" ? a.windowStart : Date.parse(a.windowStart);
          return `${a.user}@${start}=${a.purchases}`;
        });
        expect(alerts.sort()).toEqual(expected);
        expect(m.lateRecords).toBe(0);

        // the pipeline ran from the template, as a pipeline on the canvas
        const p = await call("GET", `/pipelines/${pipeline}`);
        expect(p.body.state).toBe("running");
        const topology = (await call("GET", "/topology")).body as { pipelines: { name: string }[] };
        expect(topology.pipelines.map((x) => x.name)).toContain(pipeline);
        expect(s.topics.some((t) => t.startsWith(`pipeline-${pipeline}-`))).toBe(true);

        const reset = await call("POST", "/scenarios/stream-processing-fraud/reset");
        expect(reset.status, reset.text).toBe(200);
        expect((await call("GET", `/pipelines/${pipeline}`)).status).toBe(404);
        for (const t of s.topics) expect((await call("GET", `/topics/${encodeURIComponent(t)}`)).status).toBe(404);
        const left = ((await call("GET", "/topics")).body as { topics: { name: string }[] }).topics.map((t) => t.name);
        expect(left.filter((t) => t.includes(pipeline))).toEqual([]);
        await eventually(
          "its pipeline's group deleted",
          () => call("GET", `/groups/pipeline-${pipeline}`),
          (r) => r.status === 404,
          60_000,
        );
      }
      // the user's own are as they were
      const own = await call("GET", "/topics/purchases");
      expect(own.status).toBe(200);
      expect(own.body.partitions[0].highWatermark).toBe(1);
      expect((await call("GET", "/pipelines/fraud-alert")).status).toBe(200);
    },
  );
});
