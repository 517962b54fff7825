"use client";
import { useState } from "react";
import { ZPipelineName } from "@/server/schemas/pipeline";
import { Dialog } from "../ui/dialog";
import { ErrorBox } from "../ui/status";

/**
 * Asks for a pipeline name (checked as typed with the server's own rule) and runs `submit` with
 * it; the server's refusal (a name taken) shows in the dialog until the name is edited.
 */
export function PipelineNameDialog({
  title,
  intro,
  initial = "",
  action,
  busy,
  error,
  onSubmit,
  onEdit,
  onClose,
  testId,
}: {
  title: string;
  intro: string;
  initial?: string;
  action: string;
  busy: boolean;
  error: unknown;
  onSubmit: (name: string) => void;
  /** the name changed: a server error about the old one is stale */
  onEdit: () => void;
  onClose: () => void;
  testId: string;
}) {
  const [name, setName] = useState(initial);
  const check = ZPipelineName.safeParse(name.trim());
  const hint = name === "" || check.success ? null : check.error.issues[0].message;
  return (
    <Dialog open onClose={onClose} title={title} testId={testId}>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          if (check.success) onSubmit(check.data);
        }}
      >
        <p className="muted" style={{ margin: 0 }}>
          {intro}
        </p>
        <label className="field">
          Name
          <input
            autoFocus
            data-testid={`${testId}-name`}
            value={name}
            aria-invalid={hint ? true : undefined}
            placeholder="e.g. fraud-alert"
            onChange={(e) => {
              onEdit();
              setName(e.target.value);
            }}
          />
        </label>
        <div className="field-error" data-testid={`${testId}-name-error`}>
          {hint}
        </div>
        <ErrorBox error={error} testId={`${testId}-error`} />
        <div className="row" style={{ justifyContent: "flex-end" }}>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={!check.success || busy} data-testid={`${testId}-submit`}>
            {busy ? `${action}…` : action}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
