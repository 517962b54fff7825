/**
 * What each scenario created in its last run (topics, groups, pipelines) and the run's number,
 * kept apart from the server's memory: after a restart (or a crash) mid-run, the scenario's
 * topics and its pipeline are still there, and only this record lets a reset delete exactly
 * them — a scenario never touches what it did not create, so without it the next start would be
 * refused for topics of its own names. Run numbers, part of its group and pipeline names, go on
 * from the highest recorded, so a new run never meets an old run's committed offsets.
 */

export interface OwnedByRun {
  run: number;
  topics: string[];
  groups: string[];
  pipelines: string[];
}

export interface ScenarioLedger {
  /** Every scenario's last run, by scenario id. */
  load(): Promise<Map<string, OwnedByRun>>;
  /** Records what a run owns now (replacing what was recorded); null once a reset deleted it all. */
  save(scenarioId: string, owned: OwnedByRun | null): Promise<void>;
}

/** A ledger that forgets with the process (tests of the manager alone). */
export class MemoryScenarioLedger implements ScenarioLedger {
  private readonly runs = new Map<string, OwnedByRun>();

  async load(): Promise<Map<string, OwnedByRun>> {
    return new Map([...this.runs].map(([k, v]) => [k, structuredClone(v)]));
  }

  async save(scenarioId: string, owned: OwnedByRun | null): Promise<void> {
    if (owned) this.runs.set(scenarioId, structuredClone(owned));
    else this.runs.delete(scenarioId);
  }
}
