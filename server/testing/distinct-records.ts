/** Many records with distinct keys and values, produced to a real server as pipeline tests need them. */
import { Producer } from "../client/index.ts";

/**
 * `count` records to `partition` of `topic`: key `k<n>`, value `{"v": "<40 p's><n>"}` (each
 * value its own), sent 50,000 at a time.
 */
export async function produceDistinct(baseUrl: string, topic: string, count: number, partition: number): Promise<void> {
  const producer = new Producer({ baseUrl, batchBytes: 1024 * 1024 });
  const pad = "p".repeat(40);
  for (let from = 0; from < count; from += 50_000)
    await producer.sendMany(
      topic,
      Array.from({ length: Math.min(50_000, count - from) }, (_, i) => ({
        key: `k${from + i}`,
        value: JSON.stringify({ v: `${pad}${from + i}` }),
        partition,
      })),
    );
}
