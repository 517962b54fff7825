"use client";
/**
 * The Tests panel: the pipeline's test cases (its `tests`, saved with the draft as every other
 * edit is, and undone the same way), written by hand or taken from the current preview in one
 * click, run by the server (`POST …/test`, on the drawn definition) with pass/fail per case and
 * the server's diff. A refused run shows the server's message and the field it named.
 */
import "./tests-panel.css";
import { useMutation } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import type { TPipelineTestCaseInput, TPipelineTestCaseResult, TPipelineTestReport } from "@/server/schemas/pipeline-tests";
import { api, enc, errorMessage } from "../hooks/api";
import { definitionOf, useEditor, useEditorStore } from "./editor-store";
import { ValueCell } from "./tests-cells";
import { CaseResult } from "./tests-diff";
import { blankCase, caseFromPreview, expectActual, freeCaseName, markedExpected, refusedAt } from "./tests-model";

type Case = TPipelineTestCaseInput;
type Sent = "all" | number;
const NO_TESTS: Case[] = [];

function useTestRun(pipeline: string) {
  const store = useEditorStore();
  return useMutation({
    mutationFn: async (sent: Sent) => {
      const def = definitionOf(store.getState().doc);
      if (sent === "all") return api<TPipelineTestReport>("POST", `/api/v1/pipelines/${enc(pipeline)}/test`, { definition: def });
      const one = def.tests?.[sent];
      return api<TPipelineTestReport>("POST", `/api/v1/pipelines/${enc(pipeline)}/test`, {
        definition: { ...def, tests: undefined },
        cases: one ? [one] : [],
      });
    },
  });
}

/** Stays mounted while another tab is shown (`shown` false), so results and a running request survive a look at the preview. */
export function TestsPanel({ pipeline, shown: visible }: { pipeline: string; shown: boolean }) {
  const store = useEditorStore();
  const tests = useEditor((s) => s.doc.tests ?? NO_TESTS);
  const preview = useEditor((s) => s.preview);
  const run = useTestRun(pipeline);
  const [results, setResults] = useState<Record<string, TPipelineTestCaseResult>>({});
  const [open, setOpen] = useState<number | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [refused, setRefused] = useState<{ error: unknown; field: string | null; caseIndex: number | null } | null>(null);

  const setTests = (next: Case[], key?: string) => store.dispatch({ type: "setTests", tests: next, key, at: Date.now() });
  const updateCase = (i: number, key: string, change: (c: Case) => void) => {
    const next = tests.slice();
    const c = structuredClone(next[i]);
    change(c);
    next[i] = c;
    setTests(next, `${i}.${key}`);
  };

  const fromPreview = () => {
    if (!preview) return;
    const { testCase, cut } = caseFromPreview(store.getState().doc, preview, freeCaseName(tests, "from preview"), Date.now());
    setTests([...tests, testCase]);
    setOpen(tests.length);
    setNotice(
      cut.length
        ? `The preview showed only the first records of ${cut.join(", ")}: the case holds those. Run it and use “Expect what came” if its outputs differ.`
        : null,
    );
  };
  const newCase = () => {
    setTests([...tests, blankCase(store.getState().doc, freeCaseName(tests, "case"), Date.now())]);
    setOpen(tests.length);
    setNotice(null);
  };
  const runTests = async (sent: Sent) => {
    setRefused(null);
    try {
      const report = await run.mutateAsync(sent);
      setResults((r) => {
        const next = sent === "all" ? {} : { ...r };
        for (const c of report.cases) next[c.name] = c;
        return next;
      });
    } catch (e) {
      const at = refusedAt(e, sent);
      setRefused({ error: e, ...at });
      if (at.caseIndex !== null) setOpen(at.caseIndex);
    }
  };

  const shown = tests.map((c) => results[c.name]).filter(Boolean);
  const passed = shown.filter((r) => r.status === "passed").length;
  const failed = shown.filter((r) => r.status === "failed").length;
  const incomplete = shown.filter((r) => r.status === "incomplete").length;

  return (
    <div
      className="stack pe-tests"
      data-testid="tests-panel"
      data-shown={visible || undefined}
      style={visible ? undefined : { display: "none" }}
    >
      <div className="spread">
        <span className="small" data-testid="tests-summary">
          {tests.length === 0
            ? "No test cases"
            : `${tests.length} case${tests.length === 1 ? "" : "s"}` +
              (shown.length
                ? ` · ${passed} passed · ${failed} failed${incomplete ? ` · ${incomplete} incomplete` : ""}`
                : " · not run yet")}
        </span>
        <div className="row">
          <button
            type="button"
            data-testid="tests-from-preview"
            disabled={!preview}
            title={
              preview ? "A case from the preview: its sources’ records as inputs, its sinks’ records as expected" : "Run a preview first"
            }
            onClick={fromPreview}
          >
            From preview
          </button>
          <button type="button" data-testid="tests-new" onClick={newCase}>
            New case
          </button>
          <button
            type="button"
            className="primary"
            data-testid="tests-run-all"
            disabled={tests.length === 0 || run.isPending}
            onClick={() => void runTests("all")}
          >
            {run.isPending && run.variables === "all" ? "Running…" : "Run all"}
          </button>
        </div>
      </div>
      {refused && (
        <div role="alert" className="alert" data-testid="tests-error">
          <div>{errorMessage(refused.error)}</div>
          {refused.field && (
            <div className="small">
              field{" "}
              <span className="mono" data-testid="tests-error-field">
                {refused.field}
              </span>
            </div>
          )}
        </div>
      )}
      {notice && (
        <p className="small notice" data-testid="tests-notice">
          {notice}
        </p>
      )}
      {tests.length === 0 ? (
        <p className="muted" data-testid="tests-empty">
          No test cases yet. Run a preview and turn it into a case with <b>From preview</b> (its sources’ records become the inputs, its
          sinks’ records the expected outputs), or write one with <b>New case</b>. Cases are saved with the draft.
        </p>
      ) : (
        <ul className="pe-test-list">
          {tests.map((c, i) => (
            <CaseRow
              key={i}
              testCase={c}
              result={results[c.name]}
              open={open === i}
              flagged={refused?.caseIndex === i}
              running={run.isPending && (run.variables === "all" || run.variables === i)}
              onToggle={() => setOpen(open === i ? null : i)}
              onRun={() => void runTests(i)}
              onDelete={() => {
                setTests(tests.filter((_, j) => j !== i));
                setOpen(null);
              }}
              onAccept={(r) => setTests(tests.map((x, j) => (j === i ? expectActual(x, r) : x)))}
              update={(key, change) => updateCase(i, key, change)}
            />
          ))}
        </ul>
      )}
    </div>
  );
}

function CaseRow({
  testCase: c,
  result,
  open,
  flagged,
  running,
  onToggle,
  onRun,
  onDelete,
  onAccept,
  update,
}: {
  testCase: Case;
  result: TPipelineTestCaseResult | undefined;
  open: boolean;
  flagged: boolean;
  running: boolean;
  onToggle: () => void;
  onRun: () => void;
  onDelete: () => void;
  onAccept: (r: TPipelineTestCaseResult) => void;
  update: (key: string, change: (c: Case) => void) => void;
}) {
  const status = result?.status ?? "not-run";
  return (
    <li className={`pe-test${flagged ? " flagged" : ""}`} data-testid="test-case" data-name={c.name} data-status={status}>
      <div className="row pe-test-head">
        <button type="button" className="pe-test-toggle" aria-expanded={open} data-testid="test-toggle" onClick={onToggle}>
          {open ? "▾" : "▸"}
        </button>
        <span className={`badge pe-test-status pe-test-status-${status}`} data-testid="test-status">
          {status === "not-run" ? "not run" : status}
        </span>
        <NameInput name={c.name} onChange={(v) => update("name", (x) => (x.name = v))} />
        {result && result.status !== "passed" && (
          <span className="small muted">
            {result.counts.missing} missing · {result.counts.unexpected} unexpected · {result.counts.changed} changed
          </span>
        )}
        <span className="pe-grow" />
        {result && result.status === "failed" && (
          <button
            type="button"
            data-testid="test-accept"
            onClick={() => onAccept(result)}
            title="Replace the expected records with what the run produced"
          >
            Expect what came
          </button>
        )}
        <button type="button" data-testid="test-run" disabled={running} onClick={onRun}>
          {running ? "Running…" : "Run"}
        </button>
        <button type="button" className="danger" data-testid="test-delete" onClick={onDelete} aria-label={`delete ${c.name}`}>
          Delete
        </button>
      </div>
      {open && (
        <div className="pe-test-body">
          {result && <CaseResult result={result} />}
          <CaseEditor testCase={c} update={update} marked={markedExpected(result)} />
        </div>
      )}
    </li>
  );
}

/** The case's name: empty text stays here (a case needs a name), any other goes to the case. */
function NameInput({ name, onChange }: { name: string; onChange: (v: string) => void }) {
  const [text, setText] = useState(name);
  const editing = useRef(false);
  useEffect(() => {
    if (!editing.current) setText(name);
  }, [name]);
  return (
    <input
      onFocus={() => (editing.current = true)}
      onBlur={() => {
        editing.current = false;
        setText(name);
      }}
      className="pe-test-name"
      aria-label="test name"
      aria-invalid={text.trim() === "" || undefined}
      data-testid="test-name"
      value={text}
      onChange={(e) => {
        setText(e.target.value);
        if (e.target.value.trim()) onChange(e.target.value);
      }}
    />
  );
}

type InputRecord = Case["inputs"][string][number];
type ExpectedRecord = NonNullable<NonNullable<Case["expected"]>["outputs"]>[string][number];

function CaseEditor({
  testCase: c,
  update,
  marked,
}: {
  testCase: Case;
  update: (key: string, change: (c: Case) => void) => void;
  /** expected records the last run's diff marks, per list */
  marked: ReturnType<typeof markedExpected>;
}) {
  const nodes = useEditor((s) => s.doc.nodes);
  const sources = nodes.filter((n) => n.config.kind === "source" || n.config.kind === "table");
  const sinks = nodes.filter((n) => n.config.kind === "sink");
  const outputs = c.expected.outputs ?? {};
  const inputIds = [...new Set([...sources.map((n) => n.id), ...Object.keys(c.inputs)])];
  const sinkIds = [...new Set([...sinks.map((n) => n.id), ...Object.keys(outputs)])];
  return (
    <div className="pe-test-columns">
      <section className="stack" data-testid="test-inputs">
        <h4>Inputs</h4>
        {inputIds.map((id) => {
          const rows = c.inputs[id] ?? [];
          return (
            <div key={id} className="stack" data-testid={`test-input-${id}`}>
              <div className="small mono">{id}</div>
              <RecordTable
                rows={rows}
                columns={["key", "value", "timestamp"]}
                testId={`input-${id}`}
                onCell={(j, col, v) =>
                  update(`inputs.${id}.${j}.${col}`, (x) => {
                    const r = x.inputs[id][j] as Record<string, unknown>;
                    if (v === undefined) delete r[col];
                    else r[col] = v;
                  })
                }
                onRemove={(j) => update(`inputs.${id}.${j}.remove`, (x) => void x.inputs[id].splice(j, 1))}
                onAdd={() =>
                  update(`inputs.${id}.add`, (x) => {
                    const list = (x.inputs[id] ??= []);
                    const last = list[list.length - 1];
                    list.push({ key: null, value: {}, timestamp: last?.timestamp ?? new Date().toISOString() } satisfies InputRecord);
                  })
                }
              />
            </div>
          );
        })}
        <label className="row small">
          run until
          <ValueCell
            kind="time"
            optional
            label="advance the wall clock to"
            testId="test-advance-to"
            value={c.advanceTo}
            onChange={(v) =>
              update("advanceTo", (x) => {
                if (v === undefined) delete x.advanceTo;
                else x.advanceTo = v as Case["advanceTo"];
              })
            }
          />
        </label>
      </section>
      <section className="stack" data-testid="test-expected">
        <h4>Expected</h4>
        {sinkIds.map((id) => (
          <div key={id} className="stack" data-testid={`test-expected-${id}`}>
            <div className="small mono">{id}</div>
            {outputs[id] === undefined ? (
              <button
                type="button"
                className="small"
                onClick={() => update(`expected.${id}.check`, (x) => void ((x.expected.outputs ??= {})[id] = []))}
              >
                Check this sink
              </button>
            ) : (
              <RecordTable
                rows={outputs[id]}
                columns={["key", "value"]}
                testId={`expected-${id}`}
                marked={marked.get(`outputs.${id}`)}
                empty="expects no record"
                onCell={(j, col, v) =>
                  update(`expected.${id}.${j}.${col}`, (x) => {
                    const r = x.expected.outputs![id][j] as Record<string, unknown>;
                    if (v === undefined) delete r[col];
                    else r[col] = v;
                  })
                }
                onRemove={(j) => update(`expected.${id}.${j}.remove`, (x) => void x.expected.outputs![id].splice(j, 1))}
                onAdd={() => update(`expected.${id}.add`, (x) => void x.expected.outputs![id].push({ value: {} } satisfies ExpectedRecord))}
              />
            )}
          </div>
        ))}
      </section>
    </div>
  );
}

function RecordTable({
  rows,
  columns,
  testId,
  empty = "no record",
  marked,
  onCell,
  onRemove,
  onAdd,
}: {
  rows: readonly Record<string, unknown>[];
  columns: ("key" | "value" | "timestamp")[];
  testId: string;
  empty?: string;
  marked?: Map<number, "missing" | "changed">;
  onCell: (row: number, col: string, v: unknown) => void;
  onRemove: (row: number) => void;
  onAdd: () => void;
}) {
  return (
    <table className="pe-test-records" data-testid={`records-${testId}`}>
      <thead>
        <tr>
          <th>#</th>
          {columns.map((c) => (
            <th key={c}>{c}</th>
          ))}
          <th />
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 && (
          <tr>
            <td colSpan={columns.length + 2} className="muted small">
              {empty}
            </td>
          </tr>
        )}
        {rows.map((r, j) => (
          <tr
            key={j}
            data-testid={`record-${testId}`}
            data-marked={marked?.get(j)}
            className={marked?.has(j) ? `pe-row-${marked.get(j)}` : undefined}
            title={
              marked?.get(j) === "missing" ? "expected, never came" : marked?.get(j) === "changed" ? "came with other values" : undefined
            }
          >
            <td className="small muted">{j + 1}</td>
            {columns.map((col) => (
              <td key={col} className={col === "value" ? "pe-wide" : undefined}>
                <ValueCell
                  kind={col === "timestamp" ? "time" : "json"}
                  label={`${col} of record ${j + 1}`}
                  testId={`cell-${testId}-${j}-${col}`}
                  value={r[col]}
                  onChange={(v) => onCell(j, col, v)}
                />
              </td>
            ))}
            <td>
              <button type="button" className="pe-icon" aria-label={`remove record ${j + 1}`} onClick={() => onRemove(j)}>
                ×
              </button>
            </td>
          </tr>
        ))}
        <tr>
          <td colSpan={columns.length + 2}>
            <button type="button" className="small" data-testid={`add-${testId}`} onClick={onAdd}>
              + record
            </button>
          </td>
        </tr>
      </tbody>
    </table>
  );
}
