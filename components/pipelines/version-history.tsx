"use client";
/**
 * A pipeline's deployed versions (number, when, what the deploy did), any two of them (or one
 * and the draft) compared, and a one-click rollback to an earlier one. The compared pair is in
 * the URL (`?from=1&to=2`), so a comparison can be linked.
 */
import Link from "next/link";
import { useState } from "react";
import { useUrlState } from "../hooks/use-url-state";
import { formatTime } from "../ui/format";
import { ErrorBox, Loading } from "../ui/status";
import { RollbackDialog } from "./rollback-dialog";
import { StateChip } from "./state-chip";
import { usePipeline, usePipelineDiff, usePipelineVersions, type VersionRef } from "./use-pipelines";
import { VersionDiff } from "./version-diff";
import "./pipelines.css";

const enc = encodeURIComponent;

function readRef(raw: string, known: ReadonlySet<number>): VersionRef | null {
  if (raw === "draft") return "draft";
  const n = Number(raw);
  return /^\d+$/.test(raw) && known.has(n) ? n : null;
}

export function VersionHistory({ name }: { name: string }) {
  const { get, set } = useUrlState();
  const pipeline = usePipeline(name);
  const versions = usePipelineVersions(name);
  const [rollingBack, setRollingBack] = useState<number | null>(null);

  const list = versions.data ?? [];
  const known = new Set(list.map((v) => v.version));
  const latest = list.at(-1)?.version ?? null;
  const to = readRef(get("to"), known) ?? latest;
  const from = readRef(get("from"), known) ?? (list.length >= 2 ? list[list.length - 2].version : latest === null ? null : "draft");
  const diff = usePipelineDiff(name, from, to);
  const current = pipeline.data?.version ?? null;
  const definitionOf = (ref: VersionRef | null) =>
    ref === "draft" ? pipeline.data?.draft : list.find((v) => v.version === ref)?.definition;

  const pick = (side: "from" | "to", ref: VersionRef) => set({ [side]: String(ref) });
  const radio = (side: "from" | "to", ref: VersionRef) => (
    <input
      type="radio"
      name={side}
      aria-label={`compare ${side} ${ref === "draft" ? "the draft" : `v${ref}`}`}
      checked={(side === "from" ? from : to) === ref}
      onChange={() => pick(side, ref)}
      data-testid={`pick-${side}-${ref}`}
    />
  );

  return (
    <section data-testid="versions-page">
      <div className="small muted">
        <Link href="/pipelines">Pipelines</Link> / <Link href={`/pipelines/${enc(name)}`}>{name}</Link> / versions
      </div>
      <div className="spread">
        <h1 className="row" style={{ gap: 12 }}>
          {name}
          {pipeline.data && <StateChip state={pipeline.data.state} testId="versions-state" />}
          {current !== null && (
            <span className="small muted" data-testid="versions-current">
              running version v{current}
            </span>
          )}
        </h1>
        <Link className="btn" href={`/pipelines/${enc(name)}`} data-testid="versions-open-editor">
          Open in editor
        </Link>
      </div>
      <ErrorBox error={versions.error ?? pipeline.error} testId="versions-error" />
      {versions.isPending ? (
        <Loading testId="versions-loading" />
      ) : versions.error ? null : list.length === 0 ? (
        <div className="panel" data-testid="versions-empty">
          <strong>Never deployed.</strong> <span className="muted">Each deploy adds a version here; deploy the draft from the editor.</span>
        </div>
      ) : (
        <div className="versions-layout">
          <div className="panel" style={{ padding: 0, overflow: "auto" }}>
            <table className="versions-table" data-testid="versions-table">
              <thead>
                <tr>
                  <th className="pick" title="compare from">
                    From
                  </th>
                  <th className="pick" title="compare to">
                    To
                  </th>
                  <th>Version</th>
                  <th>Deployed</th>
                  <th>Note</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                <tr data-testid="version-row-draft">
                  <td className="pick">{radio("from", "draft")}</td>
                  <td className="pick">{radio("to", "draft")}</td>
                  <td colSpan={3} className="muted">
                    the draft (as last saved; not deployed)
                  </td>
                  <td />
                </tr>
                {[...list].reverse().map((v) => (
                  <tr key={v.version} className={v.version === current ? "current" : undefined} data-testid={`version-row-${v.version}`}>
                    <td className="pick">{radio("from", v.version)}</td>
                    <td className="pick">{radio("to", v.version)}</td>
                    <td>
                      <strong>v{v.version}</strong>
                    </td>
                    <td className="small">{formatTime(Date.parse(v.createdAt)).slice(0, 19)}</td>
                    <td className="note small" data-testid={`version-note-${v.version}`}>
                      {v.note}
                    </td>
                    <td style={{ textAlign: "right" }}>
                      {v.version === current ? (
                        <span className="small ok" data-testid={`version-current-${v.version}`}>
                          ● {pipeline.data?.state ?? "current"}
                        </span>
                      ) : current !== null ? (
                        <button
                          type="button"
                          className="small"
                          data-testid={`rollback-${v.version}`}
                          onClick={() => setRollingBack(v.version)}
                        >
                          Roll back
                        </button>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="panel">
            <ErrorBox error={diff.error} testId="version-diff-error" />
            {from === to ? (
              <div className="muted" data-testid="version-diff-same">
                Pick two different versions to compare.
              </div>
            ) : diff.data ? (
              <VersionDiff diff={diff.data} before={definitionOf(from)} after={definitionOf(to)} />
            ) : (
              !diff.error && <Loading testId="version-diff-loading" height={220} />
            )}
          </div>
        </div>
      )}
      {rollingBack !== null && current !== null && (
        <RollbackDialog
          name={name}
          version={rollingBack}
          current={current}
          onClose={() => setRollingBack(null)}
          onDone={(made) => {
            setRollingBack(null);
            set({ from: String(current), to: String(made) });
          }}
        />
      )}
    </section>
  );
}
