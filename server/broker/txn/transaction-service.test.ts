/**
 * The transaction service's entry writes: the decision before any marker, the partitions before
 * the first append, and the end's Complete* entry after the answer, unless the producer's next
 * transaction asks for a write first (then one write records both). The store keeps what it was
 * given in memory (the service's contract with it is
 * `TransactionStore`; PostgreSQL's side is tested in transactions-crash.test.ts). setTimeout is
 * faked: the end's delayed write happens only when the test moves the clock, or when something
 * makes the service write it at once.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { COMPLETE_WRITE_DELAY_MS, TransactionService, transactionCoordinator } from "./transaction-service.ts";
import type { StoredTransaction, TransactionStore } from "../store/transaction-store.ts";

class MemoryStore implements TransactionStore {
  readonly saved: StoredTransaction[] = [];
  private next = 1;
  findEntries(): Promise<StoredTransaction[]> {
    return Promise.resolve([]);
  }
  async saveEntry(entry: StoredTransaction): Promise<void> {
    await new Promise((r) => setImmediate(r)); // a round trip
    this.saved.push(structuredClone(entry));
  }
  deleteEntry(): Promise<void> {
    return Promise.resolve();
  }
  reserveProducerIds(count: number): Promise<number[]> {
    return Promise.resolve(Array.from({ length: count }, () => this.next++));
  }
  states(id: string): string[] {
    return this.saved.filter((e) => e.transactionalId === id).map((e) => e.state);
  }
}

const TP = { topic: "out", partition: 0 };
const services: TransactionService[] = [];

async function started(): Promise<{ service: TransactionService; store: MemoryStore; markers: string[] }> {
  const store = new MemoryStore();
  const markers: string[] = [];
  const { coordinator, allocator } = transactionCoordinator();
  const service = new TransactionService(
    store,
    coordinator,
    allocator,
    {
      appendMarker(topic, partition) {
        markers.push(`${topic}-${partition}`);
        return Promise.resolve(true);
      },
    },
    null,
    { checkIntervalMs: 0 },
  );
  await service.start();
  services.push(service);
  return { service, store, markers };
}

/** One transaction of `id`: a produce to out-0 (its append settles at once), then a commit. */
async function transaction(service: TransactionService, id: string, p: { producerId: number; producerEpoch: number }): Promise<void> {
  const done = await service.beginProduce(id, p.producerId, p.producerEpoch, [TP]);
  done();
  const d = await service.endTransaction(id, p.producerId, p.producerEpoch, true);
  expect(d.state).toBe("CompleteCommit");
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
});
afterEach(async () => {
  for (const s of services.splice(0)) await s.stop();
  vi.useRealTimers();
});

/** Lets the writes under way settle (they take turns of the event loop, not time). */
const settled = () => new Promise((r) => setImmediate(r)).then(() => new Promise((r) => setImmediate(r)));

describe("TransactionService entry writes", () => {
  it("records a commit's end as complete once the delay passed, when nothing else was written", async () => {
    const { service, store, markers } = await started();
    const p = await service.initProducer({ transactionalId: "t" });
    await transaction(service, "t", p);
    expect(markers).toEqual(["out-0"]);
    // answered after the decision; the end is recorded after the answer
    await vi.advanceTimersByTimeAsync(COMPLETE_WRITE_DELAY_MS - 1);
    await settled();
    expect(store.states("t").at(-1)).toBe("PrepareCommit");
    await vi.advanceTimersByTimeAsync(1);
    await settled();
    expect(store.states("t")).toEqual(["Empty", "Ongoing", "PrepareCommit", "CompleteCommit"]);
  });

  it("back-to-back transactions write their producer's entry twice each: the next one's partitions take the place of the end", async () => {
    const { service, store } = await started();
    const p = await service.initProducer({ transactionalId: "t" });
    for (let i = 0; i < 5; i++) await transaction(service, "t", p);
    const writes = store.states("t");
    // init, then per transaction Ongoing (the first after init; later ones over the last end) and PrepareCommit
    expect(writes).toEqual(["Empty", ...Array.from({ length: 5 }, () => ["Ongoing", "PrepareCommit"]).flat()]);
    await vi.advanceTimersByTimeAsync(COMPLETE_WRITE_DELAY_MS);
    await settled();
    expect(store.states("t")).toEqual([...writes, "CompleteCommit"]);
  });

  it("writes a pending end at once when the service stops, and when the id's producer is initialised again", async () => {
    const a = await started();
    const p = await a.service.initProducer({ transactionalId: "t" });
    await transaction(a.service, "t", p);
    // the clock stands still: only the stop can start the end's write
    await a.service.stop();
    expect(a.store.states("t").at(-1)).toBe("CompleteCommit");

    const b = await started();
    const q = await b.service.initProducer({ transactionalId: "u" });
    await transaction(b.service, "u", q);
    const again = await b.service.initProducer({ transactionalId: "u" });
    expect(again.producerEpoch).toBe(q.producerEpoch + 1);
    const last = b.store.saved.filter((e) => e.transactionalId === "u").at(-1)!;
    expect([last.state, last.producerEpoch]).toEqual(["Empty", q.producerEpoch + 1]);
  });
});
