import { describe, expect, it } from "vitest";
import {
  isLateForSliding,
  isSlidingClosed,
  planSliding,
  slidingClosesAt,
  slidingRetainedUntil,
  slidingWindowAt,
  slidingWindowsProblem,
  type SlidingWindows,
} from "./sliding-window.ts";

const w: SlidingWindows = { type: "sliding", timeDifferenceMs: 10, graceMs: 5 };

/** One key's windows as a store holds them: start → the event times folded in, in arrival order. */
type Windows = Map<number, number[]>;

const marksOf = (ws: Windows) => [...ws].map(([start, times]) => ({ start, maxTimestamp: Math.max(...times) }));

/** Applies the plan of a record at `ts`, as the aggregate node does. */
function feed(ws: Windows, ts: number): void {
  const plan = planSliding(w, marksOf(ws), ts);
  const created = plan.create.map((c): [number, number[]] => [
    c.start,
    [...(c.from === null ? [] : ws.get(c.from)!), ...(c.add ? [ts] : [])],
  ]);
  for (const s of plan.update) ws.get(s)!.push(ts);
  for (const [s, times] of created) ws.set(s, times);
}

/** The windows Kafka Streams defines over `records`, each with the records it holds (sorted). */
function expected(records: number[], d = w.timeDifferenceMs): Map<number, number[]> {
  const out = new Map<number, number[]>();
  const holding = (s: number) => records.filter((t) => t >= s && t <= s + d).sort((a, b) => a - b);
  for (const t of records) {
    out.set(t - d, holding(t - d));
    if (records.some((x) => x > t && x <= t + 1 + d)) out.set(t + 1, holding(t + 1));
  }
  return out;
}

const sorted = (ws: Windows) => new Map([...ws].sort(([a], [b]) => a - b).map(([s, t]) => [s, [...t].sort((a, b) => a - b)]));

function windowsOf(times: number[]): Windows {
  const ws: Windows = new Map();
  for (const t of times) feed(ws, t);
  return ws;
}

describe("sliding windows", () => {
  it("the first record makes its left window [t - d, t] only", () => {
    expect(planSliding(w, [], 100)).toEqual({ update: [], create: [{ start: 90, from: null, add: true }] });
    expect(sorted(windowsOf([100]))).toEqual(new Map([[90, [100]]]));
  });

  it("ends are inclusive: a record exactly d after another shares its left window, and creates the right window of the first", () => {
    // 110's left window [100, 110] holds both; 100's right window [101, 111] holds 110 only
    expect(sorted(windowsOf([100, 110]))).toEqual(
      new Map([
        [90, [100]],
        [100, [100, 110]],
        [101, [110]],
      ]),
    );
  });

  it("a record d + 1 after another is in none of its windows, but its left window is the first one's right window", () => {
    // [101, 111] is both 100's right window and 111's left window: one window
    expect(sorted(windowsOf([100, 111]))).toEqual(
      new Map([
        [90, [100]],
        [101, [111]],
      ]),
    );
    expect(sorted(windowsOf([100, 112]))).toEqual(
      new Map([
        [90, [100]],
        [102, [112]],
      ]),
    );
  });

  it("equal timestamps update the same windows and create none", () => {
    const ws = windowsOf([100, 105]);
    expect(planSliding(w, marksOf(ws), 105)).toEqual({ update: [95, 101], create: [] });
  });

  it("an out-of-order record updates the earlier windows that hold it and creates its own from the right copy", () => {
    const ws = windowsOf([100, 120]);
    // 115 arrives late but on time: it is in 120's left window [110, 120]; its left window [105, 115] is new and empty
    // before it; its right window [116, 126] holds 120, copied from 120's left window
    expect(planSliding(w, marksOf(ws), 115)).toEqual({
      update: [110],
      create: [
        { start: 105, from: null, add: true },
        { start: 116, from: 110, add: false },
      ],
    });
    feed(ws, 115);
    expect(sorted(ws)).toEqual(expected([100, 120, 115]));
  });

  it("in any arrival order, the windows and what they hold are Kafka Streams' windows over the records", () => {
    for (let round = 0; round < 300; round++) {
      const n = 1 + Math.floor(Math.random() * 12);
      const times = Array.from({ length: n }, () => Math.floor(Math.random() * 60));
      expect(sorted(windowsOf(times)), `arrival order ${times.join(",")}`).toEqual(sorted(expected(times)));
    }
  });

  it("with a watermark, late records skipped and windows dropped once retained long enough, every window kept is still exact", () => {
    for (let round = 0; round < 300; round++) {
      const ws: Windows = new Map();
      const accepted: number[] = [];
      let watermark = Number.NEGATIVE_INFINITY;
      let maxSeen = Number.NEGATIVE_INFINITY;
      const outOfOrderness = Math.floor(Math.random() * 30);
      for (let i = 0; i < 40; i++) {
        const ts = Math.floor(Math.random() * 200) + i * 3;
        if (!isLateForSliding(w, ts, watermark)) {
          feed(ws, ts);
          accepted.push(ts);
        }
        maxSeen = Math.max(maxSeen, ts);
        watermark = Math.max(watermark, maxSeen - outOfOrderness);
        for (const s of [...ws.keys()]) if (watermark >= slidingRetainedUntil(w, slidingWindowAt(w, s))) ws.delete(s);
        const want = new Map([...expected(accepted)].filter(([s]) => watermark < slidingRetainedUntil(w, slidingWindowAt(w, s))));
        expect(sorted(ws), `after ${accepted.join(",")} at watermark ${watermark}`).toEqual(sorted(want));
      }
    }
  });

  it("close once the watermark passes the inclusive end plus grace; a record is late only when [t, t + d] has closed", () => {
    const win = slidingWindowAt(w, 90);
    expect(win).toEqual({ start: 90, end: 100 });
    expect(slidingClosesAt(w, win)).toBe(106);
    expect(isSlidingClosed(w, win, 105)).toBe(false);
    expect(isSlidingClosed(w, win, 106)).toBe(true);
    // a record at 100: the last window that can hold it is [100, 110], closing at 116
    expect(isLateForSliding(w, 100, 115)).toBe(false);
    expect(isLateForSliding(w, 100, 116)).toBe(true);
  });

  it("refuses definitions that cannot work, naming the field", () => {
    expect(slidingWindowsProblem({ type: "sliding", timeDifferenceMs: 0, graceMs: 0 })).toMatch(/timeDifferenceMs/);
    expect(slidingWindowsProblem({ type: "sliding", timeDifferenceMs: 10, graceMs: -1 })).toMatch(/graceMs/);
    expect(slidingWindowsProblem(w)).toBeNull();
  });
});
