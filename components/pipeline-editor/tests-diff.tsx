"use client";
/**
 * A test case's result as the server reported it: passed, failed or incomplete, and for a
 * failure its diff — records missing (expected, not produced), unexpected (produced, not
 * expected) and changed, each changed field with what was expected next to what came.
 */
import type { TPipelineTestCaseResult, TTestDiffEntry } from "@/server/schemas/pipeline-tests";

const show = (v: unknown) => (v === undefined ? "(absent)" : JSON.stringify(v));

const KIND_TEXT: Record<TTestDiffEntry["kind"], string> = { missing: "missing", unexpected: "unexpected", changed: "changed" };

/** Where in the lists an entry sits: "outputs.alerts #2" (expected) / "#3" (got). */
function where(d: TTestDiffEntry): string {
  const list = d.list.startsWith("outputs.") ? d.list.slice("outputs.".length) : d.list;
  const e = d.expectedIndex !== undefined ? `expected #${d.expectedIndex + 1}` : "";
  const a = d.actualIndex !== undefined ? `got #${d.actualIndex + 1}` : "";
  return [list, e, a].filter(Boolean).join(" · ");
}

function Entry({ d }: { d: TTestDiffEntry }) {
  return (
    <li className={`pe-diff pe-diff-${d.kind}`} data-testid="diff-entry" data-kind={d.kind} data-list={d.list}>
      <div className="row">
        <span className={`badge pe-diff-badge pe-diff-badge-${d.kind}`}>{KIND_TEXT[d.kind]}</span>
        <span className="small mono">{where(d)}</span>
      </div>
      {d.kind === "changed" && d.fields && d.fields.length > 0 ? (
        <table className="pe-diff-fields" data-testid="diff-fields">
          <thead>
            <tr>
              <th>field</th>
              <th>expected</th>
              <th>got</th>
            </tr>
          </thead>
          <tbody>
            {d.fields.map((f) => (
              <tr key={f.path} data-testid="diff-field" data-path={f.path}>
                <td className="mono">{f.path}</td>
                <td className="mono pe-diff-expected" data-testid="diff-expected">
                  {show(f.expected)}
                </td>
                <td className="mono pe-diff-actual" data-testid="diff-actual">
                  {show(f.actual)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <pre className={`pe-diff-record mono ${d.kind === "missing" ? "pe-diff-expected" : "pe-diff-actual"}`} data-testid="diff-record">
          {d.kind === "missing" ? `expected ${show(d.expected)}` : `got ${show(d.actual)}`}
        </pre>
      )}
      <div className="small muted">{d.message}</div>
    </li>
  );
}

export function CaseResult({ result }: { result: TPipelineTestCaseResult }) {
  const { counts } = result;
  return (
    <div className="stack pe-test-result" data-testid="test-result" data-status={result.status}>
      <div className="small">
        {result.status === "passed" && <span className="pe-test-ok">Passed</span>}
        {result.status === "failed" && (
          <span className="pe-test-bad">
            Failed: {counts.missing} missing, {counts.unexpected} unexpected, {counts.changed} changed
          </span>
        )}
        {result.status === "incomplete" && <span className="pe-test-warn">Incomplete: {result.reason}</span>}
        <span className="muted">
          {" "}
          · {result.read} input record{result.read === 1 ? "" : "s"} run
          {result.watermark !== null ? ` · watermark ${new Date(result.watermark).toISOString()}` : ""}
        </span>
      </div>
      {result.diff.length > 0 && (
        <ul className="pe-diff-list" data-testid="test-diff">
          {result.diff.map((d, i) => (
            <Entry key={i} d={d} />
          ))}
        </ul>
      )}
      {result.diffTruncated && <p className="small muted">The diff goes on: the first {result.diff.length} differences are shown.</p>}
    </div>
  );
}
