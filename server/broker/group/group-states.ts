/**
 * Consumer group lifecycle: the states Kafka's tooling shows (kafka-consumer-groups, Redpanda
 * Console) and the transitions the coordinator may make between them. `ConsumerGroup` derives
 * its state after every call and passes each change through `assertTransition`, so a bug that
 * would, say, revive a deleted group or delete a live one fails loudly instead of silently.
 *
 * How the KIP-848 (server-side assignment) group maps onto these classic names:
 * - Empty: no members.
 * - PreparingRebalance: some member still has to give up partitions the target assignment moved
 *   elsewhere (its revocation is not yet acknowledged). Classic: members revoking before rejoin.
 * - CompletingRebalance: nobody has anything left to revoke, but some member has not yet been
 *   handed its full target at the current assignment epoch. Classic: waiting on SyncGroup.
 * - Stable: every member owns exactly its target assignment at the current assignment epoch.
 * - Dead: deleted; terminal (a later join to the same group id creates a new group).
 */
export const GROUP_STATES = ["Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"] as const;
export type GroupState = (typeof GROUP_STATES)[number];

/**
 * Allowed moves. A self-move is not a transition and is not listed (the group only asserts real
 * changes). Why these and no others:
 * - Empty → Stable: the first member finds every partition free, so it is reconciled at once;
 *   nobody owns anything in an empty group, so it can never go Empty → Preparing/Completing.
 * - Only an Empty group may be deleted (NON_EMPTY_GROUP otherwise), and Dead is terminal.
 * - Any live non-empty state can lose its last member (→ Empty), and the three non-empty states
 *   reach each other as members join/leave/heartbeat and topic metadata changes.
 */
export const GROUP_TRANSITIONS: Readonly<Record<GroupState, readonly GroupState[]>> = {
  Empty: ["Stable", "Dead"],
  PreparingRebalance: ["CompletingRebalance", "Stable", "Empty"],
  CompletingRebalance: ["PreparingRebalance", "Stable", "Empty"],
  Stable: ["PreparingRebalance", "CompletingRebalance", "Empty"],
  Dead: [],
};

export function canTransition(from: GroupState, to: GroupState): boolean {
  return GROUP_TRANSITIONS[from].includes(to);
}

/** An internal invariant broke (a coordinator bug, not bad client input): surfaces as a 500. */
export class IllegalGroupTransitionError extends Error {
  constructor(
    readonly from: GroupState,
    readonly to: GroupState,
  ) {
    super(`illegal consumer group state transition ${from} → ${to}`);
    this.name = "IllegalGroupTransitionError";
  }
}

export function assertTransition(from: GroupState, to: GroupState): void {
  if (!canTransition(from, to)) throw new IllegalGroupTransitionError(from, to);
}
