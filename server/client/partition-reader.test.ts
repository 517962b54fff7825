/**
 * PartitionReader.poll against a real server: every record visited once, in order, with its
 * offset, key and value, across many polls whose responses grow and shrink (poll reads each
 * response into one reused buffer, so a stale or overrun buffer would show here).
 */
import { describe, expect, it } from "vitest";
import { Producer } from "./producer.ts";
import { PartitionReader } from "./partition-reader.ts";
import { useTestServer } from "../testing/test-server.ts";

const server = useTestServer();

describe("PartitionReader.poll", () => {
  it("visits every record once, in order, through responses of changing sizes", async () => {
    const res = await fetch(`${server.url}/api/v1/topics`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "reader-poll", partitions: 1 }),
    });
    expect(res.status).toBe(201);
    // small records, then large ones, then small again: batches (and responses) of very different sizes
    const sizes = [...Array(300).fill(10), ...Array(40).fill(20_000), ...Array(300).fill(7)];
    const sent = sizes.map((n, i) => ({ key: `k${i}`, value: `${i}:`.padEnd(n, String.fromCharCode(97 + (i % 26))) }));
    const producer = new Producer({ baseUrl: server.url, batchBytes: 64 * 1024, lingerMs: 1 });
    const acks = await producer.sendMany(
      "reader-poll",
      sent.map((r) => ({ ...r, partition: 0 })),
    );
    await producer.flush();
    expect(acks.map((a) => a.offset)).toEqual(sent.map((_, i) => i));

    const reader = new PartitionReader(server.url, "reader-poll", 0, 0);
    const seen: { offset: number; key: string; value: string }[] = [];
    let polls = 0;
    for (;;) {
      const r = await reader.poll((v) => seen.push({ offset: v.offset, key: v.key!.toString(), value: v.value!.toString() }), 48 * 1024);
      polls++;
      expect(r.nextOffset).toBe(reader.offset);
      if (reader.offset >= r.highWatermark) break;
    }
    expect(polls).toBeGreaterThan(5);
    expect(seen).toEqual(sent.map((r, i) => ({ offset: i, key: r.key, value: r.value })));
  });
});
