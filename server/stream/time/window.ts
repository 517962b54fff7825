/**
 * Time windows as Kafka Streams and Flink define them, over event time in milliseconds:
 * half-open `[start, end)`, aligned to the epoch (a tumbling window of one hour starts on the
 * hour). A window is closed once the watermark has passed its end plus the grace period; after
 * that it emits its final result and a record that would fall in it is late.
 */

/** A window of event time: `start` inclusive, `end` exclusive. */
export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

/** Fixed-size, non-overlapping windows: every record is in exactly one. */
export interface TumblingWindows {
  readonly type: "tumbling";
  readonly sizeMs: number;
  readonly graceMs: number;
}

/** Fixed-size windows starting every `advanceMs`: a record is in `sizeMs / advanceMs` of them (rounded up). */
export interface HoppingWindows {
  readonly type: "hopping";
  readonly sizeMs: number;
  readonly advanceMs: number;
  readonly graceMs: number;
}

export type TimeWindows = TumblingWindows | HoppingWindows;

/** The most windows one record may fall in (size / advance), so one record costs bounded work. */
export const MAX_WINDOWS_PER_RECORD = 1000;

/** Floor division that also holds for negative timestamps (before 1970). */
function alignDown(t: number, step: number): number {
  return t - (((t % step) + step) % step);
}

/** Why a window definition cannot be used, or null. */
export function windowsProblem(w: TimeWindows): string | null {
  if (!Number.isSafeInteger(w.sizeMs) || w.sizeMs < 1) return "sizeMs must be a whole number of milliseconds ≥ 1";
  if (!Number.isSafeInteger(w.graceMs) || w.graceMs < 0) return "graceMs must be a whole number of milliseconds ≥ 0";
  if (w.type === "hopping") {
    if (!Number.isSafeInteger(w.advanceMs) || w.advanceMs < 1) return "advanceMs must be a whole number of milliseconds ≥ 1";
    if (w.advanceMs > w.sizeMs) return "advanceMs must not exceed sizeMs (a record would fall in no window)";
    if (Math.ceil(w.sizeMs / w.advanceMs) > MAX_WINDOWS_PER_RECORD)
      return `sizeMs / advanceMs must be at most ${MAX_WINDOWS_PER_RECORD} (windows per record)`;
  }
  return null;
}

/** The start of the one tumbling window a record with event time `ts` belongs to. */
export function tumblingStart(w: TumblingWindows, ts: number): number {
  return alignDown(ts, w.sizeMs);
}

/** The windows a record with event time `ts` belongs to, oldest first. */
export function windowsFor(w: TimeWindows, ts: number): TimeWindow[] {
  if (w.type === "tumbling") {
    const start = tumblingStart(w, ts);
    return [{ start, end: start + w.sizeMs }];
  }
  const out: TimeWindow[] = [];
  for (let start = alignDown(ts, w.advanceMs); start > ts - w.sizeMs; start -= w.advanceMs) {
    out.push({ start, end: start + w.sizeMs });
  }
  return out.reverse();
}

/** The watermark at which `window` closes: its end plus the grace period. */
export function closesAt(w: TimeWindows, window: TimeWindow): number {
  return window.end + w.graceMs;
}

/** Whether `window` is closed at `watermark` (its final result is out; records for it are late). */
export function isClosed(w: TimeWindows, window: TimeWindow, watermark: number): boolean {
  return watermark >= closesAt(w, window);
}

/**
 * The windows a record at `ts` still updates at `watermark`, and how many of its windows had
 * already closed (a late record: counted, and routed to the late port when none is open).
 */
export function assignWindows(w: TimeWindows, ts: number, watermark: number): { open: TimeWindow[]; closed: number } {
  const all = windowsFor(w, ts);
  const open = all.filter((win) => !isClosed(w, win, watermark));
  return { open, closed: all.length - open.length };
}
