/** Many records with distinct values, produced to a real server as pipeline tests need them. */
import { Producer } from "../client/index.ts";

/**
 * `count` records to `partition` of `topic`: value `{"v": "<pad p's><n>"}` (each value its own),
 * key `k<n mod keys>` (by default each key its own too), sent 50,000 at a time.
 */
export async function produceDistinct(
  baseUrl: string,
  topic: string,
  count: number,
  partition: number,
  { keys = count, pad = 40 }: { keys?: number; pad?: number } = {},
): Promise<void> {
  const producer = new Producer({ baseUrl, batchBytes: 1024 * 1024 });
  const padding = "p".repeat(pad);
  for (let from = 0; from < count; from += 50_000)
    await producer.write(
      topic,
      Array.from({ length: Math.min(50_000, count - from) }, (_, i) => ({
        key: `k${(from + i) % keys}`,
        value: JSON.stringify({ v: `${padding}${from + i}` }),
        partition,
      })),
    );
}
