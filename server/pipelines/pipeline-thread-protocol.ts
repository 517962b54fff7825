/**
 * The messages between the main thread and a pipeline thread (pipeline-threads.ts ⇄
 * pipeline-thread.ts): requests about one run of a pipeline, answered by id, and what a run
 * reports on its own (a unit of work that failed and is retried; a pipeline that cannot go on).
 */
import type { PipelineProblem, TPipelineDefinition } from "../schemas/pipeline.ts";
import type { TaskFailure } from "../stream/runtime/pipeline-metrics.ts";
import type { PipelineRunner } from "../stream/runtime/pipeline-runner.ts";

/** What the pipelines list shows of a running pipeline: its runner's counters and summary. */
export type RunSummary = ReturnType<PipelineRunner["counters"]> & ReturnType<PipelineRunner["summary"]>;

/** A runner's RunSummary, wherever it runs. */
export const summaryOf = (runner: PipelineRunner): RunSummary => ({ ...runner.counters(), ...runner.summary() });

export type ThreadRequest =
  /** answered with the inputs' partition count; `setUp` false: a further member of a run spread over threads (RunnerOptions) */
  | { kind: "start"; id: number; run: number; baseUrl: string; definition: TPipelineDefinition; setUp: boolean }
  | { kind: "stop"; id: number; run: number }
  | { kind: "metrics"; id: number; run: number }
  | { kind: "summary"; id: number; run: number };

export type ThreadMessage =
  | { kind: "reply"; id: number; value: unknown }
  | { kind: "reply"; id: number; error: { message: string; problems?: PipelineProblem[] } }
  | { kind: "unit-failed"; run: number; message: string }
  | { kind: "failed"; run: number; failure: TaskFailure };
