import { describe, expect, it } from "vitest";
import {
  assertTransition,
  canTransition,
  GROUP_STATES,
  GROUP_TRANSITIONS,
  IllegalGroupTransitionError,
  type GroupState,
} from "./group-states.ts";

const LEGAL: [GroupState, GroupState][] = [
  ["Empty", "Stable"],
  ["Empty", "Dead"],
  ["Stable", "PreparingRebalance"],
  ["Stable", "CompletingRebalance"],
  ["Stable", "Empty"],
  ["PreparingRebalance", "CompletingRebalance"],
  ["PreparingRebalance", "Stable"],
  ["PreparingRebalance", "Empty"],
  ["CompletingRebalance", "PreparingRebalance"],
  ["CompletingRebalance", "Stable"],
  ["CompletingRebalance", "Empty"],
];

describe("consumer group state transition table", () => {
  it("allows exactly the listed transitions", () => {
    const legal = new Set(LEGAL.map(([a, b]) => `${a}→${b}`));
    for (const from of GROUP_STATES) {
      for (const to of GROUP_STATES) {
        expect(canTransition(from, to), `${from} → ${to}`).toBe(legal.has(`${from}→${to}`));
      }
    }
  });

  it.each(LEGAL)("%s → %s passes assertTransition", (from, to) => {
    expect(() => assertTransition(from, to)).not.toThrow();
  });

  it.each<[GroupState, GroupState]>([
    ["Dead", "Empty"],
    ["Dead", "Stable"],
    ["Stable", "Dead"],
    ["PreparingRebalance", "Dead"],
    ["CompletingRebalance", "Dead"],
    ["Empty", "PreparingRebalance"],
    ["Empty", "CompletingRebalance"],
    ["Stable", "Stable"],
  ])("%s → %s is illegal", (from, to) => {
    expect(() => assertTransition(from, to)).toThrow(IllegalGroupTransitionError);
    try {
      assertTransition(from, to);
    } catch (e) {
      expect(e).toMatchObject({ from, to });
    }
  });

  it("makes Dead terminal and lists every state", () => {
    expect(GROUP_TRANSITIONS.Dead).toEqual([]);
    expect(Object.keys(GROUP_TRANSITIONS).sort()).toEqual([...GROUP_STATES].sort());
  });
});
