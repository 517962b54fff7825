/**
 * A pipeline's lifecycle: the states the console shows and the moves the manager may make.
 *
 * - draft: never deployed; its definition may be incomplete. validated: the draft passed
 *   validation and has not changed since (editing it again makes it a draft).
 * - running ⇄ paused: a deployed version runs as a consumer group; paused leaves the group
 *   with every committed offset and state kept, and resumes where it stopped.
 * - stopped: deployed once, not running; deploying or resuming starts it from its committed
 *   offsets. failed: it could not start or keeps failing; the error names the node.
 * Editing the draft of a deployed pipeline does not change its state (the version runs on).
 */
export const PIPELINE_STATES = ["draft", "validated", "running", "paused", "stopped", "failed"] as const;
export type PipelineState = (typeof PIPELINE_STATES)[number];

export const PIPELINE_TRANSITIONS: Readonly<Record<PipelineState, readonly PipelineState[]>> = {
  draft: ["validated", "running", "failed"],
  validated: ["draft", "running", "failed"],
  running: ["paused", "stopped", "failed"],
  paused: ["running", "stopped", "failed"],
  stopped: ["running", "failed"],
  failed: ["running", "stopped"],
};

export function canMove(from: PipelineState, to: PipelineState): boolean {
  return from === to || PIPELINE_TRANSITIONS[from].includes(to);
}
