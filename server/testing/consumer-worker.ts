/**
 * A group consumer process for rebalance tests: `node --import tsx server/testing/consumer-worker.ts`
 * with its settings in the environment (WORKER_BASE_URL, WORKER_GROUP, WORKER_TOPICS (comma
 * separated), WORKER_CLIENT_ID, WORKER_DELAY_MS per record, WORKER_AUTO_OFFSET_RESET,
 * WORKER_AUTO_COMMIT_MS). Writes one JSON object per line on stdout (pipes are written
 * synchronously, so a SIGKILL loses nothing already logged):
 *   {ev:"joined", memberId, memberEpoch, reason, t}
 *   {ev:"assigned"|"revoked", memberId, memberEpoch, partitions:[{topic,partition}], owned:[...], reason?, t}
 *   {ev:"record", memberId, memberEpoch, topic, partition, offset, key, value, t}   (after processing)
 *   {ev:"commit", memberId, memberEpoch, offsets, t} · {ev:"error", code, message, t} · {ev:"stopped", t}
 * `t` is wall-clock milliseconds with sub-millisecond precision, comparable across processes.
 * SIGTERM stops the consumer cleanly (commit, leave) and exits 0.
 */
import { Consumer, type AutoOffsetReset } from "../client/consumer.ts";

const env = (name: string, fallback?: string): string => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`${name} is required`);
  return v;
};

const now = () => performance.timeOrigin + performance.now();
const log = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify({ ...o, pid: process.pid, t: now() }) + "\n");
const delayMs = Number(env("WORKER_DELAY_MS", "0"));

const consumer = new Consumer({
  baseUrl: env("WORKER_BASE_URL"),
  groupId: env("WORKER_GROUP"),
  clientId: env("WORKER_CLIENT_ID", `worker-${process.pid}`),
  autoOffsetReset: env("WORKER_AUTO_OFFSET_RESET", "earliest") as AutoOffsetReset,
  autoCommitIntervalMs: Number(env("WORKER_AUTO_COMMIT_MS", "500")),
  maxRecords: Number(env("WORKER_MAX_RECORDS", "200")),
  retryBackoffMs: 200,
});
consumer.on("joined", (e) => log({ ev: "joined", ...e }));
consumer.on("assigned", (e) =>
  log({ ev: "assigned", memberId: e.memberId, memberEpoch: e.memberEpoch, partitions: e.partitions, owned: e.assignment }),
);
consumer.on("revoked", (e) =>
  log({ ev: "revoked", memberId: e.memberId, memberEpoch: e.memberEpoch, partitions: e.partitions, owned: e.assignment, reason: e.reason }),
);
consumer.on("commit", (e) => log({ ev: "commit", ...e }));
consumer.on("error", (e) => log({ ev: "error", code: (e as { code?: string }).code ?? e.name, message: e.message }));

consumer.subscribe({ topics: env("WORKER_TOPICS").split(",") });

let stopping = false;
process.on("SIGTERM", () => {
  if (stopping) return;
  stopping = true;
  void consumer.stop().then(
    () => {
      log({ ev: "stopped" });
      process.exit(0);
    },
    (e) => {
      log({ ev: "error", code: "STOP_FAILED", message: String(e) });
      process.exit(1);
    },
  );
});

await consumer.run({
  async eachMessage({ topic, partition, message, memberEpoch }) {
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    log({
      ev: "record",
      memberId: consumer.member.memberId,
      memberEpoch,
      topic,
      partition,
      offset: message.offset,
      key: message.key?.toString("utf8") ?? null,
      value: message.value?.toString("utf8") ?? null,
    });
  },
});
log({ ev: "running", memberId: consumer.member.memberId });
