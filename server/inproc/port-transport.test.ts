/**
 * The client's transport across a MessagePort (what pipeline threads use), against a transport
 * on the other side that answers as the broker's does: values and bytes arrive as sent (bytes as
 * Buffers), a broker error arrives as the client's typed error with its status, code and details,
 * any other failure as a 500 naming it, and an aborted long poll ends the wait on the other side.
 */
import { MessageChannel } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import { TributaryClientError, type ClientTransport } from "../client/index.ts";
import { portTransport, servePort } from "./port-transport.ts";

const channels: MessageChannel[] = [];
afterEach(() => {
  for (const c of channels.splice(0)) {
    c.port1.close();
    c.port2.close();
  }
});

function across(broker: Partial<ClientTransport>): ClientTransport {
  const c = new MessageChannel();
  channels.push(c);
  servePort(c.port1, broker as ClientTransport);
  return portTransport(c.port2);
}

describe("port transport", () => {
  it("carries values and bytes both ways; bytes arrive as Buffers", async () => {
    let produced: Buffer | null = null;
    const t = across({
      produce: async (_topic, _p, batches) => {
        produced = batches;
        return { baseOffset: 41 };
      },
      fetchPartition: async () => ({
        batches: [Buffer.from("abc"), Buffer.from("de")],
        highWatermark: 5,
        lastStableOffset: 5,
        nextOffset: 5,
      }),
      pollGroup: async () => [{ topic: "t", partition: 2, fromOffset: 3, nextOffset: 4, batches: [Buffer.from("xyz")] }],
    });
    expect(await t.produce("t", 0, Buffer.from([1, 2, 3]), { transactionalId: "tx" })).toEqual({ baseOffset: 41 });
    expect(Buffer.isBuffer(produced)).toBe(true);
    expect([...produced!]).toEqual([1, 2, 3]);
    const f = await t.fetchPartition("t", 0, { offset: 0, maxBytes: 100, waitMs: 0 });
    expect(f.batches.map((b) => (Buffer.isBuffer(b) ? b.toString() : "not a Buffer"))).toEqual(["abc", "de"]);
    expect(f.highWatermark).toBe(5);
    const parts = await t.pollGroup("g", "m", { maxRecords: 10, maxBytes: 100, waitMs: 0 });
    expect(parts).toMatchObject([{ topic: "t", partition: 2, fromOffset: 3, nextOffset: 4 }]);
    expect(Buffer.isBuffer(parts[0].batches[0]) && parts[0].batches[0].toString()).toBe("xyz");
  });

  it("a broker error arrives typed, with its status, code and details; anything else as a 500 naming it", async () => {
    const t = across({
      heartbeat: async () => {
        throw new TributaryClientError(409, "STALE_MEMBER_EPOCH", "epoch 3 is stale", { memberEpoch: 4 });
      },
      leaveGroup: async () => {
        throw new Error("socket hang up");
      },
    });
    const e = await t.heartbeat("g", "m", { memberEpoch: 3, ownedPartitions: [] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TributaryClientError);
    expect(e).toMatchObject({ status: 409, code: "STALE_MEMBER_EPOCH", message: "epoch 3 is stale", details: { memberEpoch: 4 } });
    const other = await t.leaveGroup("g", "m").catch((x: unknown) => x);
    expect(other).toMatchObject({ status: 500, message: "the broker failed: socket hang up" });
  });

  it("aborting a long poll ends the wait on the other side and rejects with an AbortError", async () => {
    let sawAbort = false;
    const t = across({
      pollGroup: (_g, _m, _q, signal) =>
        new Promise((_resolve, reject) => {
          signal!.addEventListener("abort", () => {
            sawAbort = true;
            const e = new Error("the poll was aborted");
            e.name = "AbortError";
            reject(e);
          });
        }),
    });
    const controller = new AbortController();
    const polling = t.pollGroup("g", "m", { maxRecords: 1, maxBytes: 1, waitMs: 60_000 }, controller.signal).catch((x: Error) => x);
    await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    const e = await polling;
    expect(sawAbort).toBe(true);
    expect(e).toMatchObject({ name: "AbortError" });
  });

  it("once the thread ended, the members it joined leave, and a join answered after that leaves at once", async () => {
    const left: string[] = [];
    let answerLateJoin!: () => void;
    const lateJoin = new Promise<void>((r) => (answerLateJoin = r));
    const c = new MessageChannel();
    channels.push(c);
    const served = servePort(c.port1, {
      joinGroup: async (groupId) => {
        if (groupId === "late") await lateJoin;
        return { memberId: `${groupId}-member`, memberEpoch: 1, heartbeatIntervalMs: 1000, assignment: [] };
      },
      leaveGroup: async (groupId, memberId) => {
        left.push(`${groupId}/${memberId}`);
      },
    } as Partial<ClientTransport> as ClientTransport);
    const t = portTransport(c.port2);
    await t.joinGroup("early", { topics: ["x"] });
    // a join on its way when the thread ends: its answer comes after
    void t.joinGroup("late", { topics: ["x"] }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 20));
    await served.ended();
    expect(left).toEqual(["early/early-member"]);
    answerLateJoin();
    for (let i = 0; i < 50 && left.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(left).toEqual(["early/early-member", "late/late-member"]);
  });
});
