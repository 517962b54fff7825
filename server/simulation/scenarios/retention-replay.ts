/**
 * Retention & replay: a topic keeps its history, so a group reset to the earliest offset or to a
 * time replays it into a new consumer (the records replayed counted, equal to the history the
 * broker holds from there); then a short retention.ms makes the cleaner delete the old batches
 * and the partitions' log start offsets move (read from the broker's partition offsets).
 */
import type { Admin } from "../../client/admin.ts";
import type { ResetTarget } from "../../schemas/group.ts";
import type { ScenarioContext, ScenarioScript } from "./scenario-script.ts";

const TOPIC = "scenario-retention.events";
const PARTITIONS = 3;
const RATE = 100;
/** The short retention set at the end: every batch older than this is deleted by the cleaner. */
const SHORT_RETENTION_MS = 5000;
/** The cleaner runs every 30 s by default: wait a few of its runs. */
const CLEANER_WAIT_MS = 120_000;

async function partitionOffsets(admin: Admin): Promise<{ logStart: number[]; end: number[]; held: number }> {
  const parts = (await admin.describeTopic(TOPIC)).partitions.sort((a, b) => a.partition - b.partition);
  const logStart = parts.map((p) => p.logStartOffset);
  const end = parts.map((p) => p.highWatermark);
  return { logStart, end, held: end.reduce((s, e, i) => s + e - logStart[i], 0) };
}

/**
 * Lets the producer write for `ms`, then pauses it and waits until every record it sent is in the
 * log: its records in flight answered first (a batch still on its way when the log and the count
 * of acknowledged records agreed made the history 6 records short in a CI run).
 */
async function produceFor(ctx: ScenarioContext, producerId: string, ms: number): Promise<void> {
  ctx.simulations.updateProducer(producerId, { paused: false });
  await ctx.sleep(ms);
  ctx.simulations.updateProducer(producerId, { paused: true });
  await ctx.simulations.flushProducer(producerId);
  await ctx.until(
    "the producer's records acknowledged",
    async () => ({
      inLog: (await partitionOffsets(ctx.admin)).end.reduce((s, e) => s + e, 0),
      sent: ctx.simulations.getProducer(producerId),
    }),
    (v) => v.sent.errors === 0 && v.inLog === v.sent.produced,
    30_000,
  );
}

/**
 * A new consumer in the group (the previous one left first: offsets are reset only in an empty
 * group) after resetting its committed offsets to `to`; resolves with the records it read once
 * it caught up with the end of the log.
 */
async function replay(
  ctx: ScenarioContext,
  groupId: string,
  previous: string,
  to: ResetTarget,
  expected: number,
): Promise<{ consumer: string; replayed: number }> {
  await ctx.simulations.deleteSimulation(previous);
  await ctx.until(
    "the previous consumer gone from the group",
    () => ctx.admin.describeGroup(groupId),
    (g) => g.members.length === 0,
    30_000,
  );
  await ctx.admin.resetOffsets(groupId, to, { dryRun: false });
  const g = await readAll(ctx, groupId);
  const done = await ctx.until(
    `the new consumer to replay ${expected} records`,
    async () => ({ lag: (await ctx.admin.describeGroup(groupId)).totalLag, sim: ctx.simulations.getGroup(g) }),
    (v) => v.lag === 0 && v.sim.processed >= expected,
    60_000,
  );
  return { consumer: g, replayed: done.sim.processed };
}

/** A simulated consumer of one member in `groupId`, from the committed offsets (earliest without any). */
async function readAll(ctx: ScenarioContext, groupId: string): Promise<string> {
  const g = await ctx.simulations.createGroup({
    groupId,
    topics: [TOPIC],
    members: 1,
    processingMsPerRecord: 2,
    commitMode: "per-batch",
    autoOffsetReset: "earliest",
  });
  void ctx.own("simulation", g.id);
  return g.id;
}

export const retentionReplay: ScenarioScript = {
  id: "retention-replay",
  title: "Retention & replay",
  explanation:
    "A topic is a log, not a queue: reading a record does not remove it. A group's committed offsets can be reset — to the earliest offset or to a time — " +
    "and a new consumer then replays that history, exactly as many records as the log holds from there. " +
    "Records leave only by retention: set a short retention.ms and the cleaner deletes the old batches; the partitions' log start offset moves up and that history is gone.",
  topics: { [TOPIC]: PARTITIONS },
  async run(ctx) {
    const groupId = `scenario-retention.audit-${ctx.run}`;
    const producer = await ctx.simulations.createProducer({
      topic: TOPIC,
      ratePerSec: RATE,
      keys: { type: "uniform", count: 1000 },
      value: { type: "json", template: { order: "{{key}}", seq: "{{seq}}", at: "{{now}}" } },
      clientId: `scenario-retention-shop-${ctx.run}`,
      idempotent: true,
      paused: true,
    });
    void ctx.own("simulation", producer.id);
    await produceFor(ctx, producer.id, 3000);
    const early = (await partitionOffsets(ctx.admin)).held;
    ctx.step(`A producer wrote ${early} orders to ${TOPIC} (${PARTITIONS} partitions) over 3 s`);
    await ctx.sleep(1000);
    const since = Date.now();
    ctx.step(`One second later (at ${new Date(since).toISOString().slice(11, 23)} UTC) it writes 3 s more`);
    await ctx.sleep(100);
    await produceFor(ctx, producer.id, 3000);
    const history = (await partitionOffsets(ctx.admin)).held;
    const fromTime = await ctx.admin.listOffsets(TOPIC, since);
    const { end } = await partitionOffsets(ctx.admin);
    const sinceCount = fromTime.partitions.reduce((s, p) => s + end[p.partition] - (p.offset ?? end[p.partition]), 0);
    ctx.step(`The log holds ${history} records; ${sinceCount} of them are from ${new Date(since).toISOString().slice(11, 23)} on`);

    const first = await readAll(ctx, groupId);
    await ctx.own("group", groupId);
    const read = await ctx.until(
      "the group to read the whole history",
      async () => ({ lag: (await ctx.admin.describeGroup(groupId)).totalLag, sim: ctx.simulations.getGroup(first) }),
      (v) => v.lag === 0 && v.sim.processed >= history,
      60_000,
    );
    ctx.step(`Group ${groupId} read all ${read.sim.processed} records and committed: lag 0. Reading removed nothing from the log`);

    const earliest = await replay(ctx, groupId, first, { to: "earliest" }, history);
    const replayedEarliest = earliest.replayed;
    ctx.step(`Offsets reset to earliest: a new consumer replayed ${replayedEarliest} records (the log holds ${history})`);
    const { replayed: replayedSince } = await replay(ctx, groupId, earliest.consumer, { to: "timestamp", timestamp: since }, sinceCount);
    ctx.step(
      `Offsets reset to ${new Date(since).toISOString().slice(11, 23)}: a new consumer replayed ${replayedSince} records (${sinceCount} written since)`,
    );

    const before = await partitionOffsets(ctx.admin);
    ctx.simulations.updateProducer(producer.id, { paused: false });
    await ctx.admin.updateTopicConfigs(TOPIC, { "retention.ms": SHORT_RETENTION_MS });
    const cleanerFrom = Date.now();
    ctx.step(
      `retention.ms set to ${SHORT_RETENTION_MS} ms while the producer writes on: log start offsets ${before.logStart.join(" · ")}; the cleaner deletes batches older than that on its next run`,
    );
    const after = await ctx.until(
      "the cleaner to delete the old batches (every log start offset moved)",
      () => partitionOffsets(ctx.admin),
      (o) => o.logStart.every((s, i) => s > before.logStart[i]),
      CLEANER_WAIT_MS,
    );
    const deletedAfterMs = Date.now() - cleanerFrom;
    ctx.simulations.updateProducer(producer.id, { paused: true });
    const deleted = after.logStart.reduce((s, o, i) => s + o - before.logStart[i], 0);
    ctx.step(
      `${(deletedAfterMs / 1000).toFixed(1)} s later the cleaner had deleted ${deleted} old records: log start offsets ${after.logStart.join(" · ")}, the log keeps the last ${after.held}`,
    );
    const reached =
      replayedEarliest === history &&
      replayedSince === sinceCount &&
      sinceCount > 0 &&
      sinceCount < history &&
      after.logStart.every((s, i) => s > before.logStart[i]);
    return {
      reached,
      summary:
        `Reset to earliest, a new consumer replayed ${replayedEarliest} of the ${history} records in the log; reset to a time, ${replayedSince} (the ${sinceCount} written since). ` +
        `With retention.ms=${SHORT_RETENTION_MS} the cleaner deleted ${deleted} old records: the log start offsets moved from ${before.logStart.join(" · ")} to ${after.logStart.join(" · ")}`,
      measures: {
        history,
        replayedFromEarliest: replayedEarliest,
        writtenSinceTime: sinceCount,
        replayedFromTime: replayedSince,
        retentionMs: SHORT_RETENTION_MS,
        logStartBefore: before.logStart,
        logStartAfter: after.logStart,
        recordsDeleted: deleted,
        deletedAfterMs,
      },
    };
  },
};
