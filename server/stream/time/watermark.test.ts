import { describe, expect, it } from "vitest";
import { WatermarkTracker } from "./watermark.ts";

const opts = { outOfOrdernessMs: 1_000, idleTimeoutMs: 10_000 };

describe("watermark", () => {
  it("with no record yet, holds nothing back and closes nothing", () => {
    const t = new WatermarkTracker(opts);
    expect(t.advance(0)).toBe(Number.NEGATIVE_INFINITY);
  });

  it("is the highest event time seen less the out-of-orderness", () => {
    const t = new WatermarkTracker(opts);
    t.observe(0, 50_000, 0);
    t.observe(0, 40_000, 1); // out of order: does not lower it
    expect(t.advance(2)).toBe(49_000);
  });

  it("is the lowest over the task's active partitions: a slow partition holds windows open", () => {
    const t = new WatermarkTracker(opts);
    t.observe(0, 90_000, 0);
    t.observe(1, 20_000, 0);
    expect(t.advance(1)).toBe(19_000);
    t.observe(1, 95_000, 2);
    expect(t.advance(3)).toBe(89_000);
  });

  it("an idle partition stops holding the watermark back after the idle timeout", () => {
    const t = new WatermarkTracker(opts);
    t.observe(0, 20_000, 0); // then nothing more on partition 0
    t.observe(1, 90_000, 0);
    expect(t.advance(5_000)).toBe(19_000);
    t.observe(1, 91_000, 10_000);
    expect(t.advance(10_000)).toBe(90_000);
  });

  it("never goes back: a partition that wakes with older records does not lower it", () => {
    const t = new WatermarkTracker(opts);
    t.observe(0, 20_000, 0);
    t.observe(1, 90_000, 0);
    t.observe(1, 91_000, 10_000);
    expect(t.advance(10_000)).toBe(90_000);
    t.observe(0, 21_000, 10_001);
    expect(t.advance(10_002)).toBe(90_000);
    expect(t.isBehind(21_000)).toBe(true);
  });

  it("when every partition is idle, advances with the wall clock so the last window closes without new input", () => {
    const t = new WatermarkTracker(opts);
    const base = 1_800_000_000_000;
    t.observe(0, base, base);
    expect(t.advance(base + 5_000)).toBe(base - 1_000);
    // idle: event time moves on with the wall clock past the idle timeout
    expect(t.advance(base + 10_000)).toBe(base - 1_000);
    expect(t.advance(base + 70_000)).toBe(base + 59_000);
  });

  it("after replayed history (old timestamps), an idle input moves the watermark up to the wall clock", () => {
    const t = new WatermarkTracker(opts);
    const now = 1_800_000_000_000;
    t.observe(0, 1_000, now); // a record from 1970 read now
    expect(t.advance(now + 1)).toBe(0);
    expect(t.advance(now + 10_000)).toBe(now - 1_000);
  });

  it("confirming idleness: a silent partition with records waiting is lagging, not idle; it idles once seen caught up", () => {
    const t = new WatermarkTracker(opts);
    t.confirmIdle();
    const now = 1_800_000_000_000;
    t.observe(0, 1_000, now); // replaying history: a batch, then a long pause (a slow transaction)
    t.sawEnd(0, true, now + 5_000); // records wait past the position
    expect(t.advance(now + 30_000)).toBe(0); // silent for 30 s, yet not idle: no jump to the wall clock
    expect(t.idleAt(now + 30_000)).toBe(false);
    t.observe(0, 2_000, now + 31_000);
    t.sawEnd(0, false, now + 31_500); // caught up, after the last record
    expect(t.advance(now + 40_000)).toBe(1_000); // silent for less than the idle timeout since the last record
    expect(t.idleAt(now + 41_000)).toBe(true);
    expect(t.advance(now + 41_000)).toBe(now + 41_000 - 1_000 - 10_000);
  });

  it("confirming idleness: a sight of the end from before the last record does not make it idle", () => {
    const t = new WatermarkTracker(opts);
    t.confirmIdle();
    t.expect(0, 0); // an assigned partition with no record yet holds time until seen caught up
    expect(t.idleAt(20_000)).toBe(false);
    t.sawEnd(0, false, 1_000);
    t.observe(0, 5_000, 2_000);
    expect(t.idleAt(20_000)).toBe(false);
    expect(t.advance(20_000)).toBe(4_000);
    t.sawEnd(0, false, 20_000);
    expect(t.idleAt(20_000)).toBe(true);
  });

  it("a partition that said it is idle stays idle while others' records wait, until it reports again", () => {
    const t = new WatermarkTracker(opts);
    t.confirmIdle();
    t.observe(0, 50_000, 0); // upstream task 0 is busy
    t.observeIdle(1, 40_000, 0); // upstream task 1 said it is idle
    expect(t.advance(100)).toBe(49_000); // task 1 holds nothing back, without a look at the end
    t.sawEnd(undefined, true, 200); // records wait (task 0's)
    t.observe(0, 90_000, 300);
    expect(t.advance(300)).toBe(89_000); // task 1 is still idle
    t.observe(1, 60_000, 400); // task 1 woke up: it holds time again
    expect(t.advance(400)).toBe(89_000); // never back
    t.observe(0, 95_000, 500);
    expect(t.advance(500)).toBe(89_000);
  });

  it("gives back what each partition reported, and a task opening again restores it", () => {
    const t = new WatermarkTracker(opts);
    t.confirmIdle();
    t.expect(0, 0);
    t.observe(1, 50_000, 0);
    t.observeIdle(2, 70_000, 0);
    expect(t.reports()).toEqual([
      [1, 50_000, false],
      [2, 70_000, true],
    ]);
    const again = new WatermarkTracker(opts);
    again.confirmIdle();
    again.restore(t.reports(), 10_000);
    for (const p of [0, 1, 2]) again.expect(p, 10_000);
    // task 0 never reported: it holds time back until heard from, seen caught up, and silent
    expect(again.advance(10_001)).toBe(Number.NEGATIVE_INFINITY);
    again.observe(0, 60_000, 10_002);
    expect(again.advance(10_003)).toBe(49_000); // task 1 holds, task 2 is idle as it said
    again.observe(1, 80_000, 10_004);
    expect(again.advance(10_005)).toBe(59_000);
  });

  it("forgets a partition that moved to another task", () => {
    const t = new WatermarkTracker(opts);
    t.observe(0, 20_000, 0);
    t.observe(1, 90_000, 0);
    t.forget(0);
    expect(t.advance(1)).toBe(89_000);
  });
});
