"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { errorMessage } from "../hooks/api";
import { useGroups } from "../hooks/use-groups";
import { useUrlState } from "../hooks/use-url-state";
import { formatCount, formatRate } from "../ui/format";
import { Loading } from "../ui/status";
import { DeletePipelineDialog } from "./delete-pipeline-dialog";
import { PipelineNameDialog } from "./pipeline-name-dialog";
import { StateChip } from "./state-chip";
import { TemplateCards } from "./template-cards";
import { useCreatePipeline, useDuplicatePipeline, usePipelines, type TPipelineSummary } from "./use-pipelines";
import "./pipelines.css";

const enc = encodeURIComponent;

/** A new name for a copy of `name` that no pipeline has yet. */
function copyName(name: string, taken: ReadonlySet<string>): string {
  const base = `${name.slice(0, 94)}-copy`;
  for (let i = 1; ; i++) {
    const candidate = i === 1 ? base : `${base}${i}`;
    if (!taken.has(candidate)) return candidate;
  }
}

export function PipelinesList() {
  const router = useRouter();
  const { get, set } = useUrlState();
  const pipelines = usePipelines();
  const groups = useGroups();
  const create = useCreatePipeline();
  const duplicate = useDuplicatePipeline();
  const [copying, setCopying] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<TPipelineSummary | null>(null);
  const q = get("q");
  const creating = get("create") === "1";

  const lag = new Map((groups.data ?? []).map((g) => [g.groupId, g.totalLag]));
  const all = pipelines.data ?? [];
  const rows = all.filter((p) => p.name.toLowerCase().includes(q.toLowerCase()));
  const open = (name: string) => router.push(`/pipelines/${enc(name)}`);

  return (
    <section data-testid="pipelines-page">
      <div className="spread">
        <h1>Pipelines</h1>
        <div className="row">
          {all.length > 0 && (
            <input
              type="search"
              aria-label="search pipelines"
              placeholder="Search pipelines"
              data-testid="pipelines-search"
              value={q}
              onChange={(e) => set({ q: e.target.value })}
            />
          )}
          <button className="primary" data-testid="create-pipeline-open" onClick={() => set({ create: "1" }, "push")}>
            Create pipeline
          </button>
        </div>
      </div>
      {pipelines.error ? (
        <div className="stack" data-testid="pipelines-failed">
          <div role="alert" className="alert" data-testid="pipelines-error">
            Could not load the pipelines: {errorMessage(pipelines.error)}. The server may be restarting or unreachable.
          </div>
          <div>
            <button type="button" data-testid="pipelines-retry" onClick={() => void pipelines.refetch()}>
              Try again
            </button>
          </div>
        </div>
      ) : pipelines.isPending ? (
        <Loading testId="pipelines-loading" />
      ) : all.length === 0 ? (
        <div className="panel empty-pipelines stack" data-testid="pipelines-empty">
          <h2 style={{ margin: 0 }}>No pipelines yet</h2>
          <p className="muted" style={{ margin: 0 }}>
            A pipeline reads topics, filters, maps, aggregates and joins their records, and writes the results to other topics,
            exactly-once. Start from a template, or from an empty canvas.
          </p>
          <div>
            <button className="primary" data-testid="create-pipeline-empty" onClick={() => set({ create: "1" }, "push")}>
              Create an empty pipeline
            </button>
          </div>
          <div style={{ textAlign: "left", marginTop: 12 }}>
            <h2>Start from a template</h2>
            <TemplateCards />
          </div>
        </div>
      ) : (
        <>
          <table data-testid="pipelines-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>State</th>
                <th className="num">Version</th>
                <th className="num" title="input records per second over the last 5 s">
                  In records/s
                </th>
                <th className="num" title="input records not yet processed (a paused or stopped one: the lag of its group pipeline-<name>)">
                  Lag
                </th>
                <th
                  className="num"
                  title="records the nodes failed on since the running version started (dead-lettered, or dropped without a dead-letter sink)"
                >
                  Errors
                </th>
                <th />
              </tr>
            </thead>
            <tbody>
              {rows.length === 0 && (
                <tr>
                  <td colSpan={7} className="muted" data-testid="pipelines-no-match">
                    No pipeline matches “{q}”.
                  </td>
                </tr>
              )}
              {rows.map((p) => {
                const rate = p.metrics?.recordsInPerSec;
                const groupLag = p.metrics?.lag ?? (p.version === null ? undefined : lag.get(`pipeline-${p.name}`));
                const errors = p.metrics?.errors;
                return (
                  <tr key={p.name} data-testid={`pipeline-row-${p.name}`}>
                    <td>
                      <Link href={`/pipelines/${enc(p.name)}`} data-testid={`pipeline-link-${p.name}`}>
                        {p.name}
                      </Link>
                    </td>
                    <td style={{ whiteSpace: "normal" }}>
                      <StateChip state={p.state} testId={`pipeline-state-${p.name}`} />
                      {p.error && (
                        <div className="small" style={{ color: "var(--danger)", maxWidth: 360 }} data-testid={`pipeline-error-${p.name}`}>
                          {p.error.node ? `${p.error.node}: ` : ""}
                          {p.error.message}
                        </div>
                      )}
                    </td>
                    <td className="num" data-testid={`pipeline-version-${p.name}`}>
                      {p.version === null ? (
                        <span className="muted">—</span>
                      ) : (
                        <Link href={`/pipelines/${enc(p.name)}/versions`} title="version history">
                          v{p.version}
                        </Link>
                      )}
                    </td>
                    <td className="num" data-testid={`pipeline-rate-${p.name}`}>
                      {rate === undefined ? <span className="muted">—</span> : formatRate(rate)}
                    </td>
                    <td className="num" data-testid={`pipeline-lag-${p.name}`}>
                      {groupLag === undefined ? <span className="muted">—</span> : formatCount(groupLag)}
                    </td>
                    <td className="num" data-testid={`pipeline-errors-${p.name}`}>
                      {errors === undefined ? (
                        <span className="muted">—</span>
                      ) : (
                        <span className={errors > 0 ? "warn" : undefined}>{formatCount(errors)}</span>
                      )}
                    </td>
                    <td>
                      <div className="row-actions">
                        <button type="button" className="small" data-testid={`pipeline-open-${p.name}`} onClick={() => open(p.name)}>
                          Open
                        </button>
                        {p.version !== null && (
                          <Link
                            className="btn small"
                            href={`/pipelines/${enc(p.name)}/versions`}
                            data-testid={`pipeline-versions-${p.name}`}
                          >
                            Versions
                          </Link>
                        )}
                        <button
                          type="button"
                          className="small"
                          data-testid={`pipeline-duplicate-${p.name}`}
                          onClick={() => setCopying(p.name)}
                        >
                          Duplicate
                        </button>
                        <button type="button" className="small" data-testid={`pipeline-delete-${p.name}`} onClick={() => setDeleting(p)}>
                          Delete
                        </button>
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <h2 style={{ marginTop: 28 }}>Start from a template</h2>
          <TemplateCards />
        </>
      )}
      {creating && (
        <PipelineNameDialog
          title="Create pipeline"
          intro="An empty draft opens in the editor. Nothing runs until you deploy it."
          action="Create"
          busy={create.isPending}
          error={create.error}
          onEdit={() => create.error && create.reset()}
          onClose={() => {
            create.reset();
            set({ create: null });
          }}
          onSubmit={(name) => create.mutate(name, { onSuccess: () => open(name) })}
          testId="create-pipeline"
        />
      )}
      {copying && (
        <PipelineNameDialog
          title={`Duplicate ${copying}`}
          intro={`A new draft with ${copying}'s nodes, edges and settings (its draft as last saved). Nothing runs until you deploy it.`}
          initial={copyName(copying, new Set(all.map((p) => p.name)))}
          action="Duplicate"
          busy={duplicate.isPending}
          error={duplicate.error}
          onEdit={() => duplicate.error && duplicate.reset()}
          onClose={() => {
            duplicate.reset();
            setCopying(null);
          }}
          onSubmit={(name) => duplicate.mutate({ from: copying, to: name }, { onSuccess: () => setCopying(null) })}
          testId="duplicate-pipeline"
        />
      )}
      {deleting && <DeletePipelineDialog pipeline={deleting} onClose={() => setDeleting(null)} />}
    </section>
  );
}
