/**
 * A consumer-group member's lifecycle as the member itself sees it (KIP-848, consumer side; the
 * names are those of Kafka's consumer, `MemberState`). `GroupMember` passes every change through
 * `assertTransition`, so a bug that would, say, heartbeat after leaving or commit for a fenced
 * member fails loudly instead of silently.
 *
 * - Unjoined: not yet a member (before the first join).
 * - Joining: the join (a heartbeat at epoch 0) is in flight, or being retried.
 * - Stable: owns exactly the assignment of the last reply; heartbeats at the coordinator's interval.
 * - Reconciling: a reply took partitions away; they are no longer consumed, but still reported as
 *   owned while the records in hand finish and their positions are committed.
 * - Acknowledging: the revoked partitions are released; the next heartbeat (sent at once) stops
 *   listing them, which is when the coordinator may give them to another member.
 * - Fenced: the coordinator no longer knows this member at its epoch (UNKNOWN_MEMBER_ID,
 *   FENCED_MEMBER_EPOCH, GROUP_ID_NOT_FOUND): everything owned is dropped without a commit (it may
 *   have another owner already); the member joins again as a new one, or ends.
 * - PrepareLeaving: leaving: the records in hand finish and the positions are committed.
 * - Leaving: the leave (a heartbeat at epoch -1) is in flight.
 * - Left: terminal; a new membership is a new `GroupMember`.
 */
export const MEMBER_STATES = [
  "Unjoined",
  "Joining",
  "Stable",
  "Reconciling",
  "Acknowledging",
  "Fenced",
  "PrepareLeaving",
  "Leaving",
  "Left",
] as const;
export type MemberState = (typeof MEMBER_STATES)[number];

/**
 * Allowed moves. A self-move (Joining → Joining on a retried join, Reconciling → Reconciling when
 * a reply revokes more while a revocation is in progress) is not a transition and is not listed.
 * Why these and no others:
 * - A join's reply only grants (nothing is owned yet), so Joining leads to Stable, never to
 *   Reconciling; a join that fails for good, or a leave during it, ends the member.
 * - Only a member that owns partitions may reconcile; a release always goes through
 *   Acknowledging, whose heartbeat either settles (Stable) or revokes more (Reconciling).
 * - Any member the coordinator knows may be fenced or leave; a fenced member joins again or ends
 *   (with a best-effort leave), and never commits.
 */
export const MEMBER_TRANSITIONS: Readonly<Record<MemberState, readonly MemberState[]>> = {
  Unjoined: ["Joining", "Left"],
  Joining: ["Stable", "Leaving", "Left"],
  Stable: ["Reconciling", "Fenced", "PrepareLeaving"],
  Reconciling: ["Acknowledging", "Fenced", "PrepareLeaving"],
  Acknowledging: ["Stable", "Reconciling", "Fenced", "PrepareLeaving"],
  Fenced: ["Joining", "Leaving"],
  PrepareLeaving: ["Leaving"],
  Leaving: ["Left"],
  Left: [],
};

/** The member holds a member id and epoch the coordinator accepted: it heartbeats, polls and commits. */
export const MEMBER_ACTIVE_STATES: ReadonlySet<MemberState> = new Set(["Stable", "Reconciling", "Acknowledging"]);

export function canTransition(from: MemberState, to: MemberState): boolean {
  return MEMBER_TRANSITIONS[from].includes(to);
}

/** An internal invariant broke (a bug in the member loop, not bad input). */
export class IllegalMemberTransitionError extends Error {
  constructor(
    readonly from: MemberState,
    readonly to: MemberState,
  ) {
    super(`illegal group member state transition ${from} → ${to}`);
    this.name = "IllegalMemberTransitionError";
  }
}

export function assertTransition(from: MemberState, to: MemberState): void {
  if (!canTransition(from, to)) throw new IllegalMemberTransitionError(from, to);
}
