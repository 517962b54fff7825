/**
 * The TypeScript client's transactions against a real server: a committed transaction becomes
 * visible to read_committed readers and consumers, an aborted one never does (read_uncommitted
 * still sees its records), the last stable offset holds read_committed readers back while a
 * transaction is open, offsets sent to a transaction reach the group only when it commits, a
 * second instance with the same transactional id fences the first (typed errors), the broker's
 * transaction timeout surfaces as TransactionAbortedError and abortTransaction() recovers, and
 * misuse of the state machine is refused on the client.
 */
import { describe, expect, it } from "vitest";
import { Admin } from "./admin.ts";
import { Consumer, type Message } from "./consumer.ts";
import { PartitionReader, type Isolation } from "./partition-reader.ts";
import { InvalidTxnStateError, Producer, ProducerFencedError, TransactionAbortedError } from "./producer.ts";
import { readBatchHeader } from "../broker/protocol/record-batch.ts";
import { useTestServer } from "../testing/test-server.ts";

const server = useTestServer({
  TRIBUTARY_TXN_CHECK_INTERVAL_MS: "100",
  TRIBUTARY_GROUP_SESSION_TIMEOUT_MS: "10000",
  TRIBUTARY_GROUP_HEARTBEAT_INTERVAL_MS: "300",
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function createTopic(name: string, partitions: number): Promise<void> {
  await new Admin({ baseUrl: server.url }).createTopic({ name, partitions });
}

/** Every record of a partition under `isolation`, following nextOffset over gaps. */
async function readAll(
  topic: string,
  partition: number,
  isolation: Isolation,
): Promise<{ offset: number; key: string | null; value: string }[]> {
  const reader = new PartitionReader(server.url, topic, partition, 0, isolation);
  const out: { offset: number; key: string | null; value: string }[] = [];
  for (;;) {
    const r = await reader.fetch(4 << 20);
    for (const rec of r.records) out.push({ offset: rec.offset, key: rec.key?.toString() ?? null, value: rec.value?.toString() ?? "" });
    const end = isolation === "read_committed" ? r.lastStableOffset : r.highWatermark;
    if (reader.offset >= end) return out;
  }
}

const values = (rs: { value: string }[]) => rs.map((r) => r.value);

function txnProducer(transactionalId: string, extra: Partial<ConstructorParameters<typeof Producer>[0]> = {}): Producer {
  return new Producer({ baseUrl: server.url, transactionalId, lingerMs: 1, ...extra });
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe("transactional producer", () => {
  it("commit: records become visible to read_committed readers; batches carry the transactional flag", async () => {
    await createTopic("t-commit", 2);
    const producer = txnProducer("tx-commit");
    await producer.initTransactions();
    expect(producer.transactionState).toBe("ready");
    producer.beginTransaction();
    const acks = await producer.sendMany(
      "t-commit",
      Array.from({ length: 100 }, (_, i) => ({ value: `c-${i}`, partition: i % 2 })),
    );
    expect(acks).toHaveLength(100);
    // open: read_committed stops before the transaction, read_uncommitted sees it
    for (let p = 0; p < 2; p++) {
      expect(await readAll("t-commit", p, "read_committed")).toEqual([]);
      expect(await readAll("t-commit", p, "read_uncommitted")).toHaveLength(50);
    }
    const admin = new Admin({ baseUrl: server.url });
    const open = await admin.describeTransaction("tx-commit");
    expect(open.state).toBe("Ongoing");
    expect(open.partitions).toEqual([
      { topic: "t-commit", partition: 0 },
      { topic: "t-commit", partition: 1 },
    ]);
    await producer.commitTransaction();
    expect(producer.transactionState).toBe("ready");
    expect((await admin.describeTransaction("tx-commit")).state).toBe("CompleteCommit");
    for (let p = 0; p < 2; p++) {
      const committed = await readAll("t-commit", p, "read_committed");
      expect(values(committed)).toEqual(Array.from({ length: 50 }, (_, i) => `c-${i * 2 + p}`));
      // the stored data batches are transactional and stamped with the producer's id
      const reader = new PartitionReader(server.url, "t-commit", p, 0);
      const { payload, highWatermark, lastStableOffset } = await reader.fetchRaw(1 << 20);
      expect(highWatermark).toBe(51); // 50 records + the commit marker
      expect(lastStableOffset).toBe(51);
      let data = 0;
      let control = 0;
      for (let at = 0; at < payload.length;) {
        const h = readBatchHeader(payload, at);
        expect(h.isTransactional).toBe(true);
        expect(h.producerId).toBe(producer.producerIdentity?.producerId);
        if (h.isControl) control++;
        else data += h.recordCount;
        at += h.sizeBytes;
      }
      expect(data).toBe(50);
      expect(control).toBe(1);
    }
    // the producer keeps going: a second transaction continues the sequences
    producer.beginTransaction();
    await producer.send("t-commit", { value: "second", partition: 0 });
    await producer.commitTransaction();
    expect(values(await readAll("t-commit", 0, "read_committed")).slice(-1)).toEqual(["second"]);
  });

  it("abort: read_committed never sees the records, read_uncommitted does; queued sends are dropped", async () => {
    await createTopic("t-abort", 1);
    const producer = txnProducer("tx-abort");
    await producer.initTransactions();
    producer.beginTransaction();
    await producer.sendMany("t-abort", [{ value: "a1" }, { value: "a2" }, { value: "a3" }]);
    await producer.abortTransaction();
    expect(producer.transactionState).toBe("ready");
    expect(await readAll("t-abort", 0, "read_committed")).toEqual([]);
    expect(values(await readAll("t-abort", 0, "read_uncommitted"))).toEqual(["a1", "a2", "a3"]);

    // a send still waiting in the producer's batch when the abort comes is dropped, not sent
    const slow = txnProducer("tx-abort-linger", { lingerMs: 10_000 });
    await slow.initTransactions();
    slow.beginTransaction();
    const queued = slow.send("t-abort", { value: "never" });
    await slow.abortTransaction();
    await expect(queued).rejects.toBeInstanceOf(TransactionAbortedError);

    // then a committed transaction after the aborted one: only it is visible
    producer.beginTransaction();
    await producer.sendMany("t-abort", [{ value: "b1" }, { value: "b2" }]);
    await producer.commitTransaction();
    const committed = await readAll("t-abort", 0, "read_committed");
    expect(values(committed)).toEqual(["b1", "b2"]);
    // offsets: a1..a3 (0-2), abort marker (3), b1, b2 (4, 5), commit marker (6)
    expect(committed.map((r) => r.offset)).toEqual([4, 5]);
    expect(values(await readAll("t-abort", 0, "read_uncommitted"))).toEqual(["a1", "a2", "a3", "b1", "b2"]);
    // JSON fetch under read_committed agrees and reports the last stable offset
    const res = await fetch(`${server.url}/api/v1/topics/t-abort/partitions/0/records?offset=0&isolation=read_committed`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      records: { value: string }[];
      lastStableOffset: number;
      highWatermark: number;
      nextOffset: number;
    };
    expect(body.records.map((r) => r.value)).toEqual(["b1", "b2"]);
    expect(body.lastStableOffset).toBe(7);
    expect(body.highWatermark).toBe(7);
  });

  it("the last stable offset holds read_committed readers and consumers at an open transaction", async () => {
    await createTopic("t-lso", 1);
    const plain = new Producer({ baseUrl: server.url, lingerMs: 1 });
    await plain.send("t-lso", { value: "before" });
    const producer = txnProducer("tx-lso");
    await producer.initTransactions();
    producer.beginTransaction();
    await producer.send("t-lso", { value: "in-txn" });
    await plain.send("t-lso", { value: "after" }); // non-transactional, behind the open transaction
    const admin = new Admin({ baseUrl: server.url });
    const committedLatest = await admin.listOffsets("t-lso", "latest", "read_committed");
    expect(committedLatest.partitions[0].offset).toBe(1);
    const uncommittedLatest = await admin.listOffsets("t-lso", "latest");
    expect(uncommittedLatest.partitions[0].offset).toBe(3);
    expect(values(await readAll("t-lso", 0, "read_committed"))).toEqual(["before"]);
    expect(values(await readAll("t-lso", 0, "read_uncommitted"))).toEqual(["before", "in-txn", "after"]);

    const seen: { committed: string[]; uncommitted: string[] } = { committed: [], uncommitted: [] };
    const consumers = (["read_committed", "read_uncommitted"] as const).map((isolationLevel) => {
      const c = new Consumer({
        baseUrl: server.url,
        groupId: `g-lso-${isolationLevel}`,
        autoOffsetReset: "earliest",
        isolationLevel,
        waitMs: 100,
      });
      c.subscribe({ topics: ["t-lso"] });
      return { c, isolationLevel };
    });
    for (const { c, isolationLevel } of consumers) {
      await c.run({
        eachMessage: ({ message }) => {
          (isolationLevel === "read_committed" ? seen.committed : seen.uncommitted).push(message.value?.toString() ?? "");
        },
      });
    }
    try {
      await waitFor("read_uncommitted consumer", async () => seen.uncommitted.length === 3);
      await sleep(500);
      expect(seen.committed).toEqual(["before"]);
      await producer.commitTransaction();
      await waitFor("read_committed consumer after commit", async () => seen.committed.length === 3);
      expect(seen.committed).toEqual(["before", "in-txn", "after"]);
      expect(seen.uncommitted).toEqual(["before", "in-txn", "after"]);
    } finally {
      await Promise.all(consumers.map(({ c }) => c.stop()));
    }
  });

  it("sendOffsetsToTransaction: the group's offsets move with a commit, not with an abort (consume-transform-produce)", async () => {
    await createTopic("t-in", 1);
    await createTopic("t-out", 1);
    const input = new Producer({ baseUrl: server.url, lingerMs: 1 });
    await input.sendMany(
      "t-in",
      Array.from({ length: 10 }, (_, i) => ({ value: String(i) })),
    );
    const producer = txnProducer("tx-ctp");
    await producer.initTransactions();
    const consumer = new Consumer({
      baseUrl: server.url,
      groupId: "g-ctp",
      autoOffsetReset: "earliest",
      autoCommit: false,
      isolationLevel: "read_committed",
      waitMs: 100,
      retryBackoffMs: 50,
    });
    consumer.subscribe({ topics: ["t-in"] });
    const batches: Message[][] = [];
    let attempts = 0;
    await consumer.run({
      eachBatch: async ({ topic, partition, messages, position }) => {
        attempts++;
        producer.beginTransaction();
        await producer.sendMany(
          "t-out",
          messages.map((m) => ({ value: `x${m.value?.toString()}` })),
        );
        await producer.sendOffsetsToTransaction({
          ...consumer.groupMetadata(),
          offsets: [{ topic, partition, offset: position }],
        });
        if (attempts === 1) {
          // the first attempt is aborted: its outputs and offsets are dropped, the batch comes again
          await producer.abortTransaction();
          throw new Error("first attempt aborted on purpose");
        }
        await producer.commitTransaction();
        batches.push(messages);
      },
    });
    const admin = new Admin({ baseUrl: server.url });
    try {
      await waitFor("the group's committed offset", async () => {
        const g = await admin.describeGroup("g-ctp");
        return g.offsets.find((o) => o.topic === "t-in" && o.partition === 0)?.committedOffset === 10;
      });
    } finally {
      await consumer.stop();
    }
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(batches.flat().map((m) => m.value?.toString())).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
    expect(values(await readAll("t-out", 0, "read_committed"))).toEqual(Array.from({ length: 10 }, (_, i) => `x${i}`));
    // read_uncommitted also has the aborted first attempt's copy
    expect((await readAll("t-out", 0, "read_uncommitted")).length).toBeGreaterThan(10);

    // offsets sent by a stale member are refused and the transaction can only be aborted
    producer.beginTransaction();
    await producer.send("t-out", { value: "zombie" });
    const stale = await producer
      .sendOffsetsToTransaction({
        groupId: "g-ctp",
        memberId: "no-such-member",
        memberEpoch: 1,
        offsets: [{ topic: "t-in", partition: 0, offset: 0 }],
      })
      .catch((e) => e);
    expect(stale).toMatchObject({ code: "UNKNOWN_MEMBER_ID" });
    expect(producer.transactionState).toBe("abortable-error");
    await expect(producer.commitTransaction()).rejects.toBe(stale);
    await producer.abortTransaction();
    expect(values(await readAll("t-out", 0, "read_committed"))).not.toContain("zombie");
    const g = await admin.describeGroup("g-ctp");
    expect(g.offsets.find((o) => o.topic === "t-in")?.committedOffset).toBe(10);
  });

  it("fencing: a second instance with the same transactional id aborts the first's transaction and fences it", async () => {
    await createTopic("t-fence", 1);
    const first = txnProducer("tx-fence");
    await first.initTransactions();
    const epoch0 = first.producerIdentity!;
    first.beginTransaction();
    await first.send("t-fence", { value: "zombie-1" });

    const second = txnProducer("tx-fence");
    await second.initTransactions();
    const epoch1 = second.producerIdentity!;
    expect(epoch1.producerId).toBe(epoch0.producerId);
    expect(epoch1.producerEpoch).toBeGreaterThan(epoch0.producerEpoch);
    // the first's open transaction was aborted before the second got its epoch
    expect(await readAll("t-fence", 0, "read_committed")).toEqual([]);

    // the zombie's next produce is refused with a typed error, and it stays unusable
    const sendErr = await first.send("t-fence", { value: "zombie-2" }).catch((e) => e);
    expect(sendErr).toBeInstanceOf(ProducerFencedError);
    expect(["INVALID_PRODUCER_EPOCH", "PRODUCER_FENCED"]).toContain(sendErr.code);
    expect(first.transactionState).toBe("fatal-error");
    await expect(first.commitTransaction()).rejects.toBeInstanceOf(ProducerFencedError);
    await expect(first.abortTransaction()).rejects.toBeInstanceOf(ProducerFencedError);
    expect(() => first.beginTransaction()).toThrow(ProducerFencedError);

    second.beginTransaction();
    await second.send("t-fence", { value: "live" });
    await second.commitTransaction();
    expect(values(await readAll("t-fence", 0, "read_committed"))).toEqual(["live"]);
    expect(values(await readAll("t-fence", 0, "read_uncommitted"))).toEqual(["zombie-1", "live"]);

    // a zombie that only commits (nothing more to send) is fenced at the coordinator
    const third = txnProducer("tx-fence");
    second.beginTransaction();
    await second.send("t-fence", { value: "second-open" });
    await third.initTransactions();
    const commitErr = await second.commitTransaction().catch((e) => e);
    expect(commitErr).toBeInstanceOf(ProducerFencedError);
    expect(commitErr.code).toBe("PRODUCER_FENCED");
    expect(values(await readAll("t-fence", 0, "read_committed"))).toEqual(["live"]);
  });

  it("timeout: the broker aborts a transaction open too long; the producer gets TransactionAbortedError and recovers with abortTransaction()", async () => {
    await createTopic("t-timeout", 1);
    const producer = txnProducer("tx-timeout", { transactionTimeoutMs: 300 });
    await producer.initTransactions();
    producer.beginTransaction();
    await producer.send("t-timeout", { value: "late" });
    const admin = new Admin({ baseUrl: server.url });
    await waitFor("the broker to abort the transaction", async () => (await admin.describeTransaction("tx-timeout")).state !== "Ongoing");
    expect(await readAll("t-timeout", 0, "read_committed")).toEqual([]);
    const err = await producer.commitTransaction().catch((e) => e);
    expect(err).toBeInstanceOf(TransactionAbortedError);
    expect(err.code).toBe("TRANSACTION_ABORTED");
    expect(producer.transactionState).toBe("abortable-error");
    const before = producer.producerIdentity!;
    await producer.abortTransaction(); // re-initialises: a new epoch
    expect(producer.transactionState).toBe("ready");
    expect(producer.producerIdentity!.producerEpoch).not.toBe(before.producerEpoch);
    producer.beginTransaction();
    await producer.send("t-timeout", { value: "on-time" });
    await producer.commitTransaction();
    expect(values(await readAll("t-timeout", 0, "read_committed"))).toEqual(["on-time"]);
  });

  it("refuses calls that do not fit the transaction's state, on the client", async () => {
    await createTopic("t-state", 1);
    const producer = txnProducer("tx-state");
    await expect(producer.send("t-state", { value: "x" })).rejects.toBeInstanceOf(InvalidTxnStateError);
    expect(() => producer.beginTransaction()).toThrow(InvalidTxnStateError);
    await producer.initTransactions();
    await expect(producer.send("t-state", { value: "x" })).rejects.toBeInstanceOf(InvalidTxnStateError);
    await expect(producer.commitTransaction()).rejects.toBeInstanceOf(InvalidTxnStateError);
    await expect(producer.abortTransaction()).rejects.toBeInstanceOf(InvalidTxnStateError);
    producer.beginTransaction();
    expect(() => producer.beginTransaction()).toThrow(InvalidTxnStateError);
    // an empty transaction commits without asking the broker
    await producer.commitTransaction();
    const plain = new Producer({ baseUrl: server.url });
    await expect(plain.initTransactions()).rejects.toBeInstanceOf(InvalidTxnStateError);
    expect(await readAll("t-state", 0, "read_uncommitted")).toEqual([]);
  });
});

describe("consumer in a consume-transform-produce loop", () => {
  it("commitOffsets() from a handler fails fast when the membership is lost instead of deadlocking the rejoin", async () => {
    await createTopic("t-lost", 1);
    await new Producer({ baseUrl: server.url, lingerMs: 1 }).sendMany("t-lost", [{ value: "a" }, { value: "b" }]);
    const consumer = new Consumer({
      baseUrl: server.url,
      groupId: "g-lost",
      autoOffsetReset: "earliest",
      autoCommit: false,
      retryBackoffMs: 50,
      waitMs: 100,
    });
    const joins: string[] = [];
    consumer.on("joined", (e) => joins.push(e.reason));
    let lostSeen = false;
    consumer.on("error", (e) => {
      if ((e as { code?: string }).code === "UNKNOWN_MEMBER_ID") lostSeen = true;
    });
    consumer.subscribe({ topics: ["t-lost"] });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const commitResults: unknown[] = [];
    await consumer.run({
      eachBatch: async ({ topic, partition, position }) => {
        await gate; // the first batch is held until the member was removed
        commitResults.push(
          await consumer.commitOffsets([{ topic, partition, offset: position }]).then(
            () => "ok",
            (e) => e,
          ),
        );
      },
    });
    try {
      await waitFor(
        "the first batch to be in the handler",
        async () => consumer.member.memberId !== null && consumer.assignment().length === 1,
      );
      await sleep(200);
      // removed behind its back: the heartbeat learns it and the rejoin waits for the handler
      const res = await fetch(`${server.url}/api/v1/groups/g-lost/members/${consumer.member.memberId}`, { method: "DELETE" });
      expect(res.status).toBe(204);
      await waitFor("the consumer to notice", async () => lostSeen);
      release();
      await waitFor("the rejoin", async () => joins.includes("rejoin"), 10_000);
      expect(commitResults[0]).toMatchObject({ code: "UNKNOWN_MEMBER_ID" });
      // the new member gets the records again (nothing was committed) and can commit them
      await waitFor("a commit by the new member", async () => commitResults.includes("ok"), 10_000);
    } finally {
      release();
      await consumer.stop();
    }
    const g = await new Admin({ baseUrl: server.url }).describeGroup("g-lost");
    expect(g.offsets.find((o) => o.topic === "t-lost")?.committedOffset).toBe(2);
  });
});
