/**
 * Errors raised by the broker: topics, partitions, the log. Codes, Kafka numbers, retriability
 * and HTTP statuses are in the one table of `server/errors/error-codes.ts`. Callers across
 * bundles (Next route handlers load their own copy of this module) must test `isBrokerError` or
 * `hasCode`, not `instanceof`.
 */
import type { BrokerErrorCode } from "../errors/error-codes.ts";
import { TributaryError } from "../errors/tributary-error.ts";

export type { BrokerErrorCode };

export class BrokerError extends TributaryError<BrokerErrorCode> {
  /** Marks errors raised inside the broker (also `GroupError`, `TxnError`), as opposed to the API layer's. */
  readonly isBrokerError = true;
  constructor(code: BrokerErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = "BrokerError";
  }
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
