"use client";
/**
 * A CEL expression field: monospace, checked by the server (the draft is saved and validated
 * after each pause; its message shows here), examples for the node kind, and completion of the
 * record fields a preview saw arriving (and the variables every expression has).
 */
import { useMemo, useRef, useState } from "react";
import { ErrorText } from "../ui/error-text";

const TOKEN = /[A-Za-z_][\w.]*$|\b$/;

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
  completions: string[];
}) {
  const ref = useRef<HTMLTextAreaElement>(null);
  const [caret, setCaret] = useState<number | null>(null);
  const [active, setActive] = useState(0);
  const [showExamples, setShowExamples] = useState(false);

  const token = caret === null ? "" : (TOKEN.exec(value.slice(0, caret))?.[0] ?? "");
  const suggestions = useMemo(
    () => (token.length === 0 ? [] : completions.filter((c) => c.startsWith(token) && c !== token).slice(0, 8)),
    [completions, token],
  );

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
              accept(suggestions[active] ?? suggestions[0]);
            } else if (e.key === "Escape") setCaret(null);
          }}
        />
        {suggestions.length > 0 && (
          <ul className="pe-completions" role="listbox" data-testid={`completions-${id}`}>
            {suggestions.map((s, i) => (
              <li key={s} role="option" aria-selected={i === active}>
                <button type="button" className="mono" onMouseDown={(e) => e.preventDefault()} onClick={() => accept(s)}>
                  {s}
                </button>
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
