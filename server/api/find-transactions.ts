import type { TxnState } from "../broker/broker.ts";
import { getBroker } from "./registry.ts";

const OPEN: TxnState[] = ["Ongoing", "PrepareCommit", "PrepareAbort"];

/** Transactional ids with their state; `state` narrows it (comma-separated; `open` = Ongoing and Prepare*). */
export function findTransactions(state?: string) {
  const states = state ? [...new Set(state.split(",").flatMap((s) => (s === "open" ? OPEN : [s as TxnState])))] : undefined;
  return { transactions: getBroker().listTransactions(states) };
}

export function describeTransaction(transactionalId: string) {
  return getBroker().describeTransaction(transactionalId);
}
