import { describe, expect, it } from "vitest";
import { buildGraph } from "./graph";
import { hubsOf, layoutTopology } from "./layout";
import type { GroupView, ProducerView, TopicView, TopologyView } from "./model";

const topic = (name: string): TopicView => ({
  name,
  rate: 12,
  internal: false,
  simulated: false,
  partitions: Array.from({ length: 12 }, (_, p) => ({ partition: p, logStartOffset: 0, highWatermark: 100, rate: 1 })),
});

const group = (id: string, topics: string[]): GroupView => ({
  id,
  state: "Stable",
  epoch: 2,
  simulated: false,
  simulationId: null,
  members: [0, 1].map((m) => ({
    memberId: `${id}-m${m}`,
    clientId: `${id}-c${m}`,
    simulated: false,
    state: "Stable",
    owned: [{ topic: topics[m], partitions: [0, 1, 2] }],
    revoking: [],
    sim: null,
    inGroup: true,
  })),
  topics: topics.map((t) => ({ topic: t, rate: 1, lag: 2, partitionLag: {} })),
  totalLag: 4,
});

const everywhere: ProducerView = {
  id: "loader",
  label: "loader",
  producerId: null,
  transactionalId: null,
  idempotent: false,
  simulated: false,
  simulationId: null,
  state: null,
  rate: 240,
  topics: [],
};

/** 20 topics × 12 partitions, 10 groups of 2 topics each, one producer writing to all of them. */
function busy(): TopologyView {
  const names = Array.from({ length: 20 }, (_, i) => `t${String(i).padStart(2, "0")}`);
  return {
    at: 1,
    topics: names.map(topic),
    groups: Array.from({ length: 10 }, (_, g) => group(`g${g}`, names.slice(2 * g, 2 * g + 2))),
    producers: [{ ...everywhere, topics: names.map((t) => ({ topic: t, rate: 12 })) }],
    pipelines: [],
  };
}

describe("topology layout", () => {
  it("takes a producer writing to many topics out of the layout", () => {
    const g = buildGraph(busy(), new Set());
    expect([...hubsOf(g.nodes, g.edges)]).toEqual(["producer:loader"]);
  });

  it("lays 20 topics and 10 groups out as a grid near the canvas's shape, not one tall column, nothing overlapping", async () => {
    const g = buildGraph(busy(), new Set());
    const at = await layoutTopology(g.nodes, g.edges, 1.4);
    const boxes = g.nodes.map((n) => ({ id: n.id, ...at.get(n.id)!, w: n.width, h: n.height }));
    const width = Math.max(...boxes.map((b) => b.x + b.w)) - Math.min(...boxes.map((b) => b.x));
    const height = Math.max(...boxes.map((b) => b.y + b.h)) - Math.min(...boxes.map((b) => b.y));
    // one column of 20 topics would be ~2,300 px tall for ~700 px wide
    expect(height / width).toBeLessThan(1.5);
    for (const a of boxes)
      for (const b of boxes)
        if (a.id < b.id)
          expect(a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y, `${a.id} / ${b.id}`).toBe(true);
    // the hub stands left of everything else
    const hub = at.get("producer:loader")!;
    expect(boxes.filter((b) => b.id !== "producer:loader").every((b) => b.x > hub.x)).toBe(true);
  }, 60_000);
});
