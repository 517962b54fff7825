import { describe, expect, it } from "vitest";
import { StateBudget, StateLimitError, StateStore } from "./state-store.ts";

describe("state stores bounded per task", () => {
  it("refuses a key past the task's limit before storing it, over all its stores, naming the node", () => {
    const budget = new StateBudget({ keys: 3, bytes: 1 << 20 });
    const a = new StateStore<number>();
    const b = new StateStore<number>();
    a.bind(budget, "perKey");
    b.bind(budget, "seen");
    a.set("x", 1);
    a.set("x", 2); // an update is not a new key
    a.set("y", 1);
    b.set("z", 1);
    expect(budget.keys).toBe(3);
    const err = (() => {
      try {
        b.set("w", 1);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(StateLimitError);
    expect((err as StateLimitError).node).toBe("seen");
    expect((err as Error).message).toMatch(/node 'seen'.*limit of 3 keys per task.*maxStateKeysPerTask/);
    expect(b.has("w")).toBe(false);
    // a deleted key frees its place
    a.delete("y");
    b.set("w", 1);
    expect(budget.keys).toBe(3);
  });

  it("counts restored keys too (a tombstone frees one), so a restore stops at the limit", () => {
    const budget = new StateBudget({ keys: 2, bytes: 1 << 20 });
    const s = new StateStore<number>();
    s.bind(budget, "perKey");
    s.restore("a", 1);
    s.restore("a", 2);
    s.restore("b", 1);
    s.restore("b", undefined);
    s.restore("c", 1);
    expect(() => s.restore("d", 1)).toThrow(StateLimitError);
    expect(s.size).toBe(2);
    expect(budget.keys).toBe(2);
  });

  it("estimates bytes as keys × the mean encoded value, and checks them against the limit", () => {
    const budget = new StateBudget({ keys: 1000, bytes: 1000 });
    const s = new StateStore<string>();
    s.bind(budget, "perKey");
    for (let i = 0; i < 10; i++) {
      s.set(`k${i}`, "v");
      budget.encoded(50);
    }
    expect(budget.bytes).toBe(500);
    expect(() => budget.checkBytes("perKey")).not.toThrow();
    for (let i = 10; i < 30; i++) {
      s.set(`k${i}`, "v");
      budget.encoded(50);
    }
    expect(budget.bytes).toBe(1500);
    expect(() => budget.checkBytes("perKey")).toThrow(/node 'perKey'.*limit of 1000 bytes per task/);
  });
});
