"use client";
import { useState } from "react";
import type { ResetTarget, TGroup, TResetOffsetsRequest, TResetOffsetsResponse } from "@/server/schemas/group";
import { useResetGroupOffsets } from "../hooks/use-group";
import { formatCount } from "../ui/format";
import { ErrorBox } from "../ui/status";

type Mode = ResetTarget["to"];
const MODES: { id: Mode; label: string }[] = [
  { id: "earliest", label: "Earliest (log start)" },
  { id: "latest", label: "Latest (high watermark)" },
  { id: "timestamp", label: "Date and time" },
  { id: "offset", label: "Specific offset" },
  { id: "shift", label: "Shift by N" },
];

/**
 * Reset offsets in two steps: a dry run shows the plan (current → new, records re-read or
 * skipped), then Apply commits exactly that request. Refused (and disabled) while the group
 * has active members, as in Kafka.
 */
export function ResetOffsetsWizard({ group }: { group: TGroup }) {
  const reset = useResetGroupOffsets(group.groupId);
  const [mode, setMode] = useState<Mode>("earliest");
  const [offset, setOffset] = useState("0");
  const [shift, setShift] = useState("-10");
  const [when, setWhen] = useState("");
  const [scope, setScope] = useState<"all" | "chosen">("all");
  const partitions = group.offsets.map((o) => `${o.topic}:${o.partition}`);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [plan, setPlan] = useState<{ req: TResetOffsetsRequest; res: TResetOffsetsResponse } | null>(null);
  const [applied, setApplied] = useState<TResetOffsetsResponse | null>(null);
  const active = group.members.length > 0;

  const target = (): ResetTarget | string => {
    if (mode === "earliest" || mode === "latest") return { to: mode };
    if (mode === "timestamp") {
      const t = Date.parse(when);
      return Number.isNaN(t) ? "pick a date and time" : { to: "timestamp", timestamp: t };
    }
    // the server validates ranges (e.g. negative offsets) and answers with its message
    if (mode === "offset")
      return /^-?\d+$/.test(offset.trim()) ? { to: "offset", offset: Number(offset) } : "offset must be a whole number";
    return /^-?\d+$/.test(shift.trim()) ? { to: "shift", shiftBy: Number(shift) } : "shift must be a whole number (negative to re-read)";
  };
  const t = target();
  const topics = (): TResetOffsetsRequest["topics"] => {
    if (scope === "all") return undefined;
    const byTopic = new Map<string, number[]>();
    for (const key of chosen) {
      const i = key.lastIndexOf(":");
      const topic = key.slice(0, i);
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), Number(key.slice(i + 1))]);
    }
    return [...byTopic].map(([topic, parts]) => ({ topic, partitions: parts.sort((a, b) => a - b) }));
  };
  const inputError = typeof t === "string" ? t : scope === "chosen" && chosen.size === 0 ? "choose at least one partition" : null;

  const preview = () => {
    if (typeof t === "string") return;
    setApplied(null);
    const req: TResetOffsetsRequest = { to: t, topics: topics(), dryRun: true };
    reset.mutate(req, { onSuccess: (res) => setPlan({ req, res }) });
  };
  const apply = () => {
    if (!plan) return;
    reset.mutate(
      { ...plan.req, dryRun: false },
      {
        onSuccess: (res) => {
          setApplied(res);
          setPlan(null);
        },
      },
    );
  };
  const changeInput =
    <T,>(fn: (v: T) => void) =>
    (v: T) => {
      fn(v);
      setPlan(null);
      reset.reset();
    };

  return (
    <div className="panel stack" data-testid="reset-wizard">
      <h2 style={{ margin: 0 }}>Reset offsets</h2>
      {active && (
        <div className="notice warn" data-testid="reset-disabled-reason">
          This group has {group.members.length} active member{group.members.length === 1 ? "" : "s"}. Offsets can only be reset while the
          group is empty: stop its consumers first (the dry run still works).
        </div>
      )}
      <div className="row" style={{ alignItems: "flex-start" }}>
        <label className="field">
          Reset to
          <select data-testid="reset-mode" value={mode} onChange={(e) => changeInput(setMode)(e.target.value as Mode)}>
            {MODES.map((m) => (
              <option key={m.id} value={m.id}>
                {m.label}
              </option>
            ))}
          </select>
        </label>
        {mode === "offset" && (
          <label className="field">
            Offset
            <input data-testid="reset-offset" inputMode="numeric" value={offset} onChange={(e) => changeInput(setOffset)(e.target.value)} />
          </label>
        )}
        {mode === "shift" && (
          <label className="field">
            Shift by (records; negative re-reads)
            <input data-testid="reset-shift" inputMode="numeric" value={shift} onChange={(e) => changeInput(setShift)(e.target.value)} />
          </label>
        )}
        {mode === "timestamp" && (
          <label className="field">
            First record at or after (local time)
            <input
              data-testid="reset-timestamp"
              type="datetime-local"
              step="1"
              value={when}
              onChange={(e) => changeInput(setWhen)(e.target.value)}
            />
          </label>
        )}
        <fieldset className="row" style={{ border: 0, padding: 0, margin: 0 }}>
          <legend className="small muted">Partitions</legend>
          <label className="row small" style={{ gap: 4 }}>
            <input
              type="radio"
              name="reset-scope"
              data-testid="reset-scope-all"
              checked={scope === "all"}
              onChange={() => changeInput(setScope)("all")}
            />{" "}
            all committed
          </label>
          <label className="row small" style={{ gap: 4 }}>
            <input
              type="radio"
              name="reset-scope"
              data-testid="reset-scope-chosen"
              checked={scope === "chosen"}
              onChange={() => changeInput(setScope)("chosen")}
            />{" "}
            chosen:
          </label>
          {scope === "chosen" &&
            partitions.map((k) => (
              <label key={k} className="row small" style={{ gap: 3 }}>
                <input
                  type="checkbox"
                  data-testid={`reset-partition-${k}`}
                  checked={chosen.has(k)}
                  onChange={() => {
                    const next = new Set(chosen);
                    if (next.has(k)) next.delete(k);
                    else next.add(k);
                    changeInput(setChosen)(next);
                  }}
                />
                {k}
              </label>
            ))}
        </fieldset>
      </div>
      <div className="field-error" data-testid="reset-input-error">
        {inputError}
      </div>
      <div className="row">
        <button type="button" data-testid="reset-preview" onClick={preview} disabled={inputError !== null || reset.isPending}>
          Preview (dry run)
        </button>
        <button
          type="button"
          className="danger"
          data-testid="reset-apply"
          onClick={apply}
          disabled={!plan || active || reset.isPending}
          title={active ? "stop the group's consumers first" : !plan ? "preview the plan first" : undefined}
        >
          Apply reset
        </button>
      </div>
      <ErrorBox error={reset.error} testId="reset-error" />
      {(plan || applied) && (
        <div data-testid={plan ? "reset-plan" : "reset-applied"}>
          <p className={plan ? "small" : "small ok"} style={{ margin: "4px 0" }}>
            {plan ? "Dry run — nothing has changed yet. Review, then Apply:" : "Applied. New committed offsets:"}
          </p>
          <table>
            <thead>
              <tr>
                <th>Topic</th>
                <th className="num">Partition</th>
                <th className="num">Current</th>
                <th className="num">New</th>
                <th className="num">Log start</th>
                <th className="num">High watermark</th>
                <th className="num">Re-read</th>
                <th className="num">Skipped</th>
              </tr>
            </thead>
            <tbody>
              {(plan?.res ?? applied)!.plan.map((e) => (
                <tr key={`${e.topic}:${e.partition}`} data-testid={`reset-plan-${e.topic}-${e.partition}`}>
                  <td>{e.topic}</td>
                  <td className="num">{e.partition}</td>
                  <td className="num" data-testid={`reset-plan-current-${e.topic}-${e.partition}`}>
                    {e.currentOffset === null ? "—" : formatCount(e.currentOffset)}
                  </td>
                  <td className="num" data-testid={`reset-plan-new-${e.topic}-${e.partition}`}>
                    {formatCount(e.newOffset)}
                  </td>
                  <td className="num">{formatCount(e.logStartOffset)}</td>
                  <td className="num">{formatCount(e.highWatermark)}</td>
                  <td className="num">{formatCount(e.recordsToReread)}</td>
                  <td className="num">{formatCount(e.recordsToSkip)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
