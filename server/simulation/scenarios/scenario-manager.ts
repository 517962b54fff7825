/**
 * The teaching scenarios (issue #17, item 4): each started with one click, run in the background
 * on simulated clients, its steps and its measured outcome read from the broker; reset stops its
 * simulations and deletes the topics and groups it created — never anything else: a topic of its
 * name that it did not create refuses the start.
 *
 * States (a transition table): idle → running → done | failed; start from done or failed resets
 * first; reset from any state ends in idle. What a run creates is recorded in the ledger as it is
 * created (`scenario-ledger.ts`): a run the server stopped in the middle of (a restart, a crash)
 * is shown failed after the restart, with its topics, and a reset then deletes them.
 */
import { Admin } from "../../client/admin.ts";
import { callJson } from "../../client/http-client.ts";
import { TributaryError, hasCode } from "../../errors/tributary-error.ts";
import type { TScenario, TScenarioId } from "../../schemas/topology.ts";
import type { SimulationManager } from "../simulation-manager.ts";
import { assertMove } from "../simulation-states.ts";
import { consumerGroupsFailover } from "./consumer-groups-failover.ts";
import { exactlyOncePayments } from "./exactly-once-payments.ts";
import { ordering } from "./ordering.ts";
import { partitionsParallelism } from "./partitions-parallelism.ts";
import { retentionReplay } from "./retention-replay.ts";
import { MemoryScenarioLedger, type OwnedByRun, type ScenarioLedger } from "./scenario-ledger.ts";
import type { ScenarioContext, ScenarioScript } from "./scenario-script.ts";
import { streamProcessingFraud } from "./stream-processing-fraud.ts";

type State = TScenario["state"];
const MOVES: Readonly<Record<State, readonly State[]>> = {
  idle: ["running"],
  running: ["done", "failed", "idle"],
  done: ["idle"],
  failed: ["idle"],
};

const SCRIPTS: readonly ScenarioScript[] = [
  partitionsParallelism,
  consumerGroupsFailover,
  retentionReplay,
  ordering,
  exactlyOncePayments,
  streamProcessingFraud,
];
const MAX_STEPS = 100;
/** How long a reset keeps trying to delete a group whose crashed member has not expired yet. */
const GROUP_DELETE_RETRY_MS = 180_000;

class Cancelled extends Error {
  constructor() {
    super("the scenario was reset");
  }
}

interface Run {
  state: State;
  startedAt: number | null;
  finishedAt: number | null;
  steps: { at: number; text: string }[];
  outcome: TScenario["outcome"];
  error: string | null;
  /** the run's number (in its groups' and pipelines' names) */
  number: number;
  topics: string[];
  groups: string[];
  pipelines: string[];
  simulations: string[];
  /** What the script itself started (clients, pipelines), undone at reset. */
  cleanups: (() => Promise<void>)[];
  abort: AbortController | null;
  running: Promise<void> | null;
}

const fresh = (): Run => ({
  state: "idle",
  startedAt: null,
  finishedAt: null,
  steps: [],
  outcome: null,
  error: null,
  number: 0,
  topics: [],
  groups: [],
  pipelines: [],
  simulations: [],
  cleanups: [],
  abort: null,
  running: null,
});

export class ScenarioManager {
  private readonly runs = new Map<TScenarioId, Run>(SCRIPTS.map((s) => [s.id, fresh()]));
  private readonly admin: () => Admin;
  private runNumber = 0;
  /** ledger writes, one after another in the order the run made them */
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly simulations: SimulationManager,
    private readonly baseUrl: () => string,
    private readonly ledger: ScenarioLedger = new MemoryScenarioLedger(),
  ) {
    this.admin = () => new Admin({ baseUrl: baseUrl() });
  }

  /**
   * At start-up: runs an earlier process left behind (it stopped mid-run, or before a reset) are
   * shown failed with what they created, which a reset or the next start deletes; run numbers go
   * on from the highest recorded.
   */
  async restore(): Promise<void> {
    for (const [id, owned] of await this.ledger.load()) {
      this.runNumber = Math.max(this.runNumber, owned.run);
      if (!this.runs.has(id as TScenarioId)) continue;
      this.runs.set(id as TScenarioId, {
        ...fresh(),
        state: "failed",
        error: "the server stopped during this run; Reset (or Start) deletes the topics, groups and pipelines it created",
        number: owned.run,
        topics: [...owned.topics],
        groups: [...owned.groups],
        pipelines: [...owned.pipelines],
      });
    }
  }

  /** Records what `run` owns now (or, with null, that nothing is left). */
  private record(id: TScenarioId, run: Run | null): Promise<void> {
    const owned: OwnedByRun | null = run && {
      run: run.number,
      topics: [...run.topics],
      groups: [...run.groups],
      pipelines: [...run.pipelines],
    };
    this.saving = this.saving
      .then(() => this.ledger.save(id, owned))
      .catch((e: unknown) => console.error(`scenario ${id}: recording what it owns failed:`, e));
    return this.saving;
  }

  list(): TScenario[] {
    return SCRIPTS.map((s) => this.view(s));
  }

  get(id: TScenarioId): TScenario {
    return this.view(this.script(id));
  }

  /** Starts the scenario in the background (a finished one is reset first); resolves once it runs. */
  async start(id: TScenarioId): Promise<TScenario> {
    const script = this.script(id);
    let run = this.runs.get(id)!;
    if (run.state === "done" || run.state === "failed") await this.reset(id);
    run = this.runs.get(id)!;
    assertMove(MOVES, run.state, "running", `start scenario ${id}`);
    const admin = this.admin();
    for (const topic of Object.keys(script.topics)) {
      const exists = await admin.describeTopic(topic).then(
        () => true,
        (e: unknown) => (hasCode(e, "UNKNOWN_TOPIC_OR_PARTITION") ? false : Promise.reject(e)),
      );
      if (exists) {
        throw new TributaryError(
          "SIMULATION_ALREADY_EXISTS",
          `topic '${topic}' exists and this scenario did not create it; delete it to run the scenario (a scenario never touches what it did not create)`,
          { topic },
        );
      }
    }
    run = { ...fresh(), state: "running", startedAt: Date.now(), abort: new AbortController(), number: ++this.runNumber };
    this.runs.set(id, run);
    for (const [topic, partitions] of Object.entries(script.topics)) {
      // recorded before it exists: a crash between the two leaves a name a reset finds gone
      run.topics.push(topic);
      await this.record(id, run);
      await admin.createTopic({ name: topic, partitions });
      this.simulations.markTopic(topic, true);
    }
    const ctx = this.context(id, run, admin);
    run.running = script
      .run(ctx)
      .then(
        (outcome) => {
          if (run.state !== "running" || run.abort?.signal.aborted) return;
          assertMove(MOVES, run.state, "done", `finish scenario ${id}`);
          run.state = "done";
          run.outcome = outcome;
        },
        (e: unknown) => {
          if (run.state !== "running" || run.abort?.signal.aborted) return;
          run.state = "failed";
          run.error = e instanceof Error ? e.message : String(e);
        },
      )
      .finally(() => {
        run.finishedAt = Date.now();
      });
    return this.view(script);
  }

  /** Stops the run, its simulations, and deletes what it created; the scenario is idle again. */
  async reset(id: TScenarioId): Promise<TScenario> {
    const script = this.script(id);
    const run = this.runs.get(id)!;
    run.abort?.abort();
    await run.running?.catch(() => undefined);
    for (const sim of run.simulations) {
      await this.simulations.deleteSimulation(sim).catch(() => undefined);
    }
    for (const cleanup of run.cleanups.reverse()) await cleanup().catch(() => undefined);
    // its pipelines before the topics they read and write (a running one would fail on them)
    for (const name of run.pipelines)
      await callJson(this.baseUrl(), "DELETE", `/api/v1/pipelines/${encodeURIComponent(name)}`).catch(() => undefined);
    const admin = this.admin();
    for (const topic of run.topics) {
      await admin.deleteTopic(topic).catch(() => undefined);
      this.simulations.markTopic(topic, false);
    }
    for (const group of run.groups) this.deleteGroupSoon(admin, group);
    await this.record(id, null);
    // idle only now: until its topics are gone a start would find them and refuse
    if (this.runs.get(id) === run) this.runs.set(id, fresh());
    return this.view(script);
  }

  /** Ends every run (server shutdown): their simulations stop with the simulation manager. */
  stop(): void {
    for (const run of this.runs.values()) run.abort?.abort();
  }

  /** A group whose crashed member has not expired yet cannot be deleted: try again until it can. */
  private deleteGroupSoon(admin: Admin, groupId: string): void {
    const until = Date.now() + GROUP_DELETE_RETRY_MS;
    const attempt = () => {
      admin.deleteGroup(groupId).catch((e: unknown) => {
        if (hasCode(e, "NON_EMPTY_GROUP") && Date.now() < until) setTimeout(attempt, 1000).unref();
      });
    };
    attempt();
  }

  private context(id: TScenarioId, run: Run, admin: Admin): ScenarioContext {
    const signal = run.abort!.signal;
    const sleep = (ms: number) =>
      new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(new Cancelled());
        const t = setTimeout(() => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        }, ms);
        const onAbort = () => {
          clearTimeout(t);
          reject(new Cancelled());
        };
        signal.addEventListener("abort", onAbort, { once: true });
      });
    return {
      admin,
      baseUrl: this.baseUrl(),
      simulations: this.simulations,
      run: run.number,
      step: (text) => {
        if (signal.aborted) throw new Cancelled();
        run.steps.push({ at: Date.now(), text });
        if (run.steps.length > MAX_STEPS) run.steps.splice(0, run.steps.length - MAX_STEPS);
      },
      own: (kind, name) => {
        if (kind === "group") run.groups.push(name);
        else if (kind === "topic") run.topics.push(name);
        else if (kind === "pipeline") run.pipelines.push(name);
        else {
          run.simulations.push(name); // simulations end with the process
          return Promise.resolve();
        }
        return this.record(id, run);
      },
      defer: (cleanup) => {
        run.cleanups.push(cleanup);
      },
      until: async (what, read, ok, timeoutMs) => {
        const end = Date.now() + timeoutMs;
        for (;;) {
          if (signal.aborted) throw new Cancelled();
          const v = await read().catch(() => undefined);
          if (v !== undefined && ok(v)) return v;
          if (Date.now() > end) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
          await sleep(250);
        }
      },
      sleep,
    };
  }

  private script(id: TScenarioId): ScenarioScript {
    const s = SCRIPTS.find((x) => x.id === id);
    if (!s) throw new TributaryError("SIMULATION_NOT_FOUND", `no scenario '${id}'`, { field: "id" });
    return s;
  }

  private view(s: ScenarioScript): TScenario {
    const run = this.runs.get(s.id)!;
    return {
      id: s.id,
      title: s.title,
      explanation: s.explanation,
      state: run.state,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      steps: [...run.steps],
      outcome: run.outcome,
      error: run.error,
      topics: [...run.topics],
      groups: [...run.groups],
      simulations: [...run.simulations],
    };
  }
}
