/**
 * A group that has read to the end of partitions whose last batch is a transaction marker has
 * lag 0 on every partition: consumers commit their position (the fetch's next offset, past
 * control batches), not the last record's offset + 1 — through the TypeScript client, a
 * WebSocket group member and REST polls (JSON and binary), under both isolation levels, on both
 * databases, against a real server.
 */
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { Admin } from "./admin.ts";
import { Consumer, decodeGroupPoll } from "./consumer.ts";
import { Producer } from "./producer.ts";
import type { TGroup } from "../schemas/group.ts";
import type { TLiveServerMessage } from "../schemas/live.ts";
import { DATABASE_KINDS } from "../testing/databases.ts";
import { useTestServer } from "../testing/test-server.ts";
import { apiJson } from "../testing/api-client.ts";

const PARTITIONS = 3;
const PER_TXN = 4;
/** Records of each kind per partition: two committed transactions and an aborted one between them. */
const COMMITTED_RECORDS = 2 * PER_TXN * PARTITIONS;
const ALL_RECORDS = 3 * PER_TXN * PARTITIONS;
type Isolation = "read_committed" | "read_uncommitted";
const expectedCount = (isolation: Isolation) => (isolation === "read_committed" ? COMMITTED_RECORDS : ALL_RECORDS);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(DATABASE_KINDS)("lag after reading to a transaction marker (%s)", (kind) => {
  const server = useTestServer({ TRIBUTARY_GROUP_SESSION_TIMEOUT_MS: "20000", TRIBUTARY_GROUP_HEARTBEAT_INTERVAL_MS: "300" }, kind);

  /** A request that must succeed; its JSON answer. */
  function api<T>(method: string, path: string, body?: unknown): Promise<T> {
    return apiJson(server.url, method, `/api/v1${path}`, body) as Promise<T>;
  }

  /** A topic whose every partition ends with a commit marker: commit, abort, commit. */
  async function transactionalTopic(topic: string): Promise<void> {
    await new Admin({ baseUrl: server.url }).createTopic({ name: topic, partitions: PARTITIONS });
    const producer = new Producer({ baseUrl: server.url, transactionalId: `tx-${topic}`, lingerMs: 1 });
    await producer.initTransactions();
    for (const outcome of ["commit", "abort", "commit"] as const) {
      producer.beginTransaction();
      const records = Array.from({ length: PER_TXN * PARTITIONS }, (_, i) => ({ value: `${outcome}-${i}`, partition: i % PARTITIONS }));
      await producer.sendMany(topic, records);
      if (outcome === "commit") await producer.commitTransaction();
      else await producer.abortTransaction();
    }
  }

  /** Every partition of the group's topic is committed at its high watermark: lag 0. */
  async function expectNoLag(group: string, topic: string): Promise<void> {
    const g = await api<TGroup>("GET", `/groups/${group}`);
    const offsets = g.offsets.filter((o) => o.topic === topic).sort((a, b) => a.partition - b.partition);
    expect(offsets.map((o) => ({ partition: o.partition, committed: o.committedOffset, lag: o.lag }))).toEqual(
      offsets.map((o) => ({ partition: o.partition, committed: o.highWatermark, lag: 0 })),
    );
    expect(offsets).toHaveLength(PARTITIONS);
    expect(g.totalLag).toBe(0);
  }

  it.each(["read_committed", "read_uncommitted"] as const)("the TypeScript client (%s)", async (isolation) => {
    const topic = `lag-client-${isolation}`;
    const group = `g-client-${isolation}`;
    await transactionalTopic(topic);
    const consumer = new Consumer({
      baseUrl: server.url,
      groupId: group,
      autoOffsetReset: "earliest",
      isolationLevel: isolation,
      autoCommitIntervalMs: 200,
    });
    await consumer.subscribe({ topics: [topic] });
    let seen = 0;
    let allSeen!: () => void;
    const done = new Promise<void>((r) => (allSeen = r));
    await consumer.run({
      eachMessage: async () => {
        if (++seen === expectedCount(isolation)) allSeen();
      },
    });
    await done;
    // the client goes on polling at the end: its position must be past the marker, not before it
    await sleep(1_000);
    await consumer.stop();
    expect(seen).toBe(expectedCount(isolation));
    await expectNoLag(group, topic);
  });

  it("an exactly-once read-process-write loop committing each batch's position with sendOffsetsToTransaction", async () => {
    const topic = "lag-eos-input";
    const output = "lag-eos-output";
    const group = "g-eos";
    await transactionalTopic(topic);
    await new Admin({ baseUrl: server.url }).createTopic({ name: output, partitions: PARTITIONS });
    const producer = new Producer({ baseUrl: server.url, transactionalId: "tx-lag-eos-pipeline", lingerMs: 1 });
    await producer.initTransactions();
    const consumer = new Consumer({
      baseUrl: server.url,
      groupId: group,
      autoOffsetReset: "earliest",
      isolationLevel: "read_committed",
      autoCommit: false,
    });
    consumer.subscribe({ topics: [topic] });
    let seen = 0;
    let allSeen!: () => void;
    const done = new Promise<void>((r) => (allSeen = r));
    // one producer serves every partition: one transaction at a time
    let inTurn: Promise<unknown> = Promise.resolve();
    await consumer.run({
      eachBatch: ({ topic: t, partition, messages, batch }) => {
        const work = inTurn.then(async () => {
          producer.beginTransaction();
          try {
            await producer.sendMany(
              output,
              messages.map((m) => ({ value: `out-${m.value?.toString()}`, partition })),
            );
            await producer.sendOffsetsToTransaction({
              ...consumer.groupMetadata(),
              offsets: [{ topic: t, partition, offset: batch.position }],
            });
            await producer.commitTransaction();
          } catch (e) {
            await producer.abortTransaction().catch(() => undefined);
            throw e;
          }
          seen += messages.length;
          if (seen === COMMITTED_RECORDS) allSeen();
        });
        inTurn = work.catch(() => undefined);
        return work;
      },
    });
    await done;
    await consumer.stop(); // autoCommit false: only the transactions committed offsets
    expect(seen).toBe(COMMITTED_RECORDS);
    await expectNoLag(group, topic);
  });

  it.each(["read_committed", "read_uncommitted"] as const)("a WebSocket group member (%s)", async (isolation) => {
    const topic = `lag-ws-${isolation}`;
    const group = `g-ws-${isolation}`;
    await transactionalTopic(topic);
    const ws = new WebSocket(server.url.replace(/^http/, "ws") + "/ws");
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    let seen = 0;
    const left = new Promise<void>((resolve, reject) => {
      ws.on("message", (data) => {
        const m = JSON.parse(String(data)) as TLiveServerMessage;
        if (m.type === "records") {
          seen += m.records.length;
          if (seen === expectedCount(isolation)) setTimeout(() => ws.send(JSON.stringify({ type: "leave-group", id: "m" })), 1_000);
        } else if (m.type === "group-left") resolve();
        else if (m.type === "error") reject(new Error(JSON.stringify(m.error)));
      });
    });
    ws.send(
      JSON.stringify({ type: "join-group", id: "m", group, topics: [topic], autoOffsetReset: "earliest", isolationLevel: isolation }),
    );
    await left;
    ws.close();
    expect(seen).toBe(expectedCount(isolation));
    await expectNoLag(group, topic);
  });

  interface Member {
    memberId: string;
    memberEpoch: number;
    assignment: { topic: string; partitions: number[] }[];
  }

  async function joinAndSettle(group: string, topic: string, isolation: Isolation): Promise<Member> {
    const m = await api<Member>("POST", `/groups/${group}/members`, {
      topics: [topic],
      autoOffsetReset: "earliest",
      isolationLevel: isolation,
    });
    for (let i = 0; i < 50 && m.assignment.flatMap((a) => a.partitions).length < PARTITIONS; i++) {
      const r = await api<Member>("POST", `/groups/${group}/members/${m.memberId}/heartbeat`, {
        memberEpoch: m.memberEpoch,
        ownedPartitions: m.assignment,
      });
      m.memberEpoch = r.memberEpoch;
      m.assignment = r.assignment;
      await sleep(50);
    }
    expect(m.assignment.flatMap((a) => a.partitions)).toHaveLength(PARTITIONS);
    return m;
  }

  it.each(["read_committed", "read_uncommitted"] as const)("REST JSON polls, committing the member's positions (%s)", async (isolation) => {
    const topic = `lag-rest-${isolation}`;
    const group = `g-rest-${isolation}`;
    await transactionalTopic(topic);
    const m = await joinAndSettle(group, topic, isolation);
    let seen = 0;
    const positions = new Map<number, number>();
    for (let i = 0; i < 100 && seen < expectedCount(isolation); i++) {
      const r = await api<{ records: unknown[]; positions: { topic: string; partition: number; offset: number }[] }>(
        "GET",
        `/groups/${group}/members/${m.memberId}/records?waitMs=200&maxRecords=5`,
      );
      seen += r.records.length;
      for (const p of r.positions) positions.set(p.partition, p.offset);
    }
    expect(seen).toBe(expectedCount(isolation));
    // the positions a poll reports are past the closing markers: each partition's high watermark
    const hw = await api<{ partitions: { partition: number; highWatermark: number }[] }>("GET", `/topics/${topic}`);
    expect([...positions].sort((a, b) => a[0] - b[0])).toEqual(hw.partitions.map((p) => [p.partition, p.highWatermark]));
    await api("POST", `/groups/${group}/members/${m.memberId}/offsets`, { memberEpoch: m.memberEpoch });
    await api("DELETE", `/groups/${group}/members/${m.memberId}`);
    await expectNoLag(group, topic);
  });

  it("REST binary polls, committing each part's next offset (read_committed)", async () => {
    const topic = "lag-rest-binary";
    const group = "g-rest-binary";
    await transactionalTopic(topic);
    const m = await joinAndSettle(group, topic, "read_committed");
    let seen = 0;
    const next = new Map<number, number>();
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${server.url}/api/v1/groups/${group}/members/${m.memberId}/records?waitMs=200&maxRecords=5`, {
        headers: { accept: "application/vnd.kafka.record-batch" },
      });
      expect(res.status).toBe(200);
      const body = Buffer.from(await res.arrayBuffer());
      seen += decodeGroupPoll(body).length;
      const header = JSON.parse(body.toString("utf8", 4, 4 + body.readUInt32BE(0))) as {
        parts: { partition: number; nextOffset: number }[];
      };
      for (const p of header.parts) next.set(p.partition, p.nextOffset);
      if (seen === COMMITTED_RECORDS && header.parts.length === 0) break;
    }
    expect(seen).toBe(COMMITTED_RECORDS);
    const offsets = [...next].map(([partition, offset]) => ({ topic, partition, offset }));
    await api("POST", `/groups/${group}/members/${m.memberId}/offsets`, { memberEpoch: m.memberEpoch, offsets });
    await api("DELETE", `/groups/${group}/members/${m.memberId}`);
    await expectNoLag(group, topic);
  });
});
