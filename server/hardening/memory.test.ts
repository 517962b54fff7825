/**
 * Memory of the embedded database. PGlite's WASM memory only grows, so the store keeps every
 * statement small: a large group commit goes out as several append statements of at most
 * 4 MiB in one transaction. Checked on both databases: the offsets run on contiguously across
 * the statements, every payload reads back, and a failure in a later statement writes nothing.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeRecordBatch } from "../broker/protocol/record-batch.ts";
import type { BatchToAppend } from "../broker/store/log-store.ts";
import { PostgresLogStore } from "../broker/store/postgres-log-store.ts";
import type { Database } from "../db/database.ts";
import { createScratchDatabase, DATABASE_KINDS, openScratch, type ScratchDatabase } from "../testing/databases.ts";

/** A batch of `records` records of `valueBytes` bytes each, as a producer sends it. */
function batch(records: number, valueBytes: number, fill: number): BatchToAppend {
  const payload = encodeRecordBatch({
    baseOffset: 0,
    records: Array.from({ length: records }, () => ({ key: null, value: Buffer.alloc(valueBytes, fill), headers: [], timestamp: 1 })),
  });
  return {
    payload,
    recordCount: records,
    lastOffsetDelta: records - 1,
    firstTimestamp: 1,
    maxTimestamp: 1,
    producerId: -1,
    producerEpoch: -1,
    baseSequence: -1,
    isTransactional: false,
    isControl: false,
  };
}

describe.each(DATABASE_KINDS)("a group commit larger than one statement (%s)", (kind) => {
  let scratch: ScratchDatabase;
  let db: Database;
  let log: PostgresLogStore;
  const topicId = randomUUID();

  beforeAll(async () => {
    scratch = await createScratchDatabase(kind);
    db = await openScratch(scratch);
    log = new PostgresLogStore(db.pool, db.prisma, { copyReads: db.kind === "postgres" });
    await log.createTopic({ id: topicId, name: "big-commits", partitions: 1, configs: {}, createdAt: new Date() });
  });
  afterAll(async () => {
    await db?.close();
    await scratch?.drop();
  });

  it("writes ~11 MiB in one commit with contiguous offsets, every payload intact", async () => {
    // 11 batches of 1,000 × 1 KiB: three statements of at most 4 MiB
    const batches = Array.from({ length: 11 }, (_, i) => batch(1000, 1024, i + 1));
    const out = await log.append(topicId, 0, batches);
    expect(out?.baseOffset).toBe(0);
    expect(out?.state).toMatchObject({
      nextOffset: 11_000,
      recordCount: 11_000,
      sizeBytes: batches.reduce((n, b) => n + b.payload.length, 0),
    });
    const next = await log.append(topicId, 0, [batch(1, 10, 99)]);
    expect(next?.baseOffset).toBe(11_000);
    const read: { baseOffset: number; lastOffset: number; fill: number }[] = [];
    for (let offset = 0; offset < 11_001;) {
      const got = await log.readBatches(topicId, 0, offset, 1000, 4 * 1024 * 1024);
      expect(got.length).toBeGreaterThan(0);
      for (const b of got) read.push({ baseOffset: b.baseOffset, lastOffset: b.lastOffset, fill: b.payload[b.payload.length - 2] }); // the last value byte (a headers count follows);
      offset = got[got.length - 1].lastOffset + 1;
    }
    expect(read).toEqual([
      ...batches.map((_, i) => ({ baseOffset: i * 1000, lastOffset: i * 1000 + 999, fill: i + 1 })),
      { baseOffset: 11_000, lastOffset: 11_000, fill: 99 },
    ]);
  });

  it("writes nothing when a later statement of the commit fails", async () => {
    const before = await log.findPartition(topicId, 0);
    const batches = Array.from({ length: 6 }, (_, i) => batch(1000, 1024, i + 1));
    batches[5] = { ...batches[5], producerEpoch: 70_000 }; // int2 out of range: the second statement fails
    await expect(log.append(topicId, 0, batches)).rejects.toThrow(/out of range/);
    expect(await log.findPartition(topicId, 0)).toEqual(before);
    const tail = await log.readBatches(topicId, 0, before!.nextOffset - 1, 1000);
    expect(tail.map((b) => b.baseOffset)).toEqual([before!.nextOffset - 1]);
    // and the partition takes the next commit where it left off
    expect((await log.append(topicId, 0, [batch(1, 10, 7)]))?.baseOffset).toBe(before!.nextOffset);
  });
});
