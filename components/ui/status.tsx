import type { ReactNode } from "react";
import { errorMessage } from "../hooks/api";
import { ErrorText } from "./error-text";

/** An API failure, shown as the server's own message. */
export function ErrorBox({ error, testId = "error" }: { error: unknown; testId?: string }) {
  if (!error) return null;
  return (
    <div role="alert" className="alert" data-testid={testId}>
      <ErrorText text={errorMessage(error)} />
    </div>
  );
}

/** Reserves the space of what is loading, so the page does not jump when it arrives. */
export function Loading({ height = 160, testId = "loading", label = "Loading…" }: { height?: number; testId?: string; label?: string }) {
  return (
    <div className="skeleton" style={{ minHeight: height }} data-testid={testId} aria-busy="true">
      <span className="sr-only">{label}</span>
    </div>
  );
}

export function Card({ label, value, testId, sub }: { label: string; value: ReactNode; testId: string; sub?: ReactNode }) {
  return (
    <div className="card" data-testid={testId}>
      <div className="label">{label}</div>
      <div className="value" data-testid={`${testId}-value`}>
        {value}
      </div>
      {sub && <div className="small muted">{sub}</div>}
    </div>
  );
}
