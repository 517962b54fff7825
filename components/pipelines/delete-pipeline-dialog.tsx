"use client";
import { Dialog } from "../ui/dialog";
import { ErrorBox } from "../ui/status";
import { useDeletePipeline, type TPipelineSummary } from "./use-pipelines";

/** Deleting stops a running pipeline and drops its draft, every version, its group and internal topics; the topics it reads and writes stay. */
export function DeletePipelineDialog({ pipeline, onClose }: { pipeline: TPipelineSummary; onClose: () => void }) {
  const del = useDeletePipeline();
  const live = pipeline.state === "running" || pipeline.state === "paused";
  return (
    <Dialog open onClose={onClose} title={`Delete pipeline ${pipeline.name}`} testId="delete-pipeline-dialog">
      <div className="stack">
        <p style={{ margin: 0 }}>
          This deletes <strong>{pipeline.name}</strong> and its draft
          {pipeline.version === null ? "" : ` and ${pipeline.version} deployed version${pipeline.version === 1 ? "" : "s"}`}.{" "}
          {live && <strong className="warn">It is {pipeline.state}: it is stopped first. </strong>}
          Its consumer group <code>pipeline-{pipeline.name}</code> and internal topics (the state&apos;s changelog, repartition topics) go
          with it; the topics it reads and writes stay. It cannot be undone.
        </p>
        <ErrorBox error={del.error} testId="delete-pipeline-error" />
        <div className="row" style={{ justifyContent: "flex-end" }}>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button
            type="button"
            className="danger"
            autoFocus
            disabled={del.isPending}
            data-testid="delete-pipeline-submit"
            onClick={() => del.mutate(pipeline.name, { onSuccess: onClose })}
          >
            {del.isPending ? "Deleting…" : "Delete pipeline"}
          </button>
        </div>
      </div>
    </Dialog>
  );
}
