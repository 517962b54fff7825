/**
 * The Tests panel's data, as plain functions over the shared schema's types: a test case taken
 * from a preview (its source and table records as the inputs, its sinks' records as the
 * expected outputs), a blank case, a case whose expectations become what a run produced, and
 * where a refused run points. Nothing here runs or compares records: the server does
 * (`POST …/test`), and its report carries the diff the panel shows.
 */
import type { TPipelineTestCaseInput, TPipelineTestCaseResult } from "../../server/schemas/pipeline-tests";
import { ApiRequestError } from "../hooks/api";
import type { EditorDoc, TPreview } from "./editor-store";

type InputRecord = TPipelineTestCaseInput["inputs"][string][number];

/** The node ids of a kind, in the document's order. */
function idsOf(doc: EditorDoc, kinds: readonly string[]): string[] {
  return doc.nodes.filter((n) => kinds.includes(n.config.kind)).map((n) => n.id);
}

/** A name not yet taken by a case: `base`, else `base 2`, `base 3`, … */
export function freeCaseName(cases: readonly { name: string }[], base: string): string {
  const taken = new Set(cases.map((c) => c.name));
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base} ${i}`)) return `${base} ${i}`;
}

export interface CaseFromPreview {
  testCase: TPipelineTestCaseInput;
  /** nodes whose records the preview did not all show (it shows the first 50 of each): the case holds those shown */
  cut: string[];
}

/**
 * A case from a preview: each source's (and table's) records as the preview's sources emitted
 * them — key, value, headers, timestamp, partition and topic — and each sink's records as
 * expected. Table records arrive first (the preview reads tables whole before the streams);
 * the run ends at `now` plus the longest idle timeout, as the preview's does, so windows close.
 */
export function caseFromPreview(doc: EditorDoc, preview: TPreview, name: string, now: number): CaseFromPreview {
  const inputs: Record<string, InputRecord[]> = {};
  const cut: string[] = [];
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  for (const id of idsOf(doc, ["source"])) {
    const p = preview.nodes[id];
    if (!p) continue;
    const shown = p.records.filter((r) => r.port === "out");
    if (p.emitted > shown.length) cut.push(id);
    inputs[id] = shown.map((r) => {
      first = Math.min(first, r.timestamp);
      last = Math.max(last, r.timestamp);
      return record(r);
    });
  }
  const tables = idsOf(doc, ["table"]);
  for (const id of tables) {
    const p = preview.nodes[id];
    if (!p) continue;
    const shown = p.records.filter((r) => r.port === "out");
    if (p.emitted > shown.length) cut.push(id);
    inputs[id] = shown.map(record);
  }
  // a table's records arrive before any stream record, as in the preview
  const before = Number.isFinite(first) ? Math.max(0, first - 1) : 0;
  for (const id of tables)
    for (const r of inputs[id] ?? []) r.at = new Date(Math.min(before, Date.parse(r.timestamp as string))).toISOString();

  const outputs: Record<string, { key?: unknown; value?: unknown }[]> = {};
  for (const id of idsOf(doc, ["sink"])) {
    const p = preview.nodes[id];
    if (!p) continue;
    if (p.received > p.records.length) cut.push(id);
    outputs[id] = p.records.map((r) => ({ key: r.key, value: r.value }));
  }
  const idle = Math.max(0, ...doc.nodes.map((n) => (n.config.kind === "source" ? (n.config.idleTimeoutMs ?? 5_000) : 0)));
  return {
    testCase: {
      name,
      inputs,
      advanceTo: new Date(Math.max(now, last) + idle + 1).toISOString(),
      expected: { outputs },
    },
    cut,
  };
}

function record(r: TPreview["nodes"][string]["records"][number]): InputRecord {
  const out: InputRecord = { key: r.key, value: r.value, timestamp: new Date(r.timestamp).toISOString() };
  if (Object.keys(r.headers).length) out.headers = r.headers;
  if (r.origin.partition !== 0) out.partition = r.origin.partition;
  out.topic = r.origin.topic;
  return out;
}

/** Per list of a result's diff ("outputs.<sink>"), the expected records it marks, by index: missing or changed. */
export function markedExpected(result: TPipelineTestCaseResult | undefined): Map<string, Map<number, "missing" | "changed">> {
  const out = new Map<string, Map<number, "missing" | "changed">>();
  for (const d of result?.diff ?? []) {
    if (d.expectedIndex === undefined || d.kind === "unexpected") continue;
    if (!out.has(d.list)) out.set(d.list, new Map());
    out.get(d.list)!.set(d.expectedIndex, d.kind);
  }
  return out;
}

/** A case to fill in by hand: one record for the first source, nothing expected yet at each sink. */
export function blankCase(doc: EditorDoc, name: string, now: number): TPipelineTestCaseInput {
  const source = idsOf(doc, ["source"])[0];
  const at = new Date(Math.floor(now / 60_000) * 60_000).toISOString();
  return {
    name,
    inputs: source ? { [source]: [{ key: null, value: {}, timestamp: at }] } : {},
    expected: { outputs: Object.fromEntries(idsOf(doc, ["sink"]).map((id) => [id, []])) },
  };
}

/** The case expecting what its last run produced at each sink it checks (the dead letters too, if it checks them). */
export function expectActual(c: TPipelineTestCaseInput, result: TPipelineTestCaseResult): TPipelineTestCaseInput {
  const outputs: Record<string, { key?: unknown; value?: unknown }[]> = {};
  for (const [sink, records] of Object.entries(result.actual.outputs)) outputs[sink] = records.map((r) => ({ key: r.key, value: r.value }));
  return {
    ...c,
    expected: {
      outputs,
      ...(c.expected.deadLetters
        ? { deadLetters: result.actual.deadLetters.map((d) => ({ node: d.node, key: d.key, value: d.value })) }
        : {}),
    },
  };
}

/**
 * Where a refused run points: the field the server named (`definition.tests.2.inputs.x`,
 * `cases.0.name`, or a problem's `tests.1.expected`) and the case it is in (an index into the
 * cases sent), if any.
 */
export function refusedAt(e: unknown, sent: "all" | number): { field: string | null; caseIndex: number | null } {
  if (!(e instanceof ApiRequestError)) return { field: null, caseIndex: null };
  const problems = Array.isArray(e.details?.problems) ? (e.details.problems as { field?: string; node?: string }[]) : [];
  const field =
    typeof e.details?.field === "string"
      ? e.details.field
      : (problems.find((p) => p.field?.startsWith("tests"))?.field ?? problems[0]?.field ?? null);
  const m = field ? /^(?:definition\.)?(tests|cases)\.(\d+)/.exec(field) : null;
  if (!m) return { field, caseIndex: null };
  const i = Number(m[2]);
  return { field, caseIndex: m[1] === "cases" ? (sent === "all" ? i : sent) : i };
}
