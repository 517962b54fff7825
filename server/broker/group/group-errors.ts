/**
 * Errors of the group coordinator. Their codes (Kafka's error names) and what each means for
 * a client are in the one table of `server/errors/error-codes.ts`; none is retriable: each needs
 * the client to act first (rejoin, take the epoch from its next heartbeat, or fix its input).
 */
import type { GroupErrorCode } from "../../errors/error-codes.ts";
import { TributaryError } from "../../errors/tributary-error.ts";

export type { GroupErrorCode };

export class GroupError extends TributaryError<GroupErrorCode> {
  /** Raised inside the broker (see `BrokerError`). */
  readonly isBrokerError = true;
  constructor(code: GroupErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
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

export const groupNotFound = (groupId: string) => new GroupError("GROUP_ID_NOT_FOUND", `group '${groupId}' does not exist`, { groupId });

export const invalidRequest = (message: string, details?: Record<string, unknown>) => new GroupError("INVALID_REQUEST", message, details);
