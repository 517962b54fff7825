/**
 * Session windows (Kafka Streams' `SessionWindows`, Flink's event-time sessions): per key, the
 * records whose event times lie within `gapMs` of each other form one session `[start, end]`
 * (both inclusive: the first and the last record's time). A record that falls within the gap of
 * two sessions merges them. A session is closed once the watermark has passed its end plus the
 * gap (no on-time record could extend it any more) plus the grace period.
 */

/** One session of a key: the event times of its first and last record (both inclusive). */
export interface Session {
  readonly start: number;
  readonly end: number;
}

export interface SessionWindows {
  readonly type: "session";
  readonly gapMs: number;
  readonly graceMs: number;
}

/** Why a session definition cannot be used, or null. */
export function sessionWindowsProblem(w: SessionWindows): string | null {
  if (!Number.isSafeInteger(w.gapMs) || w.gapMs < 1) return "gapMs must be a whole number of milliseconds ≥ 1";
  if (!Number.isSafeInteger(w.graceMs) || w.graceMs < 0) return "graceMs must be a whole number of milliseconds ≥ 0";
  return null;
}

/** Whether a record at `ts` joins `session` (it lies within the gap of it). */
export function reaches(w: SessionWindows, session: Session, ts: number): boolean {
  return ts >= session.start - w.gapMs && ts <= session.end + w.gapMs;
}

/**
 * Where a record at `ts` goes among a key's sessions: the sessions it merges (`absorbed`, to
 * remove from the store, their aggregates combined into the new one) and the resulting session.
 * With none in reach it starts a session of its own, `[ts, ts]`.
 */
export function mergeSession(w: SessionWindows, sessions: readonly Session[], ts: number): { absorbed: Session[]; session: Session } {
  const absorbed = sessions.filter((s) => reaches(w, s, ts));
  let start = ts;
  let end = ts;
  for (const s of absorbed) {
    if (s.start < start) start = s.start;
    if (s.end > end) end = s.end;
  }
  return { absorbed, session: { start, end } };
}

/** The watermark at which `session` closes: its end, plus the gap, plus the grace period. */
export function sessionClosesAt(w: SessionWindows, session: Session): number {
  return session.end + w.gapMs + w.graceMs;
}

export function isSessionClosed(w: SessionWindows, session: Session, watermark: number): boolean {
  return watermark >= sessionClosesAt(w, session);
}

/**
 * Whether a record at `ts` is late at `watermark`: every session it could create or extend is
 * already closed. It could only start or extend a session ending at `ts` or later, so it is
 * late exactly when a session `[ts, ts]` would already be closed.
 */
export function isLateForSessions(w: SessionWindows, ts: number, watermark: number): boolean {
  return isSessionClosed(w, { start: ts, end: ts }, watermark);
}
