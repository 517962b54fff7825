/**
 * The lifecycles of simulated clients as transition tables: every change goes through
 * `assertMove`, so a bug that would, say, pause a killed member fails loudly, and an action the
 * state does not allow is refused with INVALID_SIMULATION_STATE naming both.
 *
 * A member: joining (its consumer joins the group) → running ⇄ paused (still a member, reading
 * nothing); killed (stopped heartbeating, as a crash: the broker expires it after the session
 * timeout), stopped (left the group cleanly) and failed (its consumer gave up) end a member,
 * which `start` or `restart` replaces with a fresh one (joining again).
 *
 * A producer: running ⇄ paused; failed when its producer cannot go on; stopped when deleted.
 */
import { TributaryError } from "../errors/tributary-error.ts";
import type { TSimulatedMember } from "../schemas/topology.ts";

export type MemberState = TSimulatedMember["state"];
export type ProducerState = "running" | "paused" | "failed" | "stopped";

export const MEMBER_MOVES: Readonly<Record<MemberState, readonly MemberState[]>> = {
  joining: ["running", "killed", "stopped", "failed"],
  running: ["paused", "killed", "stopped", "failed"],
  paused: ["running", "killed", "stopped", "failed"],
  killed: ["joining"],
  stopped: ["joining"],
  failed: ["joining"],
};

export const PRODUCER_MOVES: Readonly<Record<ProducerState, readonly ProducerState[]>> = {
  running: ["paused", "failed", "stopped"],
  paused: ["running", "failed", "stopped"],
  failed: ["running", "stopped"],
  stopped: [],
};

export function canMove<S extends string>(table: Readonly<Record<S, readonly S[]>>, from: S, to: S): boolean {
  return table[from].includes(to);
}

/** Refuses a move the table does not allow, as a request error (`what` names the client and the action). */
export function assertMove<S extends string>(table: Readonly<Record<S, readonly S[]>>, from: S, to: S, what: string): void {
  if (!canMove(table, from, to)) {
    throw new TributaryError("INVALID_SIMULATION_STATE", `cannot ${what}: it is ${from}`, { state: from });
  }
}
