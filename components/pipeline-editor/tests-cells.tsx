"use client";
/**
 * The editable cells of a test case: a JSON value (a key, a value) and a time (ms since the
 * epoch or ISO 8601 text with a zone, as the shared schema takes it). Each keeps its own text
 * while it does not parse (marked invalid, the case unchanged) and hands on the value once it
 * does; a change from outside (undo) replaces the text unless the cell is being edited.
 */
import { useEffect, useRef, useState } from "react";
import { ZTestTime } from "@/server/schemas/pipeline-tests";

const jsonText = (v: unknown) => (v === undefined ? "" : JSON.stringify(v));

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text.trim() === "") return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function parseTime(text: string, optional: boolean): { ok: true; value: unknown } | { ok: false } {
  const t = text.trim();
  if (t === "" && optional) return { ok: true, value: undefined };
  const r = ZTestTime.safeParse(/^\d+$/.test(t) ? Number(t) : t);
  return r.success ? { ok: true, value: r.data } : { ok: false };
}

const HINT = {
  json: 'JSON: a string in quotes ("ann"), a number, an object {…}; empty: not given',
  time: "a time: ISO 8601 with a zone (2026-01-01T10:00:00Z) or ms since the epoch",
};

export function ValueCell({
  value,
  onChange,
  kind = "json",
  testId,
  label,
  optional = false,
}: {
  value: unknown;
  onChange: (v: unknown) => void;
  kind?: "json" | "time";
  testId: string;
  label: string;
  /** a time that may be left empty */
  optional?: boolean;
}) {
  const shown = kind === "json" ? jsonText(value) : value === undefined ? "" : String(value);
  const [text, setText] = useState(shown);
  const [bad, setBad] = useState(false);
  const editing = useRef(false);
  useEffect(() => {
    if (!editing.current) {
      setText(shown);
      setBad(false);
    }
  }, [shown]);
  return (
    <input
      className={`mono pe-cell${bad ? " bad" : ""}`}
      aria-label={label}
      aria-invalid={bad || undefined}
      title={bad ? `Not accepted — ${HINT[kind]}` : HINT[kind]}
      data-testid={testId}
      value={text}
      spellCheck={false}
      onFocus={() => (editing.current = true)}
      onBlur={() => {
        editing.current = false;
        if (!bad) setText(shown);
      }}
      onChange={(e) => {
        setText(e.target.value);
        const r = kind === "json" ? parseJson(e.target.value) : parseTime(e.target.value, optional);
        setBad(!r.ok);
        if (r.ok) onChange(r.value);
      }}
    />
  );
}
