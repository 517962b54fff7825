/**
 * Errors raised by the broker: topics, partitions and the log (`BrokerError`), consumer groups
 * (`GroupError`), idempotent producers and transactions (`TxnError`). One file below every broker
 * folder, so the log, the groups and the transactions throw them without importing each other.
 * Codes, Kafka numbers, retriability and HTTP statuses are in the one table of
 * `server/errors/error-codes.ts`. Callers across bundles (Next route handlers load their own copy
 * of this module) must test `isBrokerError` or `hasCode`, not `instanceof`.
 */
import type { BrokerErrorCode, ErrorCode, GroupErrorCode, TxnErrorCode } from "../errors/error-codes.ts";
import { TributaryError } from "../errors/tributary-error.ts";

export type { BrokerErrorCode, GroupErrorCode, TxnErrorCode };

/** What the broker raises, of any kind below: `isBrokerError` tells it from the API layer's errors. */
abstract class RaisedByBroker<C extends ErrorCode> extends TributaryError<C> {
  readonly isBrokerError = true;
}

/** Topics, partitions, the log. */
export class BrokerError extends RaisedByBroker<BrokerErrorCode> {
  override name = "BrokerError";
}

export function isBrokerError(e: unknown): e is BrokerError {
  return typeof e === "object" && e !== null && (e as { isBrokerError?: unknown }).isBrokerError === true;
}

export const unknownTopic = (topic: string) => new BrokerError("UNKNOWN_TOPIC_OR_PARTITION", `topic '${topic}' does not exist`, { topic });

export const unknownPartition = (topic: string, partition: number, partitions: number) =>
  new BrokerError("UNKNOWN_TOPIC_OR_PARTITION", `topic '${topic}' has no partition ${partition} (it has partitions 0..${partitions - 1})`, {
    topic,
    partition,
    partitions,
  });

export const transactionsNotEnabled = () =>
  new BrokerError("BROKER_NOT_AVAILABLE", "transactions are not enabled on this broker (it has no transaction store)");

// ---- consumer groups ----------------------------------------------------------------------

/**
 * Errors of the group coordinator. None is retriable: each needs the client to act first
 * (rejoin, take the epoch from its next heartbeat, or fix its input).
 */
export class GroupError extends RaisedByBroker<GroupErrorCode> {
  override name = "GroupError";
}

/** Cross-bundle safe check (see `isBrokerError` for why not `instanceof`). */
export function isGroupError(e: unknown): e is GroupError {
  return isBrokerError(e) && (e as { name?: unknown }).name === "GroupError";
}

export const unknownMember = (groupId: string, memberId: string) =>
  new GroupError("UNKNOWN_MEMBER_ID", `member '${memberId}' is not in group '${groupId}'`, { groupId, memberId });

export const groupNotFound = (groupId: string) => new GroupError("GROUP_ID_NOT_FOUND", `group '${groupId}' does not exist`, { groupId });

export const invalidGroupRequest = (message: string, details?: Record<string, unknown>) =>
  new GroupError("INVALID_REQUEST", message, details);

// ---- idempotent producers and transactions ---------------------------------------------

export class TxnError extends RaisedByBroker<TxnErrorCode> {
  override name = "TxnError";
}

/** Cross-bundle safe check (see `isBrokerError` for why not `instanceof`). */
export function isTxnError(e: unknown): e is TxnError {
  return isBrokerError(e) && (e as { name?: unknown }).name === "TxnError";
}

export const invalidTxnRequest = (message: string, details?: Record<string, unknown>) => new TxnError("INVALID_REQUEST", message, details);
