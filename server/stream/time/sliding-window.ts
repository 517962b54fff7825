/**
 * Sliding windows as Kafka Streams defines them (`SlidingWindows.ofTimeDifferenceAndGrace`):
 * windows of `timeDifferenceMs` (d) placed by the records of a key, not aligned to the epoch. A
 * window `[start, end]` includes both ends (`end = start + d`), and a key's windows are
 *
 * - each record's **left** window `[t - d, t]`, ending at it, and
 * - each record's **right** window `[t + 1, t + 1 + d]`, starting just after it, once a record
 *   falls in it,
 *
 * so every set of records lying within d of each other is aggregated once, in one window, and
 * an aggregate is emitted per window. A window is closed once the watermark passed its end plus
 * the grace period (`end + 1 + grace`, its end being inclusive); a record is late when every
 * window that could hold it, up to `[t, t + d]`, is closed.
 *
 * A new window's aggregate is copied from an existing window holding the same records (as Kafka
 * Streams does: a count or a custom reducer cannot take a record back out of an aggregate), so
 * a key's closed windows are kept — updated, never emitted again — until no window a record
 * could still open or update can need them: `retainedUntil`.
 */

export interface SlidingWindows {
  readonly type: "sliding";
  readonly timeDifferenceMs: number;
  readonly graceMs: number;
}

/** A sliding window: `start` and `end` both inclusive. */
export interface SlidingWindow {
  readonly start: number;
  readonly end: number;
}

/** One of a key's windows as the planner sees it: its start and the newest event time in it. */
export interface WindowMark {
  readonly start: number;
  readonly maxTimestamp: number;
}

/** What a record does to its key's windows. */
export interface SlidingPlan {
  /** starts of the existing windows holding the record: it is folded into each */
  readonly update: number[];
  /**
   * windows to create: their start, the existing window whose aggregate they begin with (the
   * same records; null: empty) and whether the record goes in (a right window does not hold it)
   */
  readonly create: { start: number; from: number | null; add: boolean }[];
}

/** Why a sliding window definition cannot be used, or null. */
export function slidingWindowsProblem(w: SlidingWindows): string | null {
  if (!Number.isSafeInteger(w.timeDifferenceMs) || w.timeDifferenceMs < 1)
    return "timeDifferenceMs must be a whole number of milliseconds ≥ 1";
  if (!Number.isSafeInteger(w.graceMs) || w.graceMs < 0) return "graceMs must be a whole number of milliseconds ≥ 0";
  return null;
}

export function slidingWindowAt(w: SlidingWindows, start: number): SlidingWindow {
  return { start, end: start + w.timeDifferenceMs };
}

/** The watermark at which `window` closes: past its (inclusive) end, plus the grace period. */
export function slidingClosesAt(w: SlidingWindows, window: SlidingWindow): number {
  return window.end + 1 + w.graceMs;
}

export function isSlidingClosed(w: SlidingWindows, window: SlidingWindow, watermark: number): boolean {
  return watermark >= slidingClosesAt(w, window);
}

/**
 * The watermark from which no record that is not late can need `window` any more, as a window
 * to update or to copy a new window's aggregate from, or to know where its key's records lie:
 * a record at `t` still on time (watermark < t + d + 1 + grace) reads windows ending at
 * `t - 2d` or later.
 */
export function slidingRetainedUntil(w: SlidingWindows, window: SlidingWindow): number {
  return window.end + 3 * w.timeDifferenceMs + 1 + w.graceMs;
}

/** Whether a record at `ts` is late: the last window that could hold it, `[ts, ts + d]`, is closed. */
export function isLateForSliding(w: SlidingWindows, ts: number, watermark: number): boolean {
  return isSlidingClosed(w, slidingWindowAt(w, ts), watermark);
}

/** The greatest of the sorted `times` below `x`, or undefined. */
function greatestBelow(times: readonly number[], x: number): number | undefined {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? times[lo - 1] : undefined;
}

/**
 * Where a record at `ts` goes among its key's windows (`marks`, every window the key keeps): the
 * windows it updates, and the windows it creates — its left window, the right window of the
 * record before it (when it is the first record to fall in it) and its own right window (when
 * later records fall in it) — each once, by start, and only if the key does not have it yet.
 *
 * A created window's aggregate begins as a copy of an existing window holding exactly the same
 * records: with the window's records lying in `[lo, hi]` and `r` the key's last record before
 * `lo`, that is the left window of `hi` unless `r` lies within d of `hi`, in which case it is
 * the right window of `r`.
 */
export function planSliding(w: SlidingWindows, marks: readonly WindowMark[], ts: number): SlidingPlan {
  const d = w.timeDifferenceMs;
  const starts = new Set<number>();
  // the key's records (their distinct event times): a window whose newest record is its end is that record's left window
  const times: number[] = [];
  const update: number[] = [];
  for (const m of marks) {
    starts.add(m.start);
    if (m.maxTimestamp === m.start + d) times.push(m.maxTimestamp);
    if (m.start <= ts && ts <= m.start + d) update.push(m.start);
  }
  times.sort((a, b) => a - b);
  update.sort((a, b) => a - b);

  const sourceOf = (start: number): number | null => {
    const after = greatestBelow(times, start + d + 1);
    if (after === undefined || after < start) return null; // no record in [start, start + d]
    const hi = after;
    const below = greatestBelow(times, start); // the key's last record before the window
    const from = below !== undefined && below >= hi - d ? below + 1 : hi - d;
    if (!starts.has(from)) throw new Error(`sliding windows: no window to copy [${start}, ${start + d}] from (expected one at ${from})`);
    return from;
  };

  const wanted: { start: number; add: boolean }[] = [{ start: ts - d, add: true }];
  const previous = greatestBelow(times, ts);
  if (previous !== undefined && ts <= previous + 1 + d) wanted.push({ start: previous + 1, add: true });
  const next = greatestBelow(times, ts + d + 2);
  if (next !== undefined && next > ts) wanted.push({ start: ts + 1, add: false });

  const create: SlidingPlan["create"] = [];
  for (const c of wanted) {
    if (starts.has(c.start) || create.some((x) => x.start === c.start)) continue;
    create.push({ start: c.start, from: sourceOf(c.start), add: c.add });
  }
  create.sort((a, b) => a.start - b.start);
  return { update, create };
}
