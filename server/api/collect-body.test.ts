/**
 * Request bodies are reserved in the body budget chunk by chunk as they arrive. Bodies that are
 * all half-read when the budget runs out must not wait for each other until they time out.
 */
import { afterEach, describe, expect, it } from "vitest";
import { collectBody, type BodySource } from "./http.ts";
import { MemoryBudget } from "./memory-budget.ts";

const g = globalThis as { __tributaryBodyMemory?: MemoryBudget };

/** A body of `chunks` chunks of `size` bytes, each arriving after `gate` lets it through. */
function body(chunks: number, size: number, gate: () => Promise<void>): BodySource {
  let sent = 0;
  return {
    async next() {
      if (sent === chunks) return { done: true, value: undefined };
      await gate();
      sent++;
      return { done: false, value: new Uint8Array(size).fill(sent) };
    },
    cancel: () => undefined,
  };
}

afterEach(() => {
  delete g.__tributaryBodyMemory;
});

describe("collectBody", () => {
  it("completes bodies that together exceed the budget when each holds part of it (no deadlock)", async () => {
    // 4 bodies of 3 × 10 bytes under a budget of 40: after each sent its first two chunks the
    // budget is spent (80 > 40) and every one of them needs more before it can finish
    const budget = new MemoryBudget(40);
    g.__tributaryBodyMemory = budget;
    let step = 0;
    const waiters: (() => void)[] = [];
    // chunks arrive in rounds: every body's first chunk, then every body's second, ...
    const gate = () => new Promise<void>((resolve) => waiters.push(resolve));
    // each body is used and given back as soon as it is in, as a route handler does
    const lengths: number[] = [];
    const reads = [0, 1, 2, 3].map(() =>
      collectBody(body(3, 10, gate), 1_000).then((b) => {
        lengths.push(b.bytes.length);
        expect(b.bytes[29]).toBe(3);
        b.release();
      }),
    );
    const pump = setInterval(() => {
      step++;
      for (const w of waiters.splice(0)) w();
    }, 1);
    try {
      await Promise.all(reads);
      expect(lengths).toEqual([30, 30, 30, 30]);
      expect(budget.inUse).toBe(0);
      expect(step).toBeGreaterThan(0);
    } finally {
      clearInterval(pump);
    }
  });

  it("still makes a younger body wait while the budget is spent", async () => {
    const budget = new MemoryBudget(40);
    g.__tributaryBodyMemory = budget;
    const hold = budget.take(40);
    let arrived = 0;
    const older = collectBody(
      body(1, 10, async () => undefined),
      1_000,
    ); // oldest: not held back
    const younger = collectBody(
      body(1, 10, async () => {
        arrived++;
      }),
      1_000,
    );
    const first = await older;
    expect(first.bytes.length).toBe(10);
    await new Promise((r) => setTimeout(r, 20));
    expect(arrived).toBe(1);
    expect(budget.inUse).toBe(50); // the younger one's chunk waits for memory, not yet counted
    first.release();
    hold();
    const second = await younger;
    expect(second.bytes.length).toBe(10);
    second.release();
    expect(budget.inUse).toBe(0);
  });
});
