/**
 * The pipelines of this server: their drafts and versions in the store, their lifecycle
 * (pipeline-states.ts decides every move) and a PipelineRunner for each running one, talking to
 * this server through the public client: administration at `baseUrl`, consuming and
 * transactions through the transport given (this server's own broker façade, without HTTP). Pipelines that were running when the
 * server stopped start again when it starts.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { z } from "zod";
import { TributaryError, hasCode } from "../errors/tributary-error.ts";
import {
  ZPipelineDefinition,
  ZPipelineEdge,
  ZPipelineNode,
  type PipelineProblem,
  type TPipelineDefinition,
  type TPipelineEdge,
  type TPipelineMetrics,
  type TPipelineNode,
  type TPipelineStateChange,
  type TPipelineTypes,
  type TPreviewRequest,
} from "../schemas/pipeline.ts";
import { pipelineTypes } from "../stream/completions.ts";
import { expressionProblems } from "../stream/topology.ts";
import { repartitionInputs } from "../stream/repartition.ts";
import { PipelineRunner, PipelineStartError, changelogTopicOf, groupIdOf } from "../stream/runtime/pipeline-runner.ts";
import { noTotals } from "./member-metrics.ts";
import { PipelineThreads, type RunningPipeline } from "./pipeline-threads.ts";
import type { TaskFailure } from "../stream/runtime/pipeline-metrics.ts";
import { previewPipeline, type PreviewResult } from "../stream/runtime/preview.ts";
import { runPipelineTests, testCaseProblems } from "../stream/runtime/test-run.ts";
import { testTimeMs, type TPipelineTestCase, type TPipelineTestReport } from "../schemas/pipeline-tests.ts";

export type { PreviewResult };
import { changedStatefulNodes } from "./pipeline-diff.ts";
import { canMove, type PipelineState } from "./pipeline-states.ts";
import type { PipelineStore, StoredPipeline, StoredVersion } from "./pipeline-store.ts";

export interface PipelineSummary {
  name: string;
  state: PipelineState;
  version: number | null;
  error: StoredPipeline["error"];
  createdAt: string;
  updatedAt: string;
  /** the running version's counters since it (re)started in this process */
  metrics: {
    recordsIn: number;
    recordsOut: number;
    deadLetters: number;
    commits: number;
    tasks: number;
    recordsInPerSec: number;
    errors: number;
    lag: number | null;
  } | null;
}

export interface PipelineDetail extends PipelineSummary {
  draft: unknown;
  /** the definition of the deployed version */
  deployed: TPipelineDefinition | null;
}

/** How long `dropState` waits for a stopped pipeline's members to have left its group, and how often it looks. */
const GROUP_LEAVE_WAIT_MS = 5_000;
const GROUP_LEAVE_POLL_MS = 100;

/** What a topic admin does for a state reset: drop the internal topics and the group's offsets. */
export interface StateReset {
  deleteTopic(name: string): Promise<void>;
  deleteGroup(groupId: string): Promise<void>;
}

/** zod issues → problems pinned to node and field (the path inside the node's config). */
export function problemsOf(error: z.ZodError, draft: unknown): PipelineProblem[] {
  const nodes = (draft as { nodes?: { id?: unknown }[] } | null)?.nodes;
  return error.issues.map((i) => {
    const params = (i as { params?: { node?: string; field?: string } }).params;
    if (params?.node !== undefined || params?.field !== undefined) return { node: params.node, field: params.field, message: i.message };
    const [head, index, ...rest] = i.path;
    if (head === "nodes" && typeof index === "number") {
      const id = nodes?.[index]?.id;
      return { node: typeof id === "string" ? id : `nodes[${index}]`, field: rest.join(".") || undefined, message: i.message };
    }
    return { field: i.path.join(".") || undefined, message: i.message };
  });
}

function invalidDraft(problems: PipelineProblem[]): TributaryError {
  return new TributaryError("INVALID_PIPELINE", `the draft does not validate: ${problems.map((x) => x.message).join("; ")}`, { problems });
}

/** A draft (or unsaved definition) parsed to run in memory (preview, tests), or INVALID_PIPELINE with its problems. */
function runnable(draft: unknown): TPipelineDefinition {
  const parsed = ZPipelineDefinition.safeParse(draft);
  if (!parsed.success) throw invalidDraft(problemsOf(parsed.error, draft));
  return parsed.data;
}

/**
 * The node-level problems (expressions, configs, join inputs) of a draft the schema refuses as a
 * whole — an unfinished graph, a port left unconnected: its nodes and edges that parse one by one
 * are checked, so an editor sees a bad expression as soon as it is typed.
 */
function partialProblems(draft: unknown): PipelineProblem[] {
  return expressionProblems(partsOf(draft));
}

/** The nodes and edges of a draft that parse one by one. */
function partsOf(draft: unknown): { nodes: TPipelineNode[]; edges: TPipelineEdge[] } {
  const d = draft as { nodes?: unknown; edges?: unknown } | null;
  const each = <T>(list: unknown, schema: z.ZodType<T>): T[] =>
    Array.isArray(list)
      ? list.flatMap((x) => {
          const r = schema.safeParse(x);
          return r.success ? [r.data] : [];
        })
      : [];
  return { nodes: each(d?.nodes, ZPipelineNode), edges: each(d?.edges, ZPipelineEdge) };
}

/** The most pipelines one server keeps (each running one is a group, producers and tasks). */
export const MAX_PIPELINES = 200;

/** `definition` with the test cases of `draft` (none when the draft has none). */
function withTestsOf(definition: TPipelineDefinition, draft: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = { ...definition };
  delete out.tests;
  const tests = (draft as { tests?: unknown } | null)?.tests;
  return tests === undefined ? out : { ...out, tests };
}

export class PipelineManager {
  private readonly runners = new Map<string, RunningPipeline>();
  /** one lifecycle change at a time per pipeline */
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly listeners = new Set<(c: TPipelineStateChange) => void>();

  constructor(
    private readonly store: PipelineStore,
    private readonly baseUrl: () => string,
    private readonly reset: StateReset,
    /** where running pipelines run: pipeline threads on this server's own façade (main.ts); the main thread over HTTP at baseUrl when not given */
    private readonly threads: PipelineThreads = new PipelineThreads(undefined, 0, 0),
    private readonly log: (line: string) => void = (l) => console.error(l),
  ) {}

  /** Starts the pipelines that were running when the server stopped. */
  async start(): Promise<void> {
    for (const p of await this.store.list()) {
      if (p.state !== "running" || p.version === null) continue;
      await this.locked(p.name, () => this.run(p.name, p.version!)).catch((e: Error) => this.log(`pipeline ${p.name}: ${e.message}`));
    }
  }

  /** Stops every runner (their state stays as stored: running ones start again next time). */
  async stop(): Promise<void> {
    await Promise.all([...this.runners.values()].map((r) => r.stop().catch(() => undefined)));
    this.runners.clear();
    await this.threads.close();
  }

  /** Calls `listener` after every change of a pipeline's state, version or error, and when one is created or deleted. */
  onStateChange(listener: (c: TPipelineStateChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private announce(c: TPipelineStateChange): void {
    for (const l of this.listeners) {
      try {
        l(c);
      } catch (e) {
        this.log(`pipeline state listener: ${(e as Error).message}`);
      }
    }
  }

  /** Stores a change; one of state, version or error is announced with the pipeline's state after it. */
  private async save(name: string, change: Parameters<PipelineStore["update"]>[1]): Promise<void> {
    await this.store.update(name, change);
    if (change.state === undefined && change.version === undefined && change.error === undefined) return;
    const p = await this.store.get(name);
    if (p) this.announce({ name, state: p.state, version: p.version, error: p.error });
  }

  private locked<T>(name: string, work: () => Promise<T>): Promise<T> {
    const run = (this.locks.get(name) ?? Promise.resolve()).then(work, work);
    this.locks.set(
      name,
      run.catch(() => undefined),
    );
    return run;
  }

  private async must(name: string): Promise<StoredPipeline> {
    const p = await this.store.get(name);
    if (!p) throw new TributaryError("PIPELINE_NOT_FOUND", `pipeline '${name}' does not exist`);
    return p;
  }

  private async summary(p: StoredPipeline): Promise<PipelineSummary> {
    const r = this.runners.get(p.name);
    return {
      name: p.name,
      state: p.state,
      version: p.version,
      error: p.error,
      createdAt: p.createdAt.toISOString(),
      updatedAt: p.updatedAt.toISOString(),
      metrics: r ? await r.summary().catch(() => null) : null,
    };
  }

  /** Every pipeline's state, version and error (what a state subscription starts from). */
  async states(): Promise<TPipelineStateChange[]> {
    return (await this.store.list()).map((p) => ({ name: p.name, state: p.state, version: p.version, error: p.error }));
  }

  /**
   * Per node and per task metrics of the running version, with totals; a pipeline not running
   * here answers its state with empty metrics.
   */
  async metrics(name: string): Promise<TPipelineMetrics> {
    const p = await this.must(name);
    const r = this.runners.get(name);
    const head = { name, state: p.state, version: p.version, error: p.error, at: Date.now(), running: r !== undefined };
    // a run whose thread just ended is gone before the manager forgets it: answered as not running
    const read = r ? await r.readMetrics().catch(() => null) : null;
    if (!read) {
      return { ...head, totals: noTotals(), nodes: {}, tasks: [] };
    }
    return { ...head, ...read };
  }

  async list(): Promise<PipelineSummary[]> {
    return Promise.all((await this.store.list()).map((p) => this.summary(p)));
  }

  async get(name: string): Promise<PipelineDetail> {
    const p = await this.must(name);
    const v = p.version === null ? null : await this.store.version(name, p.version);
    return { ...(await this.summary(p)), draft: p.draft, deployed: v ? (v.definition as TPipelineDefinition) : null };
  }

  /** A new pipeline from a draft (the name inside the draft is the pipeline's name). */
  async create(draft: { name: string } & Record<string, unknown>): Promise<PipelineDetail> {
    if ((await this.store.count()) >= MAX_PIPELINES)
      throw new TributaryError("VALIDATION_FAILED", `at most ${MAX_PIPELINES} pipelines; delete one first`, { field: "name" });
    if (!(await this.store.create(draft.name, draft)))
      throw new TributaryError("PIPELINE_ALREADY_EXISTS", `pipeline '${draft.name}' already exists`);
    const created = await this.get(draft.name);
    this.announce({ name: created.name, state: created.state, version: created.version, error: created.error });
    return created;
  }

  async updateDraft(name: string, draft: Record<string, unknown>): Promise<PipelineDetail> {
    return this.locked(name, async () => {
      const p = await this.must(name);
      if (draft.name !== undefined && draft.name !== name)
        throw new TributaryError("VALIDATION_FAILED", `the draft's name must stay '${name}'`, { field: "name" });
      await this.save(name, { draft: { ...draft, name }, ...(p.state === "validated" ? { state: "draft" as const } : {}) });
      return this.get(name);
    });
  }

  /**
   * Stops the pipeline and deletes it with what was its own: its consumer group (committed input
   * offsets) and its internal topics (the changelog, the repartition topics of every version).
   * Its sinks stay. A pipeline created again under the name starts afresh: before, it took the
   * old group's offsets (skipping the input they covered) and read the old changelog back into
   * its state.
   */
  async delete(name: string): Promise<void> {
    await this.locked(name, async () => {
      await this.must(name);
      await this.halt(name);
      await this.dropState(name);
      if (await this.store.delete(name)) this.announce({ name, state: null, version: null, error: null });
    });
  }

  /**
   * Deletes a stopped pipeline's consumer group and internal topics: the changelog, and the
   * repartition topics of every version (as Kafka Streams' application reset tool deletes its
   * internal topics). The repartition topics go too because the group's offsets in them go: kept,
   * the records past the last purge would be read again, and counted twice.
   */
  private async dropState(name: string): Promise<void> {
    const internal = new Set([changelogTopicOf(name)]);
    for (const v of await this.store.versions(name)) {
      const def = ZPipelineDefinition.safeParse(v.definition);
      if (def.success) for (const r of repartitionInputs(def.data)) internal.add(r.topic);
    }
    // the stopped members may still be leaving: the group is deleted once they left
    for (let waited = 0; waited <= GROUP_LEAVE_WAIT_MS; waited += GROUP_LEAVE_POLL_MS) {
      try {
        await this.reset.deleteGroup(groupIdOf(name));
        break;
      } catch (e) {
        if (!hasCode(e, "NON_EMPTY_GROUP")) break; // none (never deployed), or nothing to wait for
      }
      await sleep(GROUP_LEAVE_POLL_MS);
    }
    for (const topic of internal) await this.reset.deleteTopic(topic).catch(() => undefined);
  }

  /**
   * Every problem of the draft (schema, expressions, topics, partitioning), each with its node and
   * field; and the record type at each port with what each node's CEL fields complete.
   */
  async validate(name: string): Promise<{ valid: boolean; problems: PipelineProblem[]; types: TPipelineTypes }> {
    return this.locked(name, async () => {
      const p = await this.must(name);
      const { problems } = await this.check(p.draft);
      if (problems.length === 0 && p.state === "draft") await this.save(name, { state: "validated" });
      return { valid: problems.length === 0, problems, types: pipelineTypes(partsOf(p.draft)) };
    });
  }

  private async check(draft: unknown): Promise<{ problems: PipelineProblem[]; definition?: TPipelineDefinition }> {
    const parsed = ZPipelineDefinition.safeParse(draft);
    if (!parsed.success) {
      const problems = problemsOf(parsed.error, draft);
      const seen = new Set(problems.map((p) => `${p.node}|${p.field}|${p.message}`));
      return { problems: [...problems, ...partialProblems(draft).filter((p) => !seen.has(`${p.node}|${p.field}|${p.message}`))] };
    }
    const { problems } = await new PipelineRunner({ baseUrl: this.baseUrl(), definition: parsed.data }).check();
    return { problems, definition: parsed.data };
  }

  /**
   * Deploys the draft as a new version: validated first (INVALID_PIPELINE with every problem);
   * a running version is stopped and the new one starts from the committed offsets. A changed
   * stateful node needs `resetState` (its old state would not fit): then the group's offsets and
   * the internal topics are dropped (`dropState`) and the new version starts over from its
   * sources' start.
   * `version`: a rollback — that earlier version's definition is deployed (as a new version)
   * instead of the draft, and becomes the draft, so the editor shows what runs (the draft's
   * test cases stay: a rollback changes what runs, and must not drop tests written since).
   */
  async deploy(name: string, opts: { resetState?: boolean; version?: number } = {}): Promise<PipelineDetail> {
    return this.locked(name, async () => {
      const p = await this.must(name);
      const source = opts.version === undefined ? p.draft : (await this.mustVersion(name, opts.version)).definition;
      const { problems, definition } = await this.check(source);
      if (problems.length > 0 || !definition)
        throw new TributaryError("INVALID_PIPELINE", `pipeline '${name}' does not validate: ${problems.map((x) => x.message).join("; ")}`, {
          problems,
        });
      const previous = p.version === null ? null : await this.store.version(name, p.version);
      const changed = previous ? changedStatefulNodes(previous.definition, definition) : [];
      if (changed.length > 0 && !opts.resetState)
        throw new TributaryError(
          "PIPELINE_STATE_RESET_REQUIRED",
          `the stateful node(s) ${changed.map((n) => `'${n}'`).join(", ")} changed: their stored state would not fit the new definition; deploy with resetState to drop it and start over`,
          { nodes: changed },
        );
      this.assertMove(p.state, "running", "deploy");
      await this.halt(name);
      if (opts.resetState) await this.dropState(name);
      const version = await this.store.addVersion(name, definition);
      await this.save(name, { version, ...(opts.version === undefined ? {} : { draft: withTestsOf(definition, p.draft) }) });
      await this.run(name, version);
      return this.get(name);
    });
  }

  /** pause | resume | stop. */
  async change(name: string, action: "pause" | "resume" | "stop"): Promise<PipelineDetail> {
    return this.locked(name, async () => {
      const p = await this.must(name);
      const to: PipelineState = action === "pause" ? "paused" : action === "stop" ? "stopped" : "running";
      if (action === "resume" && p.version === null)
        throw new TributaryError("INVALID_PIPELINE_STATE", `pipeline '${name}' was never deployed; deploy it`);
      if (p.state === to) return this.get(name);
      this.assertMove(p.state, to, action);
      if (to === "running") await this.run(name, p.version!);
      else {
        await this.halt(name);
        await this.save(name, { state: to });
      }
      return this.get(name);
    });
  }

  /**
   * Runs the draft (or `definition`, an unsaved one) over a sample of the real topics (the last
   * `limit` records of each partition, or those from `from` to `to`) without committing or writing anything: what each node received and emitted, and its errors.
   */
  async preview(name: string, opts: TPreviewRequest): Promise<PreviewResult> {
    const p = await this.must(name);
    const now = Date.now();
    const range =
      opts.from === undefined ? undefined : { from: testTimeMs(opts.from), to: opts.to === undefined ? now : testTimeMs(opts.to) };
    return previewPipeline(this.baseUrl(), runnable(opts.definition ?? p.draft), { limit: opts.limit, range, now });
  }

  /**
   * Runs test cases (`cases`, else those the definition carries in `tests`) against the draft
   * (or `definition`, an unsaved one) in memory: pass/fail per case with a diff. A case that
   * does not fit the pipeline is refused (VALIDATION_FAILED) with its path.
   */
  async test(name: string, opts: { cases?: TPipelineTestCase[]; definition?: unknown }): Promise<TPipelineTestReport> {
    const p = await this.must(name);
    const definition = runnable(opts.definition ?? p.draft);
    const cases = opts.cases ?? definition.tests ?? [];
    const where = opts.cases ? "cases" : opts.definition !== undefined ? "definition.tests" : "tests";
    if (cases.length === 0)
      throw new TributaryError("VALIDATION_FAILED", "no test cases: send them as `cases` or save them in the draft's `tests`", {
        field: "cases",
      });
    const issues = testCaseProblems(definition, cases).map((x) => ({ path: [where, ...x.path].join("."), message: x.message }));
    if (issues.length > 0)
      throw new TributaryError("VALIDATION_FAILED", `invalid ${opts.cases ? "body." : ""}${issues[0].path}: ${issues[0].message}`, {
        field: issues[0].path,
        issues,
      });
    const { problems, report } = await runPipelineTests(definition, cases);
    if (!report) throw invalidDraft(problems);
    return report;
  }

  async versions(name: string): Promise<{ version: number; createdAt: string; definition: unknown }[]> {
    await this.must(name);
    return (await this.store.versions(name)).map((v) => ({
      version: v.version,
      createdAt: v.createdAt.toISOString(),
      definition: v.definition,
    }));
  }

  /** The definition of `ref`: a deployed version, or the draft. */
  async definitionAt(name: string, ref: number | "draft"): Promise<unknown> {
    return ref === "draft" ? (await this.must(name)).draft : (await this.mustVersion(name, ref)).definition;
  }

  private async mustVersion(name: string, version: number): Promise<StoredVersion> {
    const v = await this.store.version(name, version);
    if (v) return v;
    await this.must(name);
    throw new TributaryError("PIPELINE_NOT_FOUND", `pipeline '${name}' has no version ${version}`, { field: "version" });
  }

  private assertMove(from: PipelineState, to: PipelineState, action: string): void {
    if (!canMove(from, to)) throw new TributaryError("INVALID_PIPELINE_STATE", `cannot ${action} a pipeline that is ${from}`);
  }

  /** Starts `version`: running, or failed with the reason (and the node, when one is to blame). */
  private async run(name: string, version: number): Promise<void> {
    const v = await this.store.version(name, version);
    if (!v) throw new TributaryError("PIPELINE_NOT_FOUND", `pipeline '${name}' has no version ${version}`);
    const runner: RunningPipeline = this.threads.run({
      baseUrl: this.baseUrl(),
      definition: ZPipelineDefinition.parse(v.definition),
      onError: (e) => this.log(`pipeline ${name}: ${e.message}`),
      onFailed: (f) => void this.failed(name, runner, f),
    });
    try {
      await runner.start();
    } catch (e) {
      await runner.stop().catch(() => undefined);
      const first = e instanceof PipelineStartError ? e.problems[0] : undefined;
      await this.save(name, {
        state: "failed",
        error: { message: (e as Error).message, ...(first?.node ? { node: first.node } : {}) },
      });
      return;
    }
    this.runners.set(name, runner);
    await this.save(name, { state: "running", error: null });
  }

  /** A running version cannot go on (a task keeps failing, a sink topic is gone): it stops, and the pipeline is failed. */
  private failed(name: string, runner: RunningPipeline, f: TaskFailure): Promise<void> {
    return this.locked(name, async () => {
      if (this.runners.get(name) !== runner) return; // stopped or replaced meanwhile
      const p = await this.store.get(name);
      if (!p || !canMove(p.state, "failed")) return;
      this.log(`pipeline ${name} failed${f.node ? ` at node '${f.node}'` : ""}: ${f.message}`);
      await this.halt(name);
      await this.save(name, { state: "failed", error: f.node ? { message: f.message, node: f.node } : { message: f.message } });
    }).catch((e: Error) => this.log(`pipeline ${name}: marking it failed: ${e.message}`));
  }

  private async halt(name: string): Promise<void> {
    const r = this.runners.get(name);
    if (!r) return;
    this.runners.delete(name);
    await r.stop();
  }
}
