/**
 * Partitions & parallelism: `orders` has 12 partitions; a group reads each partition with at most
 * one member, so up to 12 members read in parallel and a 13th has nothing to read.
 */
import type { ScenarioScript } from "./scenario-script.ts";
import { ownedPerMember, shapeOf, startShop } from "./scenario-script.ts";

const TOPIC = "scenario-parallelism.orders";

export const partitionsParallelism: ScenarioScript = {
  id: "partitions-parallelism",
  title: "Partitions & parallelism",
  explanation:
    "A topic's partitions are its unit of parallelism: within one consumer group each partition is read by exactly one member. " +
    "With 12 partitions, 12 members read in parallel, one partition each; a 13th member joins but gets no partition and idles.",
  topics: { [TOPIC]: 12 },
  async run(ctx) {
    const groupId = `scenario-parallelism.readers-${ctx.run}`;
    const { groupSimulationId: sim } = await startShop(ctx, {
      topic: TOPIC,
      name: "scenario-parallelism",
      ratePerSec: 120,
      groupId,
      members: 12,
      processingMsPerRecord: 20,
      commitMode: "auto",
    });
    const twelve = await ctx.until(
      "12 members owning one partition each",
      () => ownedPerMember(ctx.admin, groupId),
      (g) => g.state === "Stable" && shapeOf(g.counts) === Array(12).fill(1).join(","),
      60_000,
    );
    ctx.step(`Group ${groupId}: ${twelve.counts.size} members, each reads 1 of the 12 partitions`);
    await ctx.simulations.addMembers(sim, 1);
    const thirteen = await ctx.until(
      "a 13th member with no partition",
      () => ownedPerMember(ctx.admin, groupId),
      (g) => g.state === "Stable" && g.counts.size === 13 && [...g.counts.values()].filter((n) => n === 0).length === 1,
      60_000,
    );
    ctx.step("A 13th member joined: every partition already has its member, so it owns none and idles");
    // what each member reads over a few seconds, measured from its records
    const before = ctx.simulations.getGroup(sim).members.map((m) => m.processed);
    await ctx.sleep(3000);
    const after = ctx.simulations.getGroup(sim).members.map((m) => m.processed);
    const processed = after.map((n, i) => n - (before[i] ?? 0));
    const counts = [...thirteen.counts.values()];
    const busy = counts.filter((n) => n === 1).length;
    const idle = counts.filter((n) => n === 0).length;
    const reading = processed.filter((n) => n > 0).length;
    ctx.step(`Over 3 s, ${reading} members processed records; the idle one processed ${processed[12] ?? 0}`);
    return {
      reached: busy === 12 && idle === 1 && (processed[12] ?? 0) === 0,
      summary: `${busy} of 13 members read one partition each in parallel; ${idle} owns no partition and idles (a partition has one reader per group)`,
      measures: {
        partitions: 12,
        members: counts.length,
        busyMembers: busy,
        idleMembers: idle,
        partitionsPerMember: counts.sort((a, b) => b - a),
        recordsPerMemberIn3s: processed,
      },
    };
  },
};
