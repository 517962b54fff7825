import { describe, expect, it } from "vitest";
import { assignWindows, closesAt, isClosed, windowsFor, windowsProblem, type TimeWindows } from "./window.ts";

const HOUR = 3_600_000;
const tumbling: TimeWindows = { type: "tumbling", sizeMs: HOUR, graceMs: 60_000 };
const hopping: TimeWindows = { type: "hopping", sizeMs: 10_000, advanceMs: 5_000, graceMs: 0 };

describe("tumbling windows", () => {
  it("put a record in the one window aligned to the epoch that holds it", () => {
    expect(windowsFor(tumbling, 5 * HOUR + 123)).toEqual([{ start: 5 * HOUR, end: 6 * HOUR }]);
  });

  it("are half-open: the first millisecond of the next window belongs to the next window", () => {
    expect(windowsFor(tumbling, HOUR - 1)).toEqual([{ start: 0, end: HOUR }]);
    expect(windowsFor(tumbling, HOUR)).toEqual([{ start: HOUR, end: 2 * HOUR }]);
  });

  it("align timestamps before 1970 downwards too", () => {
    expect(windowsFor(tumbling, -1)).toEqual([{ start: -HOUR, end: 0 }]);
    expect(windowsFor(tumbling, -HOUR)).toEqual([{ start: -HOUR, end: 0 }]);
  });

  it("close when the watermark reaches end + grace, not before", () => {
    const w = { start: 0, end: HOUR };
    expect(closesAt(tumbling, w)).toBe(HOUR + 60_000);
    expect(isClosed(tumbling, w, HOUR + 59_999)).toBe(false);
    expect(isClosed(tumbling, w, HOUR + 60_000)).toBe(true);
  });

  it("a record inside the grace period still updates its window; after it, it is late", () => {
    expect(assignWindows(tumbling, HOUR - 5, HOUR + 30_000)).toEqual({ open: [{ start: 0, end: HOUR }], closed: 0 });
    expect(assignWindows(tumbling, HOUR - 5, HOUR + 60_000)).toEqual({ open: [], closed: 1 });
  });
});

describe("hopping windows", () => {
  it("put a record in size / advance overlapping windows, oldest first", () => {
    expect(windowsFor(hopping, 12_000)).toEqual([
      { start: 5_000, end: 15_000 },
      { start: 10_000, end: 20_000 },
    ]);
  });

  it("a record on a boundary starts the newer window and still belongs to the older one", () => {
    expect(windowsFor(hopping, 10_000)).toEqual([
      { start: 5_000, end: 15_000 },
      { start: 10_000, end: 20_000 },
    ]);
    expect(windowsFor(hopping, 14_999).map((w) => w.start)).toEqual([5_000, 10_000]);
    expect(windowsFor(hopping, 15_000).map((w) => w.start)).toEqual([10_000, 15_000]);
  });

  it("with an advance that does not divide the size, a record is in ceil(size / advance) or fewer windows, each holding it", () => {
    const w: TimeWindows = { type: "hopping", sizeMs: 10, advanceMs: 3, graceMs: 0 };
    for (let ts = -50; ts < 50; ts++) {
      const ws = windowsFor(w, ts);
      expect(ws.length).toBeGreaterThanOrEqual(3);
      expect(ws.length).toBeLessThanOrEqual(4);
      for (const x of ws) {
        expect(x.start).toBeLessThanOrEqual(ts);
        expect(ts).toBeLessThan(x.end);
        expect(((x.start % 3) + 3) % 3).toBe(0);
      }
    }
  });

  it("a record whose older window closed updates only the newer one and counts one late window", () => {
    expect(assignWindows(hopping, 12_000, 15_000)).toEqual({ open: [{ start: 10_000, end: 20_000 }], closed: 1 });
  });
});

describe("window definitions", () => {
  it("refuse sizes, advances and graces that cannot work, naming the field", () => {
    expect(windowsProblem({ type: "tumbling", sizeMs: 0, graceMs: 0 })).toMatch(/sizeMs/);
    expect(windowsProblem({ type: "tumbling", sizeMs: 1.5, graceMs: 0 })).toMatch(/sizeMs/);
    expect(windowsProblem({ type: "tumbling", sizeMs: 10, graceMs: -1 })).toMatch(/graceMs/);
    expect(windowsProblem({ type: "hopping", sizeMs: 10, advanceMs: 11, graceMs: 0 })).toMatch(/advanceMs/);
    expect(windowsProblem({ type: "hopping", sizeMs: 1_000_000, advanceMs: 1, graceMs: 0 })).toMatch(/at most 1000/);
    expect(windowsProblem(hopping)).toBeNull();
    expect(windowsProblem(tumbling)).toBeNull();
  });
});
