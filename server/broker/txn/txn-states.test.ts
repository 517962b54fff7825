import { describe, expect, it } from "vitest";
import { assertTransition, canTransition, IllegalTxnTransitionError, TXN_STATES, TXN_TRANSITIONS, type TxnState } from "./txn-states.ts";

const LEGAL: [TxnState, TxnState][] = [
  ["Empty", "Ongoing"],
  ["Empty", "Dead"],
  ["Ongoing", "PrepareCommit"],
  ["Ongoing", "PrepareAbort"],
  ["PrepareCommit", "CompleteCommit"],
  ["PrepareAbort", "CompleteAbort"],
  ["CompleteCommit", "Empty"],
  ["CompleteCommit", "Ongoing"],
  ["CompleteCommit", "Dead"],
  ["CompleteAbort", "Empty"],
  ["CompleteAbort", "Ongoing"],
  ["CompleteAbort", "Dead"],
];

describe("transaction state transition table", () => {
  it("allows exactly the listed transitions", () => {
    const legal = new Set(LEGAL.map(([a, b]) => `${a}→${b}`));
    for (const from of TXN_STATES) {
      for (const to of TXN_STATES) {
        expect(canTransition(from, to), `${from} → ${to}`).toBe(legal.has(`${from}→${to}`));
      }
    }
  });

  it.each(LEGAL)("%s → %s passes assertTransition", (from, to) => {
    expect(() => assertTransition(from, to)).not.toThrow();
  });

  it.each<[TxnState, TxnState]>([
    ["Ongoing", "CompleteCommit"],
    ["Ongoing", "Empty"],
    ["Ongoing", "Dead"],
    ["PrepareCommit", "PrepareAbort"],
    ["PrepareCommit", "CompleteAbort"],
    ["PrepareAbort", "CompleteCommit"],
    ["PrepareAbort", "Ongoing"],
    ["Empty", "PrepareCommit"],
    ["Dead", "Empty"],
    ["Ongoing", "Ongoing"],
  ])("%s → %s is illegal", (from, to) => {
    expect(() => assertTransition(from, to)).toThrow(IllegalTxnTransitionError);
    try {
      assertTransition(from, to);
    } catch (e) {
      expect(e).toMatchObject({ from, to });
    }
  });

  it("makes Dead terminal and lists every state", () => {
    expect(TXN_TRANSITIONS.Dead).toEqual([]);
    expect(Object.keys(TXN_TRANSITIONS).sort()).toEqual([...TXN_STATES].sort());
  });
});
