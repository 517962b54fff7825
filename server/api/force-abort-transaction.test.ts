/**
 * An operator's abort of a hanging transaction (`POST /api/v1/transactions/{id}/force-abort`,
 * Kafka's `kafka-transactions.sh forceTerminate`) over real HTTP against a real server on a
 * fresh PostgreSQL database: the producer is fenced, abort markers let read_committed readers
 * past the transaction, and bad input is a 404 / 409 JSON error.
 */
import { describe, expect, it } from "vitest";
import { useTestServer } from "../testing/test-server.ts";
import { expectError, type ApiResponse } from "../testing/api-assertions.ts";
import { apiCaller } from "../testing/api-client.ts";

const server = useTestServer();
const serverErrors: string[] = [];
const call = apiCaller(
  () => server.url + "/api/v1",
  (line) => serverErrors.push(line),
);
const enc = encodeURIComponent;
const ctx = (r: ApiResponse) => `HTTP ${r.status} ${r.text.slice(0, 600)}`;

async function ok(res: Promise<ApiResponse>, status = 200) {
  const r = await res;
  expect(r.status, ctx(r)).toBe(status);
  return r.body;
}

const forceAbort = (id: string) => call("POST", `/transactions/${enc(id)}/force-abort`);

/** read_committed values of a partition from offset 0, and where the read stops. */
async function readCommitted(topic: string, partition: number) {
  const b = await ok(
    call("GET", `/topics/${enc(topic)}/partitions/${partition}/records?offset=0&waitMs=0&maxRecords=1000&isolation=read_committed`),
  );
  return { values: b.records.map((r: { value: string }) => r.value), lastStableOffset: b.lastStableOffset, highWatermark: b.highWatermark };
}

describe("force-abort of a hanging transaction", () => {
  it("fences the producer, writes abort markers so read_committed readers move past it, and the id can start again", async () => {
    await ok(call("POST", "/topics", { json: { name: "hang-t", partitions: 2 } }), 201);
    await ok(call("POST", "/topics/hang-t/records", { json: { records: [{ partition: 0, value: "before" }] } }));
    const p = await ok(call("POST", "/producers", { json: { transactionalId: "hanging", transactionTimeoutMs: 600_000 } }), 201);
    const send = (partition: number, value: string, baseSequence: number) =>
      call("POST", "/topics/hang-t/records", {
        json: {
          producerId: p.producerId,
          producerEpoch: p.producerEpoch,
          baseSequence,
          transactionalId: "hanging",
          records: [{ partition, value }],
        },
      });
    await ok(send(0, "t0", 0));
    await ok(send(1, "t1", 0));
    await ok(call("POST", "/topics/hang-t/records", { json: { records: [{ partition: 0, value: "after" }] } }));
    // the open transaction holds read_committed readers back at its first record
    expect(await readCommitted("hang-t", 0)).toMatchObject({ values: ["before"], lastStableOffset: 1 });

    const done = await ok(forceAbort("hanging"));
    expect(done).toMatchObject({ transactionalId: "hanging", state: "CompleteAbort", producerId: p.producerId, partitions: [] });
    expect(done.producerEpoch).toBe(p.producerEpoch + 1);
    expect(done.lastResult).toMatchObject({ commit: false, reason: "operator" });

    // past the aborted records: before, t0 (aborted), after, marker
    expect(await readCommitted("hang-t", 0)).toEqual({ values: ["before", "after"], lastStableOffset: 4, highWatermark: 4 });
    expect(await readCommitted("hang-t", 1)).toEqual({ values: [], lastStableOffset: 2, highWatermark: 2 });

    // the old instance is fenced: told its transaction was aborted, it writes nothing more
    expectError(await send(0, "late", 1), 409, "TRANSACTION_ABORTED", "operator");
    const end = await call("POST", "/transactions/hanging/commit", { json: { producerId: p.producerId, producerEpoch: p.producerEpoch } });
    expectError(end, 409, "TRANSACTION_ABORTED");
    expect((await readCommitted("hang-t", 0)).values).toEqual(["before", "after"]);

    // a new instance of the id works
    const q = await ok(call("POST", "/producers", { json: { transactionalId: "hanging" } }), 201);
    expect(q.producerEpoch).toBeGreaterThan(done.producerEpoch - 1);
    await ok(
      call("POST", "/topics/hang-t/records", {
        json: {
          producerId: q.producerId,
          producerEpoch: q.producerEpoch,
          baseSequence: 0,
          transactionalId: "hanging",
          records: [{ partition: 0, value: "fresh" }],
        },
      }),
    );
    await ok(call("POST", "/transactions/hanging/commit", { json: { producerId: q.producerId, producerEpoch: q.producerEpoch } }));
    expect((await readCommitted("hang-t", 0)).values).toEqual(["before", "after", "fresh"]);
  });

  it("an unknown id is 404, an id with no transaction in progress is 409, a bad id 400 — JSON errors naming the id", async () => {
    expectError(await forceAbort("no-such-id"), 404, "TRANSACTIONAL_ID_NOT_FOUND", "no-such-id");
    await ok(call("POST", "/producers", { json: { transactionalId: "idle-id" } }), 201);
    expectError(await forceAbort("idle-id"), 409, "INVALID_TXN_STATE", "idle-id", "no transaction in progress");
    // its transaction ended (aborted, then a new instance committed): refused the same way
    expectError(
      await forceAbort("hanging"),
      409,
      "INVALID_TXN_STATE",
      "hanging",
      "no transaction in progress (the last one ended: CompleteCommit)",
    );
    expectError(await forceAbort("x".repeat(300)), 400, "VALIDATION_FAILED", "transactionalId");
    const get = await call("GET", "/transactions/idle-id/force-abort");
    expect(get.status, ctx(get)).toBe(405);
    expect(get.body?.error?.code, ctx(get)).toBe("METHOD_NOT_ALLOWED");
  });

  it("answered no request with a 5xx", () => {
    expect(serverErrors).toEqual([]);
  });
});
