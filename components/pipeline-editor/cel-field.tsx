"use client";
/**
 * A CEL expression field: monospace, checked by the server (the draft is saved and validated
 * after each pause; its message shows here), examples for the node kind, and completion as the
 * user types: the variables and the record fields the server inferred for the node's input, and
 * those a preview saw arriving (record-fields.ts). The suggestions are a listbox the textarea
 * controls (arrows move, Enter or Tab accept, Escape closes; a click accepts too).
 */
import { useMemo, useRef, useState } from "react";
import type { TCompletion } from "@/server/schemas/pipeline";
import { ErrorText } from "../ui/error-text";

const MAX_SUGGESTIONS = 8;

/** Whether `c` can be part of a name being completed: letters, digits, `_`, `.` and a header's `["`. */
function inToken(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 91 || c === 34;
}

/** The name being typed just before the caret (`value.us`), or "" (scanned back: linear in its length). */
export function tokenBefore(text: string, caret: number): string {
  let i = caret;
  while (i > 0 && inToken(text.charCodeAt(i - 1))) i--;
  return text.slice(i, caret);
}

export function CelField({
  id,
  value,
  onChange,
  error,
  checking,
  examples,
  completions,
}: {
  id: string;
  value: string;
  onChange: (v: string) => void;
  error: string | undefined;
  checking: boolean;
  examples: string[];
  completions: readonly TCompletion[];
}) {
  const ref = useRef<HTMLTextAreaElement>(null);
  const [caret, setCaret] = useState<number | null>(null);
  const [active, setActive] = useState(0);
  const [showExamples, setShowExamples] = useState(false);

  const token = caret === null ? "" : tokenBefore(value, caret);
  const suggestions = useMemo(
    () => (token.length === 0 ? [] : completions.filter((c) => c.label.startsWith(token) && c.label !== token).slice(0, MAX_SUGGESTIONS)),
    [completions, token],
  );
  const listId = `${id}-completions`;
  const optionId = (i: number) => `${id}-completion-${i}`;

  const accept = (s: string) => {
    if (caret === null) return;
    const next = value.slice(0, caret - token.length) + s + value.slice(caret);
    onChange(next);
    const at = caret - token.length + s.length;
    setCaret(null);
    requestAnimationFrame(() => {
      ref.current?.focus();
      ref.current?.setSelectionRange(at, at);
    });
  };

  return (
    <div className="pe-cel">
      <div className="pe-cel-box">
        <textarea
          ref={ref}
          id={id}
          data-testid={`field-${id}`}
          rows={Math.min(6, Math.max(2, value.split("\n").length))}
          spellCheck={false}
          value={value}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-error` : undefined}
          aria-autocomplete="list"
          aria-expanded={suggestions.length > 0}
          aria-controls={suggestions.length > 0 ? listId : undefined}
          aria-activedescendant={suggestions.length > 0 ? optionId(Math.min(active, suggestions.length - 1)) : undefined}
          onChange={(e) => {
            onChange(e.target.value);
            setCaret(e.target.selectionStart);
            setActive(0);
          }}
          onSelect={(e) => setCaret(e.currentTarget.selectionStart)}
          onBlur={() => setTimeout(() => setCaret(null), 150)}
          onKeyDown={(e) => {
            if (suggestions.length === 0) return;
            if (e.key === "ArrowDown" || e.key === "ArrowUp") {
              e.preventDefault();
              setActive((a) => (a + (e.key === "ArrowDown" ? 1 : suggestions.length - 1)) % suggestions.length);
            } else if (e.key === "Tab" || e.key === "Enter") {
              e.preventDefault();
              accept((suggestions[active] ?? suggestions[0]).label);
            } else if (e.key === "Escape") {
              // closes the list (not the panel around it)
              e.preventDefault();
              e.stopPropagation();
              setCaret(null);
            }
          }}
        />
        {suggestions.length > 0 && (
          <ul className="pe-completions" role="listbox" id={listId} aria-label="completions" data-testid={`completions-${id}`}>
            {suggestions.map((s, i) => (
              <li
                key={s.label}
                id={optionId(i)}
                role="option"
                aria-selected={i === active}
                className="mono"
                data-testid="completion"
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => accept(s.label)}
              >
                <span className="pe-completion-label">{s.label}</span>
                <span className="pe-completion-type muted">{s.type}</span>
              </li>
            ))}
          </ul>
        )}
      </div>
      <div className="pe-cel-foot">
        {error ? (
          <div className="field-error" id={`${id}-error`} data-testid={`field-error-${id}`} role="alert">
            <ErrorText text={error} />
          </div>
        ) : (
          <span className="small muted" data-testid={`field-status-${id}`}>
            {checking ? "checking…" : ""}
          </span>
        )}
        {examples.length > 0 && (
          <button type="button" className="pe-link" data-testid={`examples-${id}`} onClick={() => setShowExamples((x) => !x)}>
            examples
          </button>
        )}
      </div>
      {showExamples && (
        <ul className="pe-examples">
          {examples.map((x) => (
            <li key={x}>
              <button
                type="button"
                className="mono"
                onClick={() => {
                  onChange(x);
                  setShowExamples(false);
                }}
              >
                {x}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
