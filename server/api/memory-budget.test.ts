import { describe, expect, it } from "vitest";
import { MemoryBudget } from "./memory-budget.ts";

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("MemoryBudget", () => {
  it("grants up to its limit, then queues first come first served", async () => {
    const b = new MemoryBudget(100);
    const r1 = await b.acquire(60);
    const order: string[] = [];
    const p2 = b.acquire(50).then((r) => (order.push("second"), r));
    const p3 = b.acquire(10).then((r) => (order.push("third"), r));
    await tick();
    expect(order).toEqual([]); // the third fits, but waits behind the second
    expect(b.inUse).toBe(60);
    r1();
    const [r2, r3] = await Promise.all([p2, p3]);
    expect(order).toEqual(["second", "third"]);
    expect(b.inUse).toBe(60);
    r2();
    r3();
    r3(); // a second release gives nothing back twice
    expect(b.inUse).toBe(0);
  });

  it("lets a request larger than the budget run alone", async () => {
    const b = new MemoryBudget(100);
    const big = await b.acquire(10_000);
    expect(b.inUse).toBe(100);
    let small = false;
    const p = b.acquire(1).then((r) => ((small = true), r));
    await tick();
    expect(small).toBe(false);
    big();
    (await p)();
    expect(small).toBe(true);
  });

  it("drops a waiter whose client went away, and lets the next one in", async () => {
    const b = new MemoryBudget(10);
    const first = await b.acquire(10);
    const ac = new AbortController();
    const gone = b.acquire(5, ac.signal);
    const next = b.acquire(5);
    ac.abort();
    await expect(gone).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    first();
    (await next)();
    expect(b.inUse).toBe(0);
  });

  it("gives the reservation back when the work throws", async () => {
    const b = new MemoryBudget(10);
    await expect(b.run(10, async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(b.inUse).toBe(0);
  });
});
