/**
 * A pipeline's lifecycle: the states the console shows and the moves the manager may make.
 *
 * - draft: never deployed; its definition may be incomplete. validated: the draft passed
 *   validation and has not changed since (editing it again makes it a draft).
 * - running ⇄ paused: a deployed version runs as a consumer group; paused leaves the group
 *   with every committed offset and state kept, and resumes where it stopped.
 * - stopped: deployed once, not running; deploying or resuming starts it from its committed
 *   offsets.
 * - failed: it could not start (a topic missing, inputs not co-partitioned), or while running a
 *   task's units failed 5 times in a row, or a topic it writes was deleted; the error says why
 *   and names the node when one is to blame. Nothing of it runs, and nothing committed is lost.
 *   As with Kafka Streams (a dead stream thread leaves the application in ERROR until it is
 *   restarted) and Flink (a FAILED job is resubmitted from its last checkpoint), the way out is
 *   to start it again once the cause is fixed: resume (the same version) or deploy (a new one)
 *   start it from its committed offsets and state; stop acknowledges it. It cannot be paused
 *   (nothing runs to pause). Any state that runs or starts can fail.
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
  failed: ["running", "stopped"], // resume or deploy; stop
};

export function canMove(from: PipelineState, to: PipelineState): boolean {
  return from === to || PIPELINE_TRANSITIONS[from].includes(to);
}
