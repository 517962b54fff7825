"use client";
import { useState } from "react";
import type { TTopic } from "@/server/schemas/topic";
import { useUpdateTopicConfigs } from "../hooks/use-topic";
import { ErrorBox } from "../ui/status";
import { CONFIG_NAMES, ENUM_CONFIGS, configHint, configValue } from "./create-topic-dialog";

export function ConfigsTab({ topic }: { topic: TTopic }) {
  const update = useUpdateTopicConfigs(topic.name);
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState(false);
  const current = (n: string) => String(topic.configs[n as keyof TTopic["configs"]]);
  const startEdit = () => {
    setDraft(Object.fromEntries(CONFIG_NAMES.map((n) => [n, current(n)])));
    setEditing(true);
    setSaved(false);
    update.reset();
  };
  const hints = Object.fromEntries(CONFIG_NAMES.map((n) => [n, editing ? configHint(n, draft[n] ?? "") : null]));
  const changed = CONFIG_NAMES.filter((n) => editing && draft[n] !== current(n));
  const problems = Object.values(hints).filter((h) => h !== null).length;
  const valid = problems === 0;

  return (
    <form
      className="stack"
      onSubmit={(e) => {
        e.preventDefault();
        if (!valid || changed.length === 0) return;
        update.mutate(Object.fromEntries(changed.map((n) => [n, configValue(n, draft[n])])), {
          onSuccess: () => {
            setEditing(false);
            setSaved(true);
          },
        });
      }}
    >
      {/* fixed layout and widths: entering edit mode swaps text for inputs without moving a column */}
      <table data-testid="configs-table" style={{ tableLayout: "fixed" }}>
        <colgroup>
          <col style={{ width: "28%" }} />
          <col style={{ width: "52%" }} />
          <col style={{ width: "20%" }} />
        </colgroup>
        <thead>
          <tr>
            <th>Config</th>
            <th>Value</th>
            <th>Source</th>
          </tr>
        </thead>
        <tbody>
          {CONFIG_NAMES.map((n) => (
            <tr key={n} data-testid={`config-row-${n}`}>
              <td className="mono">{n}</td>
              <td>
                {editing ? (
                  <div className="stack" style={{ gap: 2 }}>
                    {ENUM_CONFIGS[n] ? (
                      <select
                        aria-label={n}
                        data-testid={`config-input-${n}`}
                        value={draft[n]}
                        onChange={(e) => setDraft({ ...draft, [n]: e.target.value })}
                      >
                        {ENUM_CONFIGS[n].map((v) => (
                          <option key={v}>{v}</option>
                        ))}
                      </select>
                    ) : (
                      <input
                        aria-label={n}
                        data-testid={`config-input-${n}`}
                        value={draft[n]}
                        inputMode="numeric"
                        style={{ width: "100%" }}
                        onChange={(e) => setDraft({ ...draft, [n]: e.target.value })}
                        aria-invalid={hints[n] ? true : undefined}
                      />
                    )}
                    {hints[n] && (
                      <span className="field-error" style={{ minHeight: 0, whiteSpace: "normal" }} data-testid={`config-error-${n}`}>
                        {hints[n]}
                      </span>
                    )}
                  </div>
                ) : (
                  <span className="mono" data-testid={`config-value-${n}`}>
                    {current(n)}
                  </span>
                )}
              </td>
              <td className="muted small">{topic.overrides.includes(n) ? "topic override" : "default"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <ErrorBox error={update.error} testId="configs-error" />
      <div className="row" style={{ minHeight: 34 }}>
        {!editing ? (
          <button type="button" data-testid="configs-edit" onClick={startEdit}>
            Edit configs
          </button>
        ) : (
          <>
            <button
              type="submit"
              className="primary"
              data-testid="configs-save"
              disabled={!valid || changed.length === 0 || update.isPending}
            >
              Save {changed.length ? `(${changed.length} changed)` : ""}
            </button>
            <button type="button" data-testid="configs-cancel" onClick={() => setEditing(false)}>
              Cancel
            </button>
            {problems > 0 && (
              <span className="field-error" data-testid="configs-problems" style={{ minHeight: 0 }}>
                {problems === 1 ? "1 value to fix" : `${problems} values to fix`}
              </span>
            )}
          </>
        )}
        {saved && (
          <span className="ok" data-testid="configs-saved">
            Saved.
          </span>
        )}
      </div>
    </form>
  );
}
