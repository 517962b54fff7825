"use client";
import { ApiRequestError } from "../hooks/api";
import { Dialog } from "../ui/dialog";
import { ErrorBox } from "../ui/status";
import { usePipelineDiff, useRollback } from "./use-pipelines";

/**
 * Rolling back deploys an earlier version as a new one (and makes it the draft). The dialog says
 * what changes against the running version and whether undeployed draft edits are replaced;
 * when the server answers that a stateful node changed, it offers the state reset instead.
 */
export function RollbackDialog({
  name,
  version,
  current,
  onClose,
  onDone,
}: {
  name: string;
  version: number;
  current: number;
  onClose: () => void;
  onDone: (newVersion: number) => void;
}) {
  const rollback = useRollback(name);
  const change = usePipelineDiff(name, current, version);
  const draft = usePipelineDiff(name, current, "draft");
  const error = rollback.error;
  const resetNeeded = error instanceof ApiRequestError && error.code === "PIPELINE_STATE_RESET_REQUIRED";
  const nodes = resetNeeded && Array.isArray(error.details?.nodes) ? (error.details.nodes as string[]) : [];
  const run = (resetState: boolean) => rollback.mutate({ version, resetState }, { onSuccess: (d) => onDone(d.version ?? version) });

  return (
    <Dialog open onClose={onClose} title={`Roll back ${name} to v${version}`} testId="rollback-dialog">
      <div className="stack">
        <p style={{ margin: 0 }}>
          Deploys v{version}&apos;s definition as a new version in place of the running v{current}, from the committed offsets, and makes it
          the draft (its test cases stay).
        </p>
        <div className="notice" data-testid="rollback-change">
          Against v{current}: {change.data ? change.data.summary : change.error ? "could not compare" : "comparing…"}
        </div>
        {draft.data && !draft.data.identical && (
          <div className="notice warn" data-testid="rollback-draft-warning">
            The draft has changes that were never deployed ({draft.data.summary}); they are replaced by v{version}.
          </div>
        )}
        {resetNeeded ? (
          <div className="alert" role="alert" data-testid="rollback-reset-required">
            <strong>State reset needed.</strong>{" "}
            {nodes.length === 1 ? `Stateful node ${nodes[0]} differs` : `Stateful nodes ${nodes.join(", ")} differ`} from v{current}: their
            stored state would not fit v{version}. Rolling back with a state reset drops that state (the changelog and the group&apos;s
            offsets) and starts v{version} over from its sources&apos; start.
          </div>
        ) : (
          <ErrorBox error={error} testId="rollback-error" />
        )}
        <div className="row" style={{ justifyContent: "flex-end" }}>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          {resetNeeded ? (
            <button
              type="button"
              className="danger"
              disabled={rollback.isPending}
              data-testid="rollback-reset-submit"
              onClick={() => run(true)}
            >
              {rollback.isPending ? "Rolling back…" : "Reset state and roll back"}
            </button>
          ) : (
            <button
              type="button"
              className="primary"
              autoFocus
              disabled={rollback.isPending}
              data-testid="rollback-submit"
              onClick={() => run(false)}
            >
              {rollback.isPending ? "Rolling back…" : `Roll back to v${version}`}
            </button>
          )}
        </div>
      </div>
    </Dialog>
  );
}
