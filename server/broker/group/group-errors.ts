/**
 * Typed errors of the group coordinator. Same shape as `BrokerError` (`isBrokerError`, `code`,
 * `retriable`, `details`) so the API layer's `isBrokerError()` check and code → HTTP table
 * handle them without importing this folder. Codes are Kafka's error names, so a
 * Kafka-protocol front end can map them one-to-one later.
 */
export type GroupErrorCode =
  /** memberId not in the group (never joined, left, or expired/fenced): rejoin with epoch 0. */
  | "UNKNOWN_MEMBER_ID"
  /** Heartbeat epoch ahead of / too far behind the coordinator's: drop all partitions, rejoin. */
  | "FENCED_MEMBER_EPOCH"
  /** Commit with an older member epoch than the member's current one. */
  | "STALE_MEMBER_EPOCH"
  /** Commit for a partition the member does not own at its current epoch. */
  | "ILLEGAL_GENERATION"
  | "GROUP_ID_NOT_FOUND"
  | "NON_EMPTY_GROUP"
  | "INVALID_GROUP_ID"
  | "UNSUPPORTED_ASSIGNOR"
  | "GROUP_MAX_SIZE_REACHED"
  | "INVALID_REGULAR_EXPRESSION"
  /** auto.offset.reset=none and the group has no committed offset for a partition it polls. */
  | "NO_OFFSET_FOR_PARTITION"
  /** Deleting a topic's offsets while members are subscribed to it. */
  | "GROUP_SUBSCRIBED_TO_TOPIC"
  | "INVALID_REQUEST";

export class GroupError extends Error {
  readonly isBrokerError = true;
  /**
   * Always false: none of these goes away by resending the same request; each needs the client
   * to act first (rejoin, take the epoch from its next heartbeat, or fix its input).
   */
  readonly retriable = false;
  constructor(
    readonly code: GroupErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "GroupError";
  }
}

/** Cross-bundle safe check (see `isBrokerError` in ../errors.ts for why not `instanceof`). */
export function isGroupError(e: unknown): e is GroupError {
  return (
    typeof e === "object" &&
    e !== null &&
    (e as { isBrokerError?: unknown }).isBrokerError === true &&
    (e as { name?: unknown }).name === "GroupError"
  );
}

export const unknownMember = (groupId: string, memberId: string) =>
  new GroupError("UNKNOWN_MEMBER_ID", `member '${memberId}' is not in group '${groupId}'`, { groupId, memberId });

export const groupNotFound = (groupId: string) =>
  new GroupError("GROUP_ID_NOT_FOUND", `group '${groupId}' does not exist`, { groupId });

export const invalidRequest = (message: string, details?: Record<string, unknown>) =>
  new GroupError("INVALID_REQUEST", message, details);
