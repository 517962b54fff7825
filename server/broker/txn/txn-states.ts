/**
 * Transaction lifecycle (Kafka's TransactionState), per transactional id. The coordinator passes
 * every state change through `assertTransition`, so a bug that would, say, commit an aborting
 * transaction or revive a dead id fails loudly instead of silently.
 *
 * - Empty: the id has a producer id/epoch and no transaction in progress.
 * - Ongoing: partitions or group offsets were added; the transaction timeout runs from here.
 * - PrepareCommit / PrepareAbort: the decision is made (and persisted); markers are being written.
 *   From here the outcome is fixed: after a crash the markers are written again.
 * - CompleteCommit / CompleteAbort: every marker is written; the id is idle until its next txn.
 * - Dead: the id expired (transactional.id.expiration.ms) and is being removed; terminal.
 */
export const TXN_STATES = ["Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead"] as const;
export type TxnState = (typeof TXN_STATES)[number];

/**
 * Allowed moves. A self-move (Ongoing → Ongoing on adding more partitions, Empty → Empty on a
 * re-init) is not a transition and is not listed. Why these and no others:
 * - A transaction starts from an idle state (Empty or Complete*) when its first partition or
 *   group is added; a re-init of an idle id returns it to Empty (new epoch).
 * - Only Ongoing can decide; an abort (client, timeout, fencing init, recovery) and a commit
 *   each have their own Prepare state, which can only complete the same way.
 * - Only idle ids expire to Dead, and Dead is terminal.
 */
export const TXN_TRANSITIONS: Readonly<Record<TxnState, readonly TxnState[]>> = {
  Empty: ["Ongoing", "Dead"],
  Ongoing: ["PrepareCommit", "PrepareAbort"],
  PrepareCommit: ["CompleteCommit"],
  PrepareAbort: ["CompleteAbort"],
  CompleteCommit: ["Empty", "Ongoing", "Dead"],
  CompleteAbort: ["Empty", "Ongoing", "Dead"],
  Dead: [],
};

/** No transaction in progress: a new one may start, the id may be re-initialised or expire. */
export const IDLE_STATES: ReadonlySet<TxnState> = new Set(["Empty", "CompleteCommit", "CompleteAbort"]);
/** Decided, markers pending: requests wait (CONCURRENT_TRANSACTIONS). */
export const PREPARE_STATES: ReadonlySet<TxnState> = new Set(["PrepareCommit", "PrepareAbort"]);

export function canTransition(from: TxnState, to: TxnState): boolean {
  return TXN_TRANSITIONS[from].includes(to);
}

/** An internal invariant broke (a coordinator bug, not bad client input): surfaces as a 500. */
export class IllegalTxnTransitionError extends Error {
  constructor(
    readonly from: TxnState,
    readonly to: TxnState,
  ) {
    super(`illegal transaction state transition ${from} → ${to}`);
    this.name = "IllegalTxnTransitionError";
  }
}

export function assertTransition(from: TxnState, to: TxnState): void {
  if (!canTransition(from, to)) throw new IllegalTxnTransitionError(from, to);
}
