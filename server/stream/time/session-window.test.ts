import { describe, expect, it } from "vitest";
import { isLateForSessions, isSessionClosed, mergeSession, sessionClosesAt, type Session, type SessionWindows } from "./session-window.ts";

const w: SessionWindows = { type: "session", gapMs: 100, graceMs: 10 };

/** Feeds event times through the merge rule as a session store would, returning the sessions. */
function sessionsOf(times: number[]): Session[] {
  let sessions: Session[] = [];
  for (const ts of times) {
    const { absorbed, session } = mergeSession(w, sessions, ts);
    sessions = sessions.filter((s) => !absorbed.includes(s)).concat(session);
  }
  return sessions.sort((a, b) => a.start - b.start);
}

describe("session windows", () => {
  it("a record with no session in reach starts its own, [ts, ts]", () => {
    expect(mergeSession(w, [], 500)).toEqual({ absorbed: [], session: { start: 500, end: 500 } });
  });

  it("records within the gap extend one session; a gap wider than gapMs starts another", () => {
    expect(sessionsOf([0, 50, 150, 400])).toEqual([
      { start: 0, end: 150 },
      { start: 400, end: 400 },
    ]);
  });

  it("the gap is inclusive: a record exactly gapMs after the end still joins", () => {
    expect(sessionsOf([0, 100])).toEqual([{ start: 0, end: 100 }]);
    expect(sessionsOf([0, 101])).toHaveLength(2);
  });

  it("an out-of-order record that bridges two sessions merges them into one", () => {
    const before = sessionsOf([0, 180]);
    expect(before).toHaveLength(2);
    const { absorbed, session } = mergeSession(w, before, 90);
    expect(absorbed).toEqual(before);
    expect(session).toEqual({ start: 0, end: 180 });
  });

  it("a record before a session's start, within the gap, extends it backwards", () => {
    expect(sessionsOf([500, 420])).toEqual([{ start: 420, end: 500 }]);
  });

  it("the result does not depend on the order records arrive in", () => {
    const times = [10, 400, 90, 260, 180, 700, 330, 1000, 905];
    const expected = sessionsOf([...times].sort((a, b) => a - b));
    for (let i = 0; i < 50; i++) {
      const shuffled = [...times].sort(() => Math.random() - 0.5);
      expect(sessionsOf(shuffled)).toEqual(expected);
    }
  });

  it("closes when the watermark passes end + gap + grace: no on-time record could extend it any more", () => {
    const s = { start: 0, end: 150 };
    expect(sessionClosesAt(w, s)).toBe(260);
    expect(isSessionClosed(w, s, 259)).toBe(false);
    expect(isSessionClosed(w, s, 260)).toBe(true);
  });

  it("a record is late only when even a session of its own would already be closed", () => {
    expect(isLateForSessions(w, 1000, 1109)).toBe(false);
    expect(isLateForSessions(w, 1000, 1110)).toBe(true);
  });
});
