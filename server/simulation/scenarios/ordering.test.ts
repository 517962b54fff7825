/**
 * The Ordering scenario's measure of disorder, and why it is structural: 4 events round-robin
 * over 3 partitions, each partition's records delivered as one batch, come out of order whatever
 * order the consumer takes the partitions in.
 */
import { describe, expect, it } from "vitest";
import { overtaking } from "./ordering.ts";

const rec = (seq: number, partition: number, offset: number) => ({ seq, partition, offset });

describe("overtaking", () => {
  it("names the events received before an event produced earlier", () => {
    expect(overtaking([rec(0, 0, 0), rec(1, 0, 1), rec(2, 0, 2), rec(3, 0, 3)])).toEqual([]);
    // Paid and Shipped overtook Created; Delivered came last
    expect(overtaking([rec(1, 1, 0), rec(2, 2, 0), rec(0, 0, 0), rec(3, 0, 1)]).map((r) => r.seq)).toEqual([1, 2]);
  });

  it("4 events round-robin over 3 partitions are out of order in every partition order", () => {
    const byPartition = [[rec(0, 0, 0), rec(3, 0, 1)], [rec(1, 1, 0)], [rec(2, 2, 0)]];
    const orders = [
      [0, 1, 2],
      [0, 2, 1],
      [1, 0, 2],
      [1, 2, 0],
      [2, 0, 1],
      [2, 1, 0],
    ];
    for (const order of orders) expect(overtaking(order.flatMap((p) => byPartition[p])).length, order.join()).toBeGreaterThan(0);
  });
});
