import type { TPipelineSummary } from "./use-pipelines";

const TITLES: Record<TPipelineSummary["state"], string> = {
  draft: "never deployed; the draft may be unfinished",
  validated: "the draft passed validation; not deployed yet",
  running: "deployed and running exactly-once as the group pipeline-<name>",
  paused: "paused: offsets and state kept, resumes where it stopped",
  stopped: "stopped: deploy or resume starts it from its committed offsets",
  failed: "failed: see the error",
};

/** A pipeline's lifecycle state as a colored chip (the color says it before the word does). */
export function StateChip({ state, testId }: { state: TPipelineSummary["state"]; testId?: string }) {
  return (
    <span className={`state-chip ${state}`} title={TITLES[state]} data-testid={testId}>
      {state}
    </span>
  );
}
