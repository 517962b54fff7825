import { describe, expect, it } from "vitest";
import { ZPipelineDefinition, type TPipelineDefinitionInput } from "../../schemas/pipeline.ts";
import { toJsonData, type StreamRecord } from "../record.ts";
import { Topology } from "../topology.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;
const edge = (from: string, to: string, fromPort = "out", toPort = "in") => ({
  from: { node: from, port: fromPort },
  to: { node: to, port: toPort },
});

function build(def: TPipelineDefinitionInput): Topology {
  const { topology, problems } = Topology.build(ZPipelineDefinition.parse(def));
  expect(problems).toEqual([]);
  return topology!;
}

let offset = 0;
function rec(key: unknown, value: unknown, timestamp = 0, partition = 0): StreamRecord {
  return { key, value, headers: {}, timestamp, origin: { topic: "in", partition, offset: offset++ } };
}

/** One aggregate between a source and a sink (plus a sink on the late port when asked). */
function aggregate(config: Record<string, unknown>, source: Record<string, unknown> = {}, latePort = false): Topology {
  return build({
    name: "agg",
    nodes: [
      { id: "in", config: { kind: "source", topics: ["in"], idleTimeoutMs: 10_000, ...source } },
      { id: "agg", config: { kind: "aggregate", ...config } as never },
      { id: "out", config: { kind: "sink", topic: "out" } },
      ...(latePort ? [{ id: "late", config: { kind: "sink" as const, topic: "late" } }] : []),
    ],
    edges: [edge("in", "agg"), edge("agg", "out"), ...(latePort ? [edge("agg", "late", "late")] : [])],
  });
}

const results = (t: Topology) => t.drain().outputs.map((o) => ({ topic: o.topic, key: o.record.key, value: toJsonData(o.record.value) }));

describe("the seed's fraud alert: purchases per user per hour, an alert past 10", () => {
  const at = (h: number, m: number) => new Date(Date.UTC(2026, 0, 1, h, m)).toISOString();
  const pipeline: TPipelineDefinitionInput = {
    name: "fraud-alert",
    nodes: [
      {
        id: "purchases",
        config: {
          kind: "source",
          topics: ["purchases"],
          eventTime: "timestamp(value.at)",
          outOfOrdernessMs: 5 * MIN,
          idleTimeoutMs: 10_000,
        },
      },
      { id: "byUser", config: { kind: "selectKey", key: "value.user" } },
      {
        id: "perHour",
        config: {
          kind: "aggregate",
          window: { type: "tumbling", sizeMs: HOUR, graceMs: MIN },
          aggregations: [{ fn: "count", as: "purchases" }],
          emit: "final",
        },
      },
      { id: "overTen", config: { kind: "filter", condition: "value.purchases > 10" } },
      { id: "alerts", config: { kind: "sink", topic: "fraud-alerts" } },
    ],
    edges: [edge("purchases", "byUser"), edge("byUser", "perHour"), edge("perHour", "overTen"), edge("overTen", "alerts")],
  };

  it("alerts exactly the users over 10 in an hour, despite disorder and late events; the last hour's alert comes without new input", () => {
    const t = build(pipeline);
    const now = Date.UTC(2026, 5, 1); // the wall clock: months after the events (replayed history)
    const feed: [string, number, number][] = [];
    // hour 10: ann buys 12 times, bob 10 times, interleaved and out of order (within the 5 minutes allowed)
    for (let i = 0; i < 12; i++) feed.push(["ann", 10, 50 - i * 4]);
    for (let i = 0; i < 10; i++) feed.push(["bob", 10, 5 + i * 5]);
    feed.sort((a, b) => a[2] - b[2] + (a[0] === "ann" ? 3 : -3));
    // hour 11: cat buys 11 times; the watermark passes 11:01 (10:00's end + grace), closing hour 10
    for (let i = 0; i < 11; i++) feed.push(["cat", 11, 10 + i * 3]);
    // a purchase of ann's in hour 10 arriving after that hour closed: late, not counted
    feed.push(["ann", 10, 59]);
    feed.forEach(([user, h, m], i) => t.process("purchases", rec(null, { user, at: at(h, m) }), now + i));

    const before = results(t);
    expect(before).toEqual([
      {
        topic: "fraud-alerts",
        key: "ann",
        value: { window: { start: Date.UTC(2026, 0, 1, 10), end: Date.UTC(2026, 0, 1, 11) }, purchases: 12 },
      },
    ]);
    // no new input: within the idle timeout nothing closes; past it, event time moves with the wall clock
    expect(t.advance(now + 5_000) < Date.UTC(2026, 0, 1, 12, 1)).toBe(true);
    expect(results(t)).toEqual([]);
    t.advance(now + 11_000);
    expect(results(t)).toEqual([
      {
        topic: "fraud-alerts",
        key: "cat",
        value: { window: { start: Date.UTC(2026, 0, 1, 11), end: Date.UTC(2026, 0, 1, 12) }, purchases: 11 },
      },
    ]);
  });
});

describe("aggregate", () => {
  it("tumbling, emit on every update: the running count per key and window", () => {
    const t = aggregate({ window: { type: "tumbling", sizeMs: 1000 }, aggregations: [{ fn: "count", as: "n" }] });
    t.process("in", rec("a", 1, 100), 0);
    t.process("in", rec("a", 1, 200), 0);
    t.process("in", rec("b", 1, 300), 0);
    t.process("in", rec("a", 1, 1100), 0);
    expect(results(t).map((r) => [r.key, (r.value as { window: { start: number } }).window.start, (r.value as { n: number }).n])).toEqual([
      ["a", 0, 1],
      ["a", 0, 2],
      ["b", 0, 1],
      ["a", 1000, 1],
    ]);
  });

  it("hopping: a record counts in every window it falls in", () => {
    const t = aggregate({
      window: { type: "hopping", sizeMs: 1000, advanceMs: 500 },
      aggregations: [{ fn: "count", as: "n" }],
      emit: "final",
    });
    for (const ts of [100, 600, 900, 1200]) t.process("in", rec("k", 1, ts), 0);
    t.process("in", rec("other", 1, 10_000), 0); // moves the watermark past everything above
    const windows = results(t).map((r) => r.value as { window: { start: number }; n: number });
    expect(windows.map((w) => [w.window.start, w.n])).toEqual([
      [-500, 1],
      [0, 3],
      [500, 3],
      [1000, 1],
    ]);
  });

  it("sum, min, max, avg, distinct count and a custom reducer over the same records", () => {
    const t = aggregate({
      aggregations: [
        { fn: "sum", of: "value.amount", as: "sum" },
        { fn: "min", of: "value.amount", as: "min" },
        { fn: "max", of: "value.amount", as: "max" },
        { fn: "avg", of: "value.amount", as: "avg" },
        { fn: "distinctCount", of: "value.shop", as: "shops" },
        { fn: "reduce", init: "[]", add: "acc + [value.shop]", as: "visits" },
      ],
    });
    for (const [amount, shop] of [
      [10, "x"],
      [30, "y"],
      [20, "x"],
    ] as const)
      t.process("in", rec("u", { amount, shop }), 0);
    expect(results(t).at(-1)!.value).toEqual({ sum: 60, min: 10, max: 30, avg: 20, shops: 2, visits: ["x", "y", "x"] });
  });

  it("late records go to the late port and are counted, not into a closed window", () => {
    const t = aggregate(
      { window: { type: "tumbling", sizeMs: 1000, graceMs: 100 }, aggregations: [{ fn: "count", as: "n" }], emit: "final" },
      {},
      true,
    );
    t.process("in", rec("k", 1, 500), 0);
    t.process("in", rec("k", 1, 1100), 0); // watermark 1100: window [0,1000) closes
    t.process("in", rec("k", "late", 999), 0);
    const out = results(t);
    expect(out.filter((r) => r.topic === "out").map((r) => (r.value as { n: number }).n)).toEqual([1]);
    expect(out.filter((r) => r.topic === "late").map((r) => r.value)).toEqual(["late"]);
  });

  it("sessions: records within the gap form one session; a record bridging two merges them", () => {
    const t = aggregate(
      { window: { type: "session", gapMs: 100 }, aggregations: [{ fn: "count", as: "n" }], emit: "final" },
      { outOfOrdernessMs: 1000 },
    );
    for (const ts of [0, 50, 200, 250, 150]) t.process("in", rec("k", 1, ts), 0);
    t.process("in", rec("k", 1, 900), 0);
    expect(results(t)).toEqual([]); // the watermark (900 - 1000) has closed nothing
    t.process("in", rec("zzz", 1, 5000), 0);
    const sessions = results(t).map((r) => r.value as { window: { start: number; end: number }; n: number });
    expect(sessions.map((s) => [s.window.start, s.window.end, s.n])).toEqual([
      [0, 250, 5],
      [900, 900, 1],
    ]);
  });

  it("refuses a custom reducer over sessions (it cannot merge) and sliding windows for now, naming the field", () => {
    const def = (config: Record<string, unknown>) =>
      ZPipelineDefinition.parse({
        name: "x",
        nodes: [
          { id: "in", config: { kind: "source", topics: ["in"] } },
          { id: "agg", config: { kind: "aggregate", ...config } },
          { id: "out", config: { kind: "sink", topic: "out" } },
        ],
        edges: [edge("in", "agg"), edge("agg", "out")],
      });
    expect(
      Topology.build(def({ window: { type: "session", gapMs: 10 }, aggregations: [{ fn: "reduce", init: "0", add: "acc", as: "r" }] }))
        .problems,
    ).toEqual([
      {
        node: "agg",
        field: "config.aggregations.0.fn",
        message: "a custom reducer cannot merge sessions; use count, sum, min, max, avg or distinctCount",
      },
    ]);
    expect(
      Topology.build(def({ window: { type: "sliding", timeDifferenceMs: 10 }, aggregations: [{ fn: "count", as: "n" }] })).problems,
    ).toEqual([{ node: "agg", field: "config.window.type", message: "sliding windows cannot run yet" }]);
  });

  it("a record whose aggregated field is not a number is dead-lettered and changes no total", () => {
    const t = aggregate({ aggregations: [{ fn: "sum", of: "value.amount", as: "sum" }] });
    t.process("in", rec("u", { amount: 5 }), 0);
    t.process("in", rec("u", { amount: "five" }), 0);
    t.process("in", rec("u", { amount: 7 }), 0);
    const { outputs, deadLetters } = t.drain();
    expect(outputs.map((o) => toJsonData(o.record.value))).toEqual([{ sum: 5 }, { sum: 12 }]);
    expect(deadLetters.map((d) => [d.node, d.error])).toEqual([["agg", "aggregations.0.of: returned string, not a number"]]);
  });
});
