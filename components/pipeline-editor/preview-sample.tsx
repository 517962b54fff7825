"use client";
/**
 * What a preview reads of each source: its last N records per partition, or its records stamped
 * within a time range (the server bounds both and refuses a bad range, naming the field).
 */
import type { TPreviewRequest } from "@/server/schemas/pipeline";

export type PreviewSample = { kind: "last"; limit: number } | { kind: "range"; from: string; to: string };

const LIMITS = [10, 100, 1000];
const HOUR = 3_600_000;

/** A time as a datetime-local input shows it (local time, to the second). */
function localText(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 19);
}

/** The preview request's sample fields: `limit`, or `from` and `to` as ISO 8601 (the inputs' local times). */
export function sampleRequest(s: PreviewSample): Pick<TPreviewRequest, "limit" | "from" | "to"> {
  if (s.kind === "last") return { limit: s.limit };
  const iso = (t: string) => {
    const ms = Date.parse(t);
    return Number.isFinite(ms) ? new Date(ms).toISOString() : t; // what does not parse goes as typed: the server names it
  };
  return { from: iso(s.from), ...(s.to ? { to: iso(s.to) } : {}) };
}

export function PreviewSampleControl({ sample, onChange }: { sample: PreviewSample; onChange: (s: PreviewSample) => void }) {
  return (
    <>
      <select
        aria-label="records to preview"
        data-testid="preview-limit"
        value={sample.kind === "last" ? String(sample.limit) : "range"}
        onChange={(e) => {
          const v = e.target.value;
          const now = Date.now();
          onChange(v === "range" ? { kind: "range", from: localText(now - HOUR), to: localText(now) } : { kind: "last", limit: Number(v) });
        }}
      >
        {LIMITS.map((n) => (
          <option key={n} value={n}>
            last {n}
          </option>
        ))}
        <option value="range">time range…</option>
      </select>
      {sample.kind === "range" && (
        <span className="row pe-preview-range" data-testid="preview-range">
          <input
            type="datetime-local"
            step={1}
            aria-label="from (record time)"
            style={{ width: 200 }}
            data-testid="preview-from"
            value={sample.from}
            onChange={(e) => onChange({ ...sample, from: e.target.value })}
          />
          <span className="small muted">to</span>
          <input
            type="datetime-local"
            step={1}
            aria-label="to (record time; empty: now)"
            style={{ width: 200 }}
            data-testid="preview-to"
            value={sample.to}
            onChange={(e) => onChange({ ...sample, to: e.target.value })}
          />
        </span>
      )}
    </>
  );
}
