import type { PrismaClient } from "../../db/generated/prisma/client.ts";
import type { OwnedByRun, ScenarioLedger } from "./scenario-ledger.ts";

/** The scenario ledger in PostgreSQL (`scenario_runs`: one row per scenario, its last run). */
export class PostgresScenarioLedger implements ScenarioLedger {
  constructor(private readonly prisma: PrismaClient) {}

  async load(): Promise<Map<string, OwnedByRun>> {
    const rows = await this.prisma.scenarioRun.findMany();
    return new Map(rows.map((r) => [r.scenarioId, { run: r.run, topics: r.topics, groups: r.groups, pipelines: r.pipelines }]));
  }

  async save(scenarioId: string, owned: OwnedByRun | null): Promise<void> {
    if (owned === null) {
      await this.prisma.scenarioRun.deleteMany({ where: { scenarioId } });
      return;
    }
    const data = { run: owned.run, topics: owned.topics, groups: owned.groups, pipelines: owned.pipelines };
    await this.prisma.scenarioRun.upsert({ where: { scenarioId }, create: { scenarioId, ...data }, update: data });
  }
}
