import { describe, expect, it } from "vitest";
import { ZPipelineDefinition, type TPipelineDefinitionInput } from "../../schemas/pipeline.ts";
import { toJsonData, type StreamRecord } from "../record.ts";
import { decodeState, encodeState } from "../state/state-codec.ts";
import { Topology } from "../topology.ts";
import { MAX_CACHED_UPDATES } from "./aggregate.ts";

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

/** What a commit writes to a task's changelog: its stores' changed keys as `node/store/key`, added to `into`. */
function takeChanges(t: Topology, into = new Map<string, Buffer | null>()): Map<string, Buffer | null> {
  for (const [name, store] of t.stores()) for (const [k, v] of store.takeEncodedChanges()) into.set(`${name}/${k}`, v);
  return into;
}

/** `t` reopened from `changelog` (`node/store/key` → value), its restore ended at `watermark`. */
function restoredFrom(t: Topology, changelog: Iterable<readonly [string, Buffer | null]>, watermark = Number.NEGATIVE_INFINITY): Topology {
  const stores = t.stores();
  for (const [key, v] of changelog) {
    const at = key.indexOf("/", key.indexOf("/") + 1);
    stores.get(key.slice(0, at))!.restoreEncoded(key.slice(at + 1), v);
  }
  t.restored(watermark);
  return t;
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

  it("refuses a custom reducer over sessions (it cannot merge), naming the field", () => {
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

describe("aggregate in sliding windows (Kafka Streams' SlidingWindows)", () => {
  type Out = { topic: string; key: unknown; window: [number, number]; n: number };
  const windowed = (t: Topology): Out[] =>
    results(t).map((r) => {
      const v = r.value as { window: { start: number; end: number }; n: number };
      return { topic: r.topic, key: r.key, window: [v.window.start, v.window.end], n: v.n };
    });
  const sliding = (d: number, grace: number, emit: "update" | "final", aggregations: unknown[] = [{ fn: "count", as: "n" }]) => ({
    window: { type: "sliding", timeDifferenceMs: d, graceMs: grace },
    aggregations,
    emit,
  });

  it("every update: each record's left window [t - d, t] (both ends inclusive), and right windows once a later record falls in them", () => {
    const t = aggregate(sliding(10, 0, "update"));
    for (const ts of [100, 110, 111]) t.process("in", rec("k", 1, ts), 0);
    expect(windowed(t).map((o) => [o.window, o.n])).toEqual([
      [[90, 100], 1],
      // 110 is d after 100: both lie in [100, 110]; 100's right window [101, 111] holds 110
      [[100, 110], 2],
      [[101, 111], 1],
      // 111 lies in [101, 111] (its own left window, the same window); 110's right window opens with it
      [[101, 111], 2],
      [[111, 121], 1],
    ]);
  });

  it("final only: one result per window when the watermark passes end + grace, not before; then late records go to the late port", () => {
    const t = aggregate(sliding(10, 5, "final"), {}, true);
    t.process("in", rec("k", 1, 100), 0);
    t.process("in", rec("k", 1, 105), 0); // watermark 105: [90, 100] closes at 100 + 1 + 5 = 106, not yet
    expect(results(t)).toEqual([]);
    t.process("in", rec("k", 1, 108), 0);
    expect(windowed(t).map((o) => [o.window, o.n])).toEqual([[[90, 100], 1]]);
    // out of order, within grace: updates [95, 105], [98, 108] and [101, 111]; its left window [94, 104]
    // starts from a copy of the closed [90, 100] (the same records), its right window [105, 115] from [101, 111]
    t.process("in", rec("k", 1, 104), 0);
    expect(results(t)).toEqual([]);
    t.process("in", rec("other", 1, 116), 0); // watermark 116: closes what ends by 110
    expect(windowed(t).map((o) => [o.window, o.n])).toEqual([
      [[94, 104], 2],
      [[95, 105], 3],
      [[98, 108], 4],
    ]);
    t.process("in", rec("other", 1, 200), 0);
    expect(windowed(t).map((o) => [o.key, o.window, o.n])).toEqual([
      ["k", [101, 111], 3],
      ["k", [105, 115], 2],
      ["k", [106, 116], 1],
      ["other", [106, 116], 1],
    ]);
    t.process("in", rec("k", "late", 184), 0); // [184, 194] closed at 200: every window that could hold it
    t.process("in", rec("k", 1, 185), 0); // [185, 195] closes at 201: still on time
    const out = results(t);
    expect(out.filter((r) => r.topic === "late").map((r) => r.value)).toEqual(["late"]);
    expect(out.filter((r) => r.topic === "out")).toEqual([]);
  });

  it("a record whose own window already closed is not late while a later window can hold it, and counts there", () => {
    const t = aggregate(sliding(10, 0, "final"), {}, true);
    t.process("in", rec("k", 1, 100), 0);
    t.process("in", rec("other", 1, 130), 0); // watermark 130
    t.process("in", rec("k", 1, 125), 0); // its left window [115, 125] closed at 126; [125, 135] could still hold it
    t.process("in", rec("k", 1, 133), 0);
    t.process("in", rec("other", 1, 1000), 0);
    expect(
      windowed(t)
        .filter((o) => o.key === "k")
        .map((o) => [o.window, o.n]),
    ).toEqual([
      [[90, 100], 1],
      [[123, 133], 2],
      [[126, 136], 1],
    ]);
    expect(results(t)).toEqual([]);
  });

  it("over records in any order within the grace, emits exactly the windows and aggregates of the records in them", () => {
    const d = 20;
    for (let round = 0; round < 20; round++) {
      const records = Array.from({ length: 25 }, (_, id) => ({ id, ts: 1000 + Math.floor(Math.random() * 120), shop: id % 4 }));
      const t = aggregate(
        sliding(d, 10_000, "final", [
          { fn: "count", as: "n" },
          { fn: "distinctCount", of: "value.shop", as: "shops" },
          { fn: "reduce", init: "[]", add: "acc + [value.id]", as: "ids" },
        ]),
      );
      for (const r of records) t.process("in", rec("k", { id: r.id, shop: r.shop }, r.ts), 0);
      t.process("in", rec("zzz", {}, 1_000_000), 0);
      const got = results(t)
        .filter((r) => r.key === "k")
        .map((r) => r.value as { window: { start: number; end: number }; n: number; shops: number; ids: number[] })
        .map((v) => ({ start: v.window.start, end: v.window.end, n: v.n, shops: v.shops, ids: [...v.ids].sort((a, b) => a - b) }))
        .sort((a, b) => a.start - b.start);
      const starts = new Set<number>();
      for (const r of records) {
        starts.add(r.ts - d);
        if (records.some((x) => x.ts > r.ts && x.ts <= r.ts + 1 + d)) starts.add(r.ts + 1);
      }
      const want = [...starts]
        .sort((a, b) => a - b)
        .map((start) => {
          const inside = records.filter((r) => r.ts >= start && r.ts <= start + d);
          return {
            start,
            end: start + d,
            n: inside.length,
            shops: new Set(inside.map((r) => r.shop)).size,
            ids: inside.map((r) => r.id).sort((a, b) => a - b),
          };
        });
      expect(got).toEqual(want);
    }
  });

  it("as the watermark closes windows while disordered records arrive, each window's result holds the records that came before it closed", () => {
    const d = 20;
    const grace = 5;
    for (let round = 0; round < 30; round++) {
      const outOfOrderness = Math.floor(Math.random() * 40);
      const t = aggregate(sliding(d, grace, "final", [{ fn: "reduce", init: "[]", add: "acc + [value]", as: "ids" }]), {
        outOfOrdernessMs: outOfOrderness,
      });
      // the model: which records each window of Kafka Streams' set holds when it closes
      const accepted: { id: number; ts: number; watermark: number }[] = [];
      const opened = new Set<number>(); // windows that existed while open (emitted once they close)
      let watermark = Number.NEGATIVE_INFINITY;
      let maxSeen = Number.NEGATIVE_INFINITY;
      const windowsOver = (rs: { ts: number }[]) => {
        const out = new Set<number>();
        for (const r of rs) {
          out.add(r.ts - d);
          if (rs.some((x) => x.ts > r.ts && x.ts <= r.ts + 1 + d)) out.add(r.ts + 1);
        }
        return out;
      };
      for (let id = 0; id < 40; id++) {
        const ts = 1000 + id * 4 + Math.floor(Math.random() * 60) - 30;
        t.process("in", rec("k", id, ts), 0);
        if (watermark < ts + d + 1 + grace) {
          const before = windowsOver(accepted);
          accepted.push({ id, ts, watermark });
          for (const start of windowsOver(accepted)) if (!before.has(start) && watermark < start + d + 1 + grace) opened.add(start);
        }
        maxSeen = Math.max(maxSeen, ts);
        watermark = Math.max(watermark, maxSeen - outOfOrderness);
      }
      t.process("in", rec("zzz", -1, 1_000_000), 0);
      const got = results(t)
        .filter((r) => r.key === "k" && r.topic === "out")
        .map((r) => r.value as { window: { start: number }; ids: number[] })
        .map((v) => ({ start: v.window.start, ids: [...v.ids].sort((a, b) => a - b) }))
        .sort((a, b) => a.start - b.start);
      const want = [...opened]
        .sort((a, b) => a - b)
        .map((start) => ({
          start,
          ids: accepted
            .filter((r) => r.ts >= start && r.ts <= start + d && r.watermark < start + d + 1 + grace)
            .map((r) => r.id)
            .sort((a, b) => a - b),
        }));
      expect(got, `out-of-orderness ${outOfOrderness}`).toEqual(want);
    }
  });

  it("a record falling in more than 1000 windows of its key is dead-lettered, the windows unchanged", () => {
    const t = aggregate(sliding(10_000, 0, "final"));
    // the record at 999 updates the right windows of the 999 before it and creates its own left window: 1000
    for (let ts = 0; ts < 1000; ts++) t.process("in", rec("k", 1, ts), 0);
    expect(t.drain().deadLetters).toEqual([]);
    const held = t.stores().get("agg/windows")!.size;
    t.process("in", rec("k", 1, 1000), 0);
    expect(t.drain().deadLetters.map((d) => d.error)).toEqual([
      "window.timeDifferenceMs: the record falls in more than 1000 sliding windows of its key",
    ]);
    expect(t.stores().get("agg/windows")!.size).toBe(held);
  });

  it("restores from its changelog: a task reopened mid-stream emits what an uninterrupted one does, closed windows not again", () => {
    const def: TPipelineDefinitionInput = {
      name: "slide",
      nodes: [
        { id: "in", config: { kind: "source", topics: ["in"], idleTimeoutMs: 10_000, outOfOrdernessMs: 15 } },
        { id: "agg", config: { kind: "aggregate", ...sliding(10, 3, "final", [{ fn: "distinctCount", of: "value", as: "n" }]) } as never },
        { id: "out", config: { kind: "sink", topic: "out" } },
      ],
      edges: [edge("in", "agg"), edge("agg", "out")],
    };
    const feed = [100, 104, 96, 111, 130, 118, 125, 140, 133, 160, 151, 149, 170, 300].map((ts, i) =>
      rec(ts === 300 ? "end" : "k", i % 3, ts),
    );
    const straight = build(def);
    for (const r of feed) straight.process("in", r, 0);
    const expected = windowed(straight);
    expect(expected.length).toBeGreaterThan(8);

    // the same input, with the task's state committed after every record and the task reopened from it twice
    const changelog = new Map<string, Buffer | null>();
    const got: Out[] = [];
    let t = build(def);
    feed.forEach((r, i) => {
      t.process("in", r, 0);
      got.push(...windowed(t));
      takeChanges(t, changelog);
      if (i === 5 || i === 10) t = restoredFrom(build(def), changelog, t.watermark);
    });
    expect(got).toEqual(expected);
    // closed windows are kept as sources for a while, then dropped with tombstones
    expect([...changelog.values()].filter((v) => v === null).length).toBeGreaterThan(0);
  });
});

describe("an aggregate's changelog", () => {
  const def: TPipelineDefinitionInput = {
    name: "counts",
    nodes: [
      { id: "in", config: { kind: "source", topics: ["in"], idleTimeoutMs: 10_000 } },
      { id: "agg", config: { kind: "aggregate", window: { type: "tumbling", sizeMs: MIN }, aggregations: [{ fn: "count", as: "n" }] } },
      { id: "out", config: { kind: "sink", topic: "out" } },
    ],
    edges: [edge("in", "agg"), edge("agg", "out")],
  };

  it("holds each entry by position (not field names), and a task restored from records of either form counts on", () => {
    const t = build(def);
    for (let i = 0; i < 3; i++) t.process("in", rec("ann", i, 1000 + i), 0);
    t.process("in", rec("bob", 9, 2000), 0);
    t.drain();
    const changes = takeChanges(t);
    const [annKey, ann] = [...changes].find(([k]) => k.includes("ann"))!;
    const stored = decodeState(ann!) as unknown[];
    // emit mode update: no origin (every result goes out before the commit, from the entry put)
    expect(stored).toEqual(["ann", { start: 0, end: MIN }, [3], 1002, null, null, null]);
    // what changelogs written before this form hold: the entry as an object
    const asObject = encodeState({
      key: "ann",
      window: { start: 0, end: MIN },
      accs: [3],
      timestamp: 1002,
      origin: { topic: "in", partition: 0, offset: 2 },
    });
    expect(ann!.length).toBeLessThan(asObject.length * 0.7);
    for (const form of [ann!, asObject]) {
      const reopened = restoredFrom(
        build(def),
        [...changes].map(([key, v]) => [key, key === annKey ? form : v] as const),
      );
      reopened.process("in", rec("ann", 7, 1500), 0);
      expect(results(reopened)).toEqual([{ topic: "out", key: "ann", value: { window: { start: 0, end: MIN }, n: 4 } }]);
    }
  });
});

describe("the record cache (running pipelines): a key's updates collapse between commits", () => {
  function cached(config: Record<string, unknown>): Topology {
    const { topology, problems } = Topology.build(
      ZPipelineDefinition.parse({
        name: "cached",
        nodes: [
          { id: "in", config: { kind: "source", topics: ["in"], idleTimeoutMs: 10_000 } },
          { id: "agg", config: { kind: "aggregate", ...config } as never },
          { id: "big", config: { kind: "filter", condition: "value.n >= 2" } },
          { id: "out", config: { kind: "sink", topic: "out" } },
        ],
        edges: [edge("in", "agg"), edge("agg", "big"), edge("big", "out")],
      }),
      [],
      { recordCache: true },
    );
    expect(problems).toEqual([]);
    return topology!;
  }
  const count = { aggregations: [{ fn: "count", as: "n" }] };

  it("emits each key's latest total once per commit, downstream nodes included, in the order of the latest updates", () => {
    const t = cached(count);
    for (const k of ["a", "b", "a", "a", "b", "c"]) t.process("in", rec(k, 1, 100), 0);
    // held back until the commit drains the topology
    expect(t.pending).toBe(false);
    expect(results(t)).toEqual([
      { topic: "out", key: "a", value: { n: 3 } },
      { topic: "out", key: "b", value: { n: 2 } },
    ]); // c's 1 is filtered out downstream
    t.process("in", rec("c", 1, 100), 0);
    expect(results(t)).toEqual([{ topic: "out", key: "c", value: { n: 2 } }]);
    expect(results(t)).toEqual([]);
    // the counters count what was emitted, not the updates collapsed
    const slot = t.counters.layout.outSlot("agg", "out");
    expect(t.counters.emitted[slot]).toBe(4);
  });

  it("a window's last update goes out before the window closes (closing drops it)", () => {
    const t = cached({ ...count, window: { type: "tumbling", sizeMs: 1000 } });
    t.process("in", rec("a", 1, 100), 0);
    t.process("in", rec("a", 1, 200), 0);
    t.process("in", rec("z", 1, 5000), 0); // the watermark passes 1000: [0, 1000) closes
    expect(results(t)).toEqual([{ topic: "out", key: "a", value: { window: { start: 0, end: 1000 }, n: 2 } }]);
  });

  it("is bounded: at MAX_CACHED_UPDATES keys it empties before the commit", () => {
    const t = cached(count);
    for (let i = 0; i < MAX_CACHED_UPDATES; i++) {
      t.process("in", rec(`k${i}`, 1, 100), 0);
      t.process("in", rec(`k${i}`, 1, 100), 0);
    }
    expect(t.pending).toBe(true); // emitted without waiting for a commit
    expect(results(t)).toHaveLength(MAX_CACHED_UPDATES);
  });

  it("keeps no origin in the changelog: a task restored from it emits what an uninterrupted one does, origins included", () => {
    const feed = ["a", "b", "a", "c", "a", "b", "c", "a"].map((k, i) => rec(k, 1, 100 + i));
    const outputs = (t: Topology) =>
      t.drain().outputs.map((o) => ({ key: o.record.key, value: toJsonData(o.record.value), origin: o.record.origin }));
    const straight = cached(count);
    const expected: unknown[] = [];
    feed.forEach((r, i) => {
      straight.process("in", r, 0);
      if (i % 2 === 1) expected.push(...outputs(straight));
    });
    expect(expected.length).toBeGreaterThan(2);
    // the same records, the task committed (drained, then its changes taken) and reopened from its changelog every second record
    const changelog = new Map<string, Buffer | null>();
    let t = cached(count);
    const got: unknown[] = [];
    feed.forEach((r, i) => {
      t.process("in", r, 0);
      if (i % 2 === 0) return;
      got.push(...outputs(t));
      takeChanges(t, changelog);
      t = restoredFrom(cached(count), changelog);
    });
    expect(got).toEqual(expected);
    for (const v of changelog.values()) expect((decodeState(v!) as unknown[]).slice(4)).toEqual([null, null, null]);
  });

  it("final results keep their origin in the changelog: a window closed after a restore goes out with its last record's", () => {
    const t = cached({ ...count, window: { type: "tumbling", sizeMs: 1000 }, emit: "final" });
    const last = rec("a", 1, 200);
    t.process("in", rec("a", 1, 100), 0);
    t.process("in", last, 0);
    t.drain();
    const changes = takeChanges(t);
    expect(changes.size).toBe(1);
    expect((decodeState([...changes.values()][0]!) as unknown[]).slice(4)).toEqual(["in", 0, last.origin.offset]);
    const reopened = restoredFrom(cached({ ...count, window: { type: "tumbling", sizeMs: 1000 }, emit: "final" }), changes);
    reopened.process("in", rec("z", 1, 5000), 0); // the watermark passes 1000: [0, 1000) closes
    const out = reopened.drain().outputs.find((o) => o.record.key === "a")!;
    expect(out.record.origin).toEqual(last.origin);
  });

  it("previews and test runs (no cache) still see every update", () => {
    const t = aggregate(count);
    for (const k of ["a", "a", "a"]) t.process("in", rec(k, 1, 100), 0);
    expect(results(t).map((r) => r.value)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });
});
