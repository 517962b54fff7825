/**
 * Consumer groups & failover: 3 members on 12 partitions own 4 each; one is killed (it stops
 * heartbeating, as a crashed process); once its session times out the broker moves its 4
 * partitions to the other two (6 each), and every record is still processed (counted).
 */
import type { ScenarioScript } from "./scenario-script.ts";
import { ownedPerMember, shapeOf, startShop } from "./scenario-script.ts";

const TOPIC = "scenario-failover.orders";

export const consumerGroupsFailover: ScenarioScript = {
  id: "consumer-groups-failover",
  title: "Consumer groups & failover",
  explanation:
    "A consumer group shares a topic's partitions among its members: 3 members on 12 partitions own 4 each. " +
    "When one crashes it stops heartbeating; after the session timeout the broker removes it and gives its partitions to the survivors (6 each). " +
    "They resume from its last committed offsets, so no record is lost (some may be read twice).",
  topics: { [TOPIC]: 12 },
  async run(ctx) {
    const groupId = `scenario-failover.payments-${ctx.run}`;
    const { producerId, groupSimulationId: sim } = await startShop(ctx, {
      topic: TOPIC,
      name: "scenario-failover",
      ratePerSec: 100,
      groupId,
      members: 3,
      processingMsPerRecord: 2,
      commitMode: "per-batch",
    });
    const before = await ctx.until(
      "3 members owning 4 partitions each",
      () => ownedPerMember(ctx.admin, groupId),
      (g) => g.state === "Stable" && shapeOf(g.counts) === "4,4,4",
      60_000,
    );
    ctx.step(`Group ${groupId}: 3 members own 4 partitions each`);
    const victim = ctx.simulations.getGroup(sim).members[1];
    await ctx.simulations.actOnMember(sim, 1, "kill");
    const killedAt = Date.now();
    ctx.step(`Member ${victim.clientId} crashed: it stops heartbeating, its partitions wait for its session to time out`);
    const after = await ctx.until(
      "2 members owning 6 partitions each",
      () => ownedPerMember(ctx.admin, groupId),
      (g) => g.state === "Stable" && shapeOf(g.counts) === "6,6",
      180_000,
    );
    const takeoverMs = Date.now() - killedAt;
    ctx.step(`After ${(takeoverMs / 1000).toFixed(1)} s the broker removed it: the 2 survivors own 6 partitions each`);
    ctx.simulations.updateProducer(producerId, { paused: true });
    ctx.step("The producer stops; the survivors read to the end of every partition");
    const produced = async () =>
      (await ctx.admin.describeTopic(TOPIC)).partitions.reduce((s, p) => s + p.highWatermark - p.logStartOffset, 0);
    let total = await produced();
    const done = await ctx.until(
      "every produced record processed and committed",
      async () => {
        total = await produced();
        const g = await ctx.admin.describeGroup(groupId);
        return { lag: g.totalLag, sim: ctx.simulations.getGroup(sim) };
      },
      (v) => v.lag === 0 && v.sim.distinct >= total,
      60_000,
    );
    const lost = Math.max(0, total - done.sim.distinct);
    const duplicates = done.sim.processed - done.sim.distinct;
    ctx.step(`${total} records produced, ${done.sim.distinct} distinct records processed, ${lost} lost, ${duplicates} read twice`);
    return {
      reached: shapeOf(before.counts) === "4,4,4" && shapeOf(after.counts) === "6,6" && lost === 0 && done.sim.skipped === 0,
      summary: `Before the crash 3 members owned 4 partitions each; ${(takeoverMs / 1000).toFixed(1)} s after it the 2 survivors owned 6 each. ${total} records produced, ${lost} lost, ${duplicates} processed twice`,
      measures: {
        partitionsBefore: [...before.counts.values()].sort((a, b) => a - b),
        partitionsAfter: [...after.counts.values()].sort((a, b) => a - b),
        takeoverMs,
        produced: total,
        processedDistinct: done.sim.distinct,
        lost,
        duplicates,
        committedLag: done.lag,
      },
    };
  },
};
