/**
 * Ordering against a real server: order_123's four events keyed by the order id land on one
 * partition and the consumer received them in order; without a key they are spread round-robin
 * and the consumer received some out of order — checked against the records the broker holds
 * (partition, offset, event) read through the API. Reset deletes what it made; it runs again.
 */
import { describe, expect, it } from "vitest";
import { useTestServer } from "../testing/test-server.ts";
import { runToOutcome } from "../testing/scenario-runs.ts";
import { apiCaller } from "../testing/api-client.ts";
import { eventually } from "../testing/topic-reading.ts";
import type { TFetchResponse } from "../schemas/record.ts";

const server = useTestServer();
const call = apiCaller(() => server.url + "/api/v1");
const EVENTS = ["Created", "Paid", "Shipped", "Delivered"];

/** Every record of the topic as the broker holds it: event by partition@offset. */
async function held(topic: string): Promise<Map<string, { event: string; key: string | null }>> {
  const out = new Map<string, { event: string; key: string | null }>();
  for (let p = 0; p < 3; p++) {
    const res = await call("GET", `/topics/${topic}/partitions/${p}/records?offset=0`);
    expect(res.status, res.text).toBe(200);
    for (const r of (res.body as TFetchResponse).records)
      out.set(`${r.partition}@${r.offset}`, { event: JSON.parse(r.value!).event, key: r.key });
  }
  return out;
}

describe("ordering scenario", () => {
  it(
    "keyed events arrive in order, unkeyed ones out of order where the broker put them; reset, run again",
    { timeout: 240_000 },
    async () => {
      for (let round = 0; round < 2; round++) {
        const s = await runToOutcome(call, "ordering", 90_000);
        const m = s.outcome!.measures as Record<string, number & number[]>;
        // keyed: one partition, offsets in produced order, received 1st, 2nd, 3rd, 4th
        expect(new Set(m.keyedPartition).size).toBe(1);
        expect(m.keyedOffset).toEqual([0, 1, 2, 3]);
        expect(m.keyedArrival).toEqual([1, 2, 3, 4]);
        expect(m.outOfOrderWithKey).toBe(0);
        // no key: round-robin over the 3 partitions, and some received before an earlier event
        expect(m.unkeyedPartition).toEqual([0, 1, 2, 0]);
        expect(m.unkeyedOffset).toEqual([0, 0, 0, 1]);
        expect([...m.unkeyedArrival].sort()).toEqual([1, 2, 3, 4]);
        expect(m.unkeyedArrival).not.toEqual([1, 2, 3, 4]);
        expect(m.outOfOrderWithoutKey).toBeGreaterThan(0);
        expect(m.unkeyedOvertook.reduce((a, b) => a + b, 0)).toBe(m.outOfOrderWithoutKey);
        // an event marked out of order was received before an event produced earlier
        m.unkeyedOvertook.forEach((late, i) => {
          const overtook = m.unkeyedArrival.some((a, j) => j < i && a > m.unkeyedArrival[i]);
          expect(late === 1, `event ${EVENTS[i]}`).toBe(overtook);
        });

        // what the broker holds matches where the consumer said it read each event
        const keyed = await held("scenario-ordering.by-key");
        const unkeyed = await held("scenario-ordering.no-key");
        expect(keyed.size).toBe(4);
        expect(unkeyed.size).toBe(4);
        EVENTS.forEach((event, i) => {
          expect(keyed.get(`${m.keyedPartition[i]}@${m.keyedOffset[i]}`)).toEqual({ event, key: "order_123" });
          expect(unkeyed.get(`${m.unkeyedPartition[i]}@${m.unkeyedOffset[i]}`)).toEqual({ event, key: null });
        });
        // the consumer's group committed everything it read
        const [groupId] = s.groups;
        const group = (await call("GET", `/groups/${encodeURIComponent(groupId)}`)).body;
        expect(group.totalLag).toBe(0);
        expect(group.members).toEqual([]);

        const reset = await call("POST", "/scenarios/ordering/reset");
        expect(reset.status, reset.text).toBe(200);
        expect(reset.body).toMatchObject({ state: "idle", topics: [], groups: [], outcome: null });
        for (const t of s.topics) expect((await call("GET", `/topics/${t}`)).status).toBe(404);
        await eventually(
          "its group deleted",
          () => call("GET", `/groups/${encodeURIComponent(groupId)}`),
          (r) => r.status === 404,
        );
      }
    },
  );
});
