/**
 * A database error never leaves the server broken. On the embedded database (PGlite: one backend
 * session behind a loopback socket) a single failed statement used to poison it until a restart:
 * node-pg drops a connection after an error, the next connection found the old session's named
 * prepared statements, and every produce answered 500 with `prepared statement "append" already
 * exists`. Here, on both databases: text the database cannot store (NUL, lone surrogates) is
 * refused by the stores as a request error naming the field; statements that fail anyway,
 * connections dropped mid-transaction, holding an advisory lock or after a failed Parse leave
 * nothing behind; and through a real server each request that used to poison it answers a 4xx,
 * while other clients keep being answered and a normal produce/fetch works afterwards.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresGroupOffsetStore } from "../broker/store/postgres-group-offset-store.ts";
import { PostgresLogStore } from "../broker/store/postgres-log-store.ts";
import { PostgresTransactionStore } from "../broker/store/postgres-transaction-store.ts";
import type { BatchToAppend } from "../broker/store/log-store.ts";
import { encodeRecordBatch } from "../broker/protocol/record-batch.ts";
import type { TxnEntrySnapshot } from "../broker/txn/transaction-coordinator.ts";
import type { Database } from "../db/database.ts";
import { createScratchDatabase, DATABASE_KINDS, openScratch, type ScratchDatabase } from "../testing/databases.ts";
import { expectJson4xx, expectProduceFetchWorks, expectRssBounded, rawRequest, withoutStall } from "../testing/hardening-kit.ts";
import { useTestServer } from "../testing/test-server.ts";

/** Strings PostgreSQL cannot store as given. */
const BAD_TEXT = { nul: "a\u0000b", "lone high surrogate": "x\ud800y", "lone low surrogate": "x\udc00" } as const;

function batch(): BatchToAppend {
  return {
    lastOffsetDelta: 0,
    recordCount: 1,
    firstTimestamp: 1,
    maxTimestamp: 1,
    producerId: -1,
    producerEpoch: -1,
    baseSequence: -1,
    isTransactional: false,
    isControl: false,
    payload: encodeRecordBatch({ baseOffset: 0, records: [{ key: null, value: Buffer.from("v"), headers: [], timestamp: 1 }] }),
  };
}

function txnEntry(transactionalId: string, topic = "t"): TxnEntrySnapshot {
  return {
    transactionalId,
    producerId: 1,
    producerEpoch: 0,
    timeoutMs: 60_000,
    state: "Empty",
    partitions: [{ topic, partition: 0 }],
    pendingOffsets: [],
    startedAt: null,
    lastUpdatedAt: 0,
    pendingEnd: null,
    fencedByTimeout: null,
    lastResult: null,
  } as unknown as TxnEntrySnapshot;
}

async function expectInvalidRequest(p: Promise<unknown>, field: string): Promise<void> {
  const e = (await p.then(
    () => undefined,
    (err: unknown) => err,
  )) as { isBrokerError?: boolean; code?: string; details?: { field?: string } } | undefined;
  expect(e, `expected INVALID_REQUEST naming ${field}`).toBeDefined();
  expect({ isBrokerError: e?.isBrokerError, code: e?.code, field: e?.details?.field }).toEqual({
    isBrokerError: true,
    code: "INVALID_REQUEST",
    field,
  });
}

/** The database answers errors of a connection's own making and stays usable. */
async function expectStatementFails(p: Promise<unknown>): Promise<void> {
  await expect(p).rejects.toThrow();
}

describe.each(DATABASE_KINDS)("database layer (%s)", (kind) => {
  let scratch: ScratchDatabase;
  let db: Database;
  let log: PostgresLogStore;
  let groups: PostgresGroupOffsetStore;
  let txns: PostgresTransactionStore;
  const topicId = randomUUID();
  let appended = 0;

  beforeAll(async () => {
    scratch = await createScratchDatabase(kind);
    db = await openScratch(scratch);
    log = new PostgresLogStore(db.pool, db.prisma, { copyReads: db.kind === "postgres" });
    groups = new PostgresGroupOffsetStore(db.pool);
    txns = new PostgresTransactionStore(db.pool);
    await log.createTopic({ id: topicId, name: "db-errors", partitions: 1, configs: {}, createdAt: new Date() });
    await expectStillWorks(); // every named statement is prepared on the session before the failures
  });
  afterAll(async () => {
    await db?.close();
    await scratch?.drop();
  });

  /** A normal append, fetch, commit and transaction save work, and the log is as it was. */
  async function expectStillWorks(): Promise<void> {
    const out = await log.append(topicId, 0, [batch()]);
    expect(out?.baseOffset).toBe(appended);
    appended++;
    expect((await log.readBatches(topicId, 0, 0, 1000)).map((b) => b.baseOffset)).toEqual(Array.from({ length: appended }, (_, i) => i));
    expect((await log.findPartition(topicId, 0))?.nextOffset).toBe(appended);
    await groups.commitOffsets("g", [{ topic: "db-errors", partition: 0, offset: appended, metadata: "m" }]);
    expect((await groups.findOffsets("g")).map((o) => o.offset)).toEqual([appended]);
    await txns.saveEntry(txnEntry("tx"));
    expect((await txns.findEntries()).map((e) => e.transactionalId)).toEqual(["tx"]);
  }

  for (const [what, bad] of Object.entries(BAD_TEXT)) {
    it(`refuses a ${what} in the group offset store's text, naming the field`, async () => {
      await expectInvalidRequest(groups.findOffsets(bad), "groupId");
      await expectInvalidRequest(groups.commitOffsets(bad, [{ topic: "db-errors", partition: 0, offset: 1, metadata: null }]), "groupId");
      await expectInvalidRequest(
        groups.commitOffsets("g", [{ topic: "db-errors", partition: 0, offset: 1, metadata: `m${bad}` }]),
        "offsets[0].metadata",
      );
      await expectInvalidRequest(groups.commitOffsets("g", [{ topic: bad, partition: 0, offset: 1, metadata: null }]), "offsets[0].topic");
      await expectInvalidRequest(groups.deleteGroup(bad), "groupId");
      await expectInvalidRequest(groups.deleteTopicOffsets(bad, "db-errors"), "groupId");
      await expectInvalidRequest(groups.deleteTopicOffsets("g", bad), "topic");
      await expectStillWorks();
    });

    it(`refuses a ${what} in the transaction store's text, naming the field`, async () => {
      await expectInvalidRequest(txns.saveEntry(txnEntry(bad)), "transactionalId");
      await expectInvalidRequest(txns.saveEntry(txnEntry("tx2", bad)), "transaction.partitions[0].topic");
      await expectInvalidRequest(txns.deleteEntry(bad), "transactionalId");
      await expectStillWorks();
    });

    it(`refuses a ${what} in a topic name or config`, async () => {
      await expectInvalidRequest(log.findTopic(bad), "name");
      await expectInvalidRequest(
        log.createTopic({ id: randomUUID(), name: bad, partitions: 1, configs: {}, createdAt: new Date() }),
        "name",
      );
      await expectInvalidRequest(log.updateConfigs(topicId, { "cleanup.policy": bad }), "configs.cleanup.policy");
      await expectStillWorks();
    });
  }

  it("stays usable after statements fail on bad text past the stores' checks (plain and named)", async () => {
    for (const bad of Object.values(BAD_TEXT)) {
      await expectStatementFails(db.pool.query("SELECT $1::text::jsonb", [JSON.stringify(bad)]));
      await expectStatementFails(db.pool.query({ name: "bad-text", text: "SELECT $1::text::jsonb AS v", values: [JSON.stringify(bad)] }));
    }
    await expectStatementFails(db.pool.query("SELECT $1::text", ["a\u0000b"]));
    await expectStatementFails(db.pool.query({ name: "bad-nul", text: "SELECT $1::text AS v", values: ["a\u0000b"] }));
    await expectStillWorks();
    // the named statements that failed can be used again
    expect((await db.pool.query({ name: "bad-text", text: "SELECT $1::text::jsonb AS v", values: ['"ok"'] })).rows).toEqual([{ v: "ok" }]);
    expect((await db.pool.query({ name: "bad-nul", text: "SELECT $1::text AS v", values: ["ok"] })).rows).toEqual([{ v: "ok" }]);
  });

  it("rolls back what a connection dropped mid-transaction had done, and frees its locks", async () => {
    const client = await db.pool.connect();
    await client.query("BEGIN");
    await client.query("UPDATE partitions SET next_offset = next_offset + 1000 WHERE topic_id = $1", [topicId]);
    await client.query("SELECT pg_advisory_lock(4242)");
    client.release(new Error("dropped by the test"));
    await expectStillWorks();
    expect((await db.pool.query("SELECT pg_try_advisory_lock(4242) AS ok")).rows).toEqual([{ ok: true }]);
    await db.pool.query("SELECT pg_advisory_unlock(4242)");
  });

  it("frees a session-level advisory lock of a dropped connection", async () => {
    const client = await db.pool.connect();
    await client.query("SELECT pg_advisory_lock(4343)");
    client.release(new Error("dropped by the test"));
    const other = await db.pool.connect();
    try {
      expect((await other.query("SELECT pg_try_advisory_lock(4343) AS ok")).rows).toEqual([{ ok: true }]);
      await other.query("SELECT pg_advisory_unlock(4343)");
    } finally {
      other.release();
    }
    await expectStillWorks();
  });

  it("stays usable after a connection drops between a failed Parse and its Sync", async () => {
    // the embedded database serves one connection at a time: the pool gives its up first
    const pooled = await db.pool.connect();
    pooled.release(new Error("making room for the test's own connection"));
    const client = new pg.Client({ connectionString: (db.pool.options as { connectionString: string }).connectionString });
    await client.connect();
    client.on("error", () => undefined); // the Parse's error arrives with no query to take it
    // node-pg's wire connection: a Parse that fails, flushed, and no Sync before the socket goes
    const wire = (client as unknown as { connection: { parse(m: object): void; flush(): void; stream: { destroy(): void } } }).connection;
    wire.parse({ name: "half", text: "SELECT no_such_function()", types: [] });
    wire.flush();
    await new Promise((r) => setTimeout(r, 200));
    wire.stream.destroy();
    await client.end().catch(() => undefined);
    await expectStillWorks();
  });
});

/** Requests that used to reach the database with text it cannot store. */
describe.each(DATABASE_KINDS)("server (%s): requests that used to poison the embedded database", (kind) => {
  const server = useTestServer({ TRIBUTARY_GROUP_SESSION_TIMEOUT_MS: "300000", TRIBUTARY_GROUP_HEARTBEAT_INTERVAL_MS: "5000" }, kind);
  const json = (body: unknown) => ({ headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const topic = `poison-${kind}`;

  beforeAll(async () => {
    const res = await rawRequest(server.url, "POST", "/api/v1/topics", json({ name: topic, partitions: 1 }));
    expect(res.status, res.text).toBe(201);
  });

  async function hostile(label: string, send: () => Promise<Awaited<ReturnType<typeof rawRequest>>>): Promise<void> {
    await withoutStall(server.url, async () => expectJson4xx(await send(), label));
    await expectRssBounded(server.pid);
    await expectProduceFetchWorks(server.url);
    expect(server.output(), "the server log").not.toMatch(/already exists/);
  }

  it("GET /groups/%00 (describe a group named NUL)", async () => {
    await hostile("describe", () => rawRequest(server.url, "GET", "/api/v1/groups/%00"));
  });

  it("POST /groups/a%00b/offsets/reset", async () => {
    await hostile("reset", () =>
      rawRequest(server.url, "POST", "/api/v1/groups/a%00b/offsets/reset", json({ to: { to: "earliest" }, dryRun: false })),
    );
  });

  it("DELETE /groups/a%00b/offsets?topic=…", async () => {
    await hostile("delete offsets", () => rawRequest(server.url, "DELETE", `/api/v1/groups/a%00b/offsets?topic=${topic}`));
  });

  for (const id of ["a\u0000b", "x\ud800y"]) {
    it(`POST /producers with transactionalId ${JSON.stringify(id)}`, async () => {
      await hostile("init producer", () => rawRequest(server.url, "POST", "/api/v1/producers", json({ transactionalId: id })));
    });
  }

  it('a member\'s commit with metadata "m\\u0000"', async () => {
    const joined = await rawRequest(server.url, "POST", "/api/v1/groups/meta-g/members", json({ topics: [topic] }));
    expect(joined.status, joined.text).toBe(201);
    const { memberId } = joined.body as { memberId: string };
    let { memberEpoch, assignment } = joined.body as { memberEpoch: number; assignment: unknown[] };
    for (let i = 0; i < 20 && assignment.length === 0; i++) {
      const hb = await rawRequest(
        server.url,
        "POST",
        `/api/v1/groups/meta-g/members/${memberId}/heartbeat`,
        json({ memberEpoch, ownedPartitions: assignment }),
      );
      expect(hb.status, hb.text).toBe(200);
      ({ memberEpoch, assignment } = hb.body as { memberEpoch: number; assignment: unknown[] });
    }
    await hostile("commit", () =>
      rawRequest(
        server.url,
        "POST",
        `/api/v1/groups/meta-g/members/${memberId}/offsets`,
        json({ memberEpoch, offsets: [{ topic, partition: 0, offset: 0, metadata: "m\u0000" }] }),
      ),
    );
  });
});
