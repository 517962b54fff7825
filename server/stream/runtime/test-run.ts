/**
 * Pipeline tests (issue #15): each case runs a fresh topology in memory — state in memory,
 * nothing read, written or committed anywhere — fed the case's records in the order they
 * arrive (`at`, default their timestamp), the wall clock being each record's arrival, with the
 * case's ticks between them and its final `advanceTo` (idle inputs, so windows close as they
 * would in a running pipeline). Each sink's records and the dead letters are collected and
 * compared with what the case expects; the answer is pass/fail per case with a diff: records
 * missing, unexpected, or changed with the paths of the fields that differ.
 *
 * Bounded: CEL is metered per record as always; the whole run has a time budget and gives the
 * event loop back every 20 ms of work (as preview does); a case stops past a bound of outputs.
 */
import type { PipelineProblem, TNodeConfig, TPipelineDefinition } from "../../schemas/pipeline.ts";
import {
  testTimeMs,
  type TActualDeadLetter,
  type TActualRecord,
  type TExpectedDeadLetter,
  type TPipelineTestCase,
  type TPipelineTestCaseResult,
  type TPipelineTestReport,
  type TTestDiffEntry,
  type TTestInputRecord,
} from "../../schemas/pipeline-tests.ts";
import { DecodeError, decode, toJsonData, type RecordFormat, type StreamRecord } from "../record.ts";
import { Topology } from "../topology.ts";

export const TEST_RUN_LIMITS = {
  /** wall-clock budget of all the cases of one request */
  timeMs: 5_000,
  /** records a case may produce (sinks and dead letters); past it the case stops, incomplete */
  outputsPerCase: 10_000,
  /** records shown per sink (and dead letters) in a case's `actual` */
  shownPerList: 100,
  diffEntries: 100,
  fieldsPerRecord: 20,
  /** work between two returns to the event loop */
  sliceMs: 20,
  /** an ordered comparison aligns records (longest common subsequence) up to this many pairs */
  alignPairs: 2_000_000,
} as const;

/** A case that does not fit the pipeline (unknown node, a value its format cannot carry). */
export interface TestCaseProblem {
  path: (string | number)[];
  message: string;
}

type Source = Extract<TNodeConfig, { kind: "source" }>;
type Table = Extract<TNodeConfig, { kind: "table" }>;
type InputNode = Source | Table;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function formatProblem(v: unknown, format: RecordFormat, what: "key" | "value"): string | null {
  if (v === undefined || v === null || format === "json") return null;
  if (typeof v !== "string") return `the node reads ${format} ${what}s: give a string${format === "bytes" ? " (base64)" : ""}`;
  if (format === "bytes" && !BASE64.test(v)) return `the node reads bytes ${what}s: give them as base64`;
  return null;
}

const arrivalOf = (r: TTestInputRecord) => testTimeMs(r.at ?? r.timestamp);

/** Every way the cases do not fit the pipeline, each with its path inside the cases. */
export function testCaseProblems(def: TPipelineDefinition, cases: readonly TPipelineTestCase[]): TestCaseProblem[] {
  const nodes = new Map(def.nodes.map((n) => [n.id, n.config]));
  const problems: TestCaseProblem[] = [];
  cases.forEach((c, i) => {
    let lastArrival = Number.NEGATIVE_INFINITY;
    for (const [id, records] of Object.entries(c.inputs)) {
      const node = nodes.get(id);
      if (node?.kind !== "source" && node?.kind !== "table") {
        problems.push({ path: [i, "inputs", id], message: `no source or table node '${id}' in the pipeline` });
        continue;
      }
      const topics = node.kind === "source" ? node.topics : [node.topic];
      records.forEach((r, j) => {
        const at = [i, "inputs", id, j];
        if (r.topic !== undefined && topics && !topics.includes(r.topic))
          problems.push({ path: [...at, "topic"], message: `node '${id}' does not read topic '${r.topic}'` });
        for (const what of ["key", "value"] as const) {
          const p = formatProblem(r[what], node[`${what}Format`], what);
          if (p) problems.push({ path: [...at, what], message: p });
        }
        lastArrival = Math.max(lastArrival, arrivalOf(r));
      });
    }
    for (const id of Object.keys(c.expected.outputs))
      if (nodes.get(id)?.kind !== "sink")
        problems.push({ path: [i, "expected", "outputs", id], message: `no sink node '${id}' in the pipeline` });
    c.expected.deadLetters?.forEach((d, k) => {
      if (d.node !== undefined && !nodes.has(d.node))
        problems.push({ path: [i, "expected", "deadLetters", k, "node"], message: `no node '${d.node}' in the pipeline` });
    });
    if (c.advanceTo !== undefined && testTimeMs(c.advanceTo) < lastArrival)
      problems.push({
        path: [i, "advanceTo"],
        message: `advanceTo must not be before the last input's arrival (${new Date(lastArrival).toISOString()})`,
      });
  });
  return problems;
}

// ---- running a case -------------------------------------------------------------------------

type Arrival =
  | { at: number; seq: number; tick: false; node: string; config: InputNode; input: TTestInputRecord }
  | { at: number; seq: number; tick: true };

const utf8 = new TextEncoder();

/** The bytes a record of the case would have on its topic. */
function bytesOf(given: unknown, text: string | undefined, format: RecordFormat): Uint8Array | null {
  if (text !== undefined) return utf8.encode(text);
  if (given === undefined || given === null) return null;
  if (format === "json") return utf8.encode(JSON.stringify(given));
  if (format === "bytes") return Buffer.from(given as string, "base64");
  return utf8.encode(given as string);
}

/** A value as JSON data for the report (what cannot be made JSON is shown as its error). */
function jsonOf(v: unknown): unknown {
  try {
    return toJsonData(v);
  } catch (e) {
    return `<${(e as Error).message}>`;
  }
}

interface Collected {
  outputs: Map<string, TActualRecord[]>;
  deadLetters: TActualDeadLetter[];
  total: number;
}

class Budget {
  private slice = performance.now();
  private readonly deadline: number;
  constructor(readonly ms: number) {
    this.deadline = Date.now() + ms;
  }
  get spent(): boolean {
    return Date.now() > this.deadline;
  }
  /** Gives the event loop back after each slice of work: other requests go on. */
  async breathe(): Promise<void> {
    if (performance.now() - this.slice < TEST_RUN_LIMITS.sliceMs) return;
    await new Promise((r) => setImmediate(r));
    this.slice = performance.now();
  }
}

async function runCase(
  def: TPipelineDefinition,
  c: TPipelineTestCase,
  budget: Budget,
): Promise<{ collected: Collected; read: number; watermark: number | null; stopped: string | null }> {
  const topology = Topology.build(def).topology!;
  const collected: Collected = { outputs: new Map(), deadLetters: [], total: 0 };
  for (const n of def.nodes) if (n.config.kind === "sink") collected.outputs.set(n.id, []);
  const configs = new Map(def.nodes.map((n) => [n.id, n.config]));

  const arrivals: Arrival[] = [];
  for (const [node, records] of Object.entries(c.inputs))
    for (const input of records)
      arrivals.push({ at: arrivalOf(input), seq: arrivals.length, tick: false, node, config: configs.get(node) as InputNode, input });
  for (const t of c.ticks ?? []) arrivals.push({ at: testTimeMs(t), seq: arrivals.length, tick: true });
  arrivals.sort((a, b) => a.at - b.at || a.seq - b.seq);

  const offsets = new Map<string, number>();
  const drain = () => {
    const { outputs, deadLetters } = topology.drain();
    for (const o of outputs) {
      const r = o.record;
      collected.outputs
        .get(o.node)!
        .push({ key: jsonOf(r.key), value: jsonOf(r.value), headers: { ...r.headers }, timestamp: r.timestamp });
    }
    for (const d of deadLetters) {
      const r = d.record;
      collected.deadLetters.push({
        node: d.node,
        error: d.error,
        key: jsonOf(r.key),
        value: jsonOf(r.value),
        headers: { ...r.headers },
        timestamp: r.timestamp,
      });
    }
    collected.total += outputs.length + deadLetters.length;
  };
  const deliver = (a: Extract<Arrival, { tick: false }>) => {
    const { input, config } = a;
    const topic = input.topic ?? (config.kind === "source" ? (config.topics?.[0] ?? a.node) : config.topic);
    const slot = `${topic}/${input.partition}`;
    const offset = offsets.get(slot) ?? 0;
    offsets.set(slot, offset + 1);
    const origin = { topic, partition: input.partition, offset };
    const headers = input.headers ?? {};
    const timestamp = testTimeMs(input.timestamp);
    let rec: StreamRecord;
    try {
      rec = {
        key: decode(bytesOf(input.key, input.keyText, config.keyFormat), config.keyFormat, "key"),
        value: decode(bytesOf(input.value, input.valueText, config.valueFormat), config.valueFormat, "value"),
        headers,
        timestamp,
        origin,
      };
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      // a dead letter as it came: the text (or value) the case gave
      const raw = { key: input.keyText ?? input.key ?? null, value: input.valueText ?? input.value ?? null };
      topology.rejectInput(a.node, { ...raw, headers, timestamp, origin }, e);
      return;
    }
    topology.process(a.node, rec, a.at);
  };

  let read = 0;
  let stopped: string | null = null;
  const finish = () => ({ collected, read, watermark: Number.isFinite(topology.watermark) ? topology.watermark : null, stopped });
  try {
    const steps: (() => void)[] = arrivals.map((a) => (a.tick ? () => topology.advance(a.at) : () => (deliver(a), read++)));
    const advanceTo = c.advanceTo;
    if (advanceTo !== undefined) steps.push(() => topology.advance(testTimeMs(advanceTo)));
    for (const step of steps) {
      if (budget.spent) {
        stopped = `the time budget of ${budget.ms} ms ran out after ${read} input records`;
        return finish();
      }
      await budget.breathe();
      step();
      drain();
      if (collected.total > TEST_RUN_LIMITS.outputsPerCase) {
        stopped = `the case produced more than ${TEST_RUN_LIMITS.outputsPerCase} records`;
        return finish();
      }
    }
  } catch (e) {
    stopped = `the engine failed: ${(e as Error).message}`;
  }
  return finish();
}

// ---- comparing ------------------------------------------------------------------------------

type Actual = TActualRecord | TActualDeadLetter;
type Expected = TExpectedDeadLetter; // a sink's expected record is the same without node and error

const COMPARED = ["node", "key", "value", "headers", "timestamp"] as const;
type Compared = (typeof COMPARED)[number];

function givenFields(e: Expected): Compared[] {
  return COMPARED.filter((f) => e[f] !== undefined);
}

/** JSON text with object keys sorted: equal data, equal text. */
function canonical(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(",")}}`;
}

function expectedField(e: Expected, f: Compared): unknown {
  return f === "timestamp" ? testTimeMs(e.timestamp!) : e[f];
}

const pathStep = (path: string, k: string | number) =>
  typeof k === "number" ? `${path}[${k}]` : /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`;

interface FieldDiff {
  path: string;
  expected?: unknown;
  actual?: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** The paths where `actual` differs from `expected`, at most `max`. */
function jsonDiff(expected: unknown, actual: unknown, path: string, out: FieldDiff[], max: number): void {
  if (out.length >= max) return;
  if (isObject(expected) && isObject(actual)) {
    for (const k of Object.keys(expected)) {
      if (!(k in actual)) out.push({ path: pathStep(path, k), expected: expected[k] });
      else jsonDiff(expected[k], actual[k], pathStep(path, k), out, max);
    }
    for (const k of Object.keys(actual)) if (!(k in expected) && out.length < max) out.push({ path: pathStep(path, k), actual: actual[k] });
    return;
  }
  if (Array.isArray(expected) && Array.isArray(actual)) {
    for (let i = 0; i < Math.max(expected.length, actual.length) && out.length < max; i++) {
      if (i >= actual.length) out.push({ path: pathStep(path, i), expected: expected[i] });
      else if (i >= expected.length) out.push({ path: pathStep(path, i), actual: actual[i] });
      else jsonDiff(expected[i], actual[i], pathStep(path, i), out, max);
    }
    return;
  }
  if (canonical(expected) !== canonical(actual)) out.push({ path, expected, actual });
}

function fieldDiffs(e: Expected, a: Actual): FieldDiff[] {
  const out: FieldDiff[] = [];
  for (const f of givenFields(e)) jsonDiff(expectedField(e, f), (a as Record<string, unknown>)[f], f, out, TEST_RUN_LIMITS.fieldsPerRecord);
  if (e.errorContains !== undefined && "error" in a && !a.error.includes(e.errorContains))
    out.push({ path: "error", expected: `…${e.errorContains}…`, actual: a.error });
  return out;
}

const show = (v: unknown) => {
  if (v === undefined) return "(absent)";
  const s = JSON.stringify(v);
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
};

/** Compares expected record i with actual j by the canonical text of the fields i gives, each text computed once. */
class Matcher {
  private readonly masks: Compared[][];
  private readonly wanted: string[];
  private readonly texts = new Map<string, string[]>();

  constructor(
    readonly expected: readonly Expected[],
    readonly actual: readonly Actual[],
  ) {
    this.masks = expected.map(givenFields);
    this.wanted = expected.map((e, i) => canonical(this.masks[i].map((f) => expectedField(e, f))));
  }

  /** The canonical text of expected record i (its fields). */
  wantedText(i: number): string {
    return this.wanted[i];
  }

  /** The canonical text of actual record j over the fields expected record i gives. */
  actualText(j: number, i: number): string {
    const mask = this.masks[i];
    const k = mask.join(",");
    let texts = this.texts.get(k);
    if (!texts) this.texts.set(k, (texts = []));
    return (texts[j] ??= canonical(mask.map((f) => (this.actual[j] as Record<string, unknown>)[f])));
  }

  eq(i: number, j: number): boolean {
    const e = this.expected[i];
    const a = this.actual[j];
    if (e.errorContains !== undefined && !("error" in a && a.error.includes(e.errorContains))) return false;
    return this.wanted[i] === this.actualText(j, i);
  }
}

/** Matched pairs (i, j), both increasing: the longest common subsequence of the two lists. */
function alignInOrder(m: Matcher): [number, number][] {
  const eq = (i: number, j: number) => m.eq(i, j);
  const pairs: [number, number][] = [];
  let start = 0;
  while (start < m.expected.length && start < m.actual.length && eq(start, start)) pairs.push([start, start++]);
  let endE = m.expected.length;
  let endA = m.actual.length;
  const tail: [number, number][] = [];
  while (endE > start && endA > start && eq(endE - 1, endA - 1)) tail.unshift([--endE, --endA]);
  const rows = endE - start;
  const cols = endA - start;
  if (rows > 0 && cols > 0 && rows * cols <= TEST_RUN_LIMITS.alignPairs) {
    // lcs[i][j]: the longest common subsequence of expected[start+i..] and actual[start+j..]
    const w = cols + 1;
    const lcs = new Int32Array((rows + 1) * w);
    for (let i = rows - 1; i >= 0; i--)
      for (let j = cols - 1; j >= 0; j--)
        lcs[i * w + j] = eq(start + i, start + j) ? lcs[(i + 1) * w + j + 1] + 1 : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
    for (let i = 0, j = 0; i < rows && j < cols;) {
      if (eq(start + i, start + j)) pairs.push([start + i++, start + j++]);
      else if (lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) i++;
      else j++;
    }
  }
  return [...pairs, ...tail];
}

interface Pairing {
  changed: [number, number][];
  missing: number[];
  unexpected: number[];
}

/**
 * Records left unmatched (a gap between matched ones, or all the unmatched ones in any order)
 * pair up as changed: an expected record that gives a key with the next left-over record of
 * that key (in order: after the previous pair), one without a key with the next left over;
 * the rest are missing or unexpected.
 */
function pairLeftovers(m: Matcher, left: number[], produced: number[], inOrder: boolean, out: Pairing): void {
  const used = new Set<number>();
  const keyless: number[] = [];
  let from = 0;
  for (const i of left) {
    const key = m.expected[i].key;
    if (key === undefined) {
      keyless.push(i);
      continue;
    }
    const k = canonical(key);
    let q = inOrder ? from : 0;
    while (q < produced.length && (used.has(produced[q]) || canonical(m.actual[produced[q]].key) !== k)) q++;
    if (q === produced.length) out.missing.push(i);
    else {
      used.add(produced[q]);
      out.changed.push([i, produced[q]]);
      from = q + 1;
    }
  }
  const rest = produced.filter((j) => !used.has(j));
  keyless.forEach((i, n) => (n < rest.length ? out.changed.push([i, rest[n]]) : out.missing.push(i)));
  out.unexpected.push(...rest.slice(keyless.length));
}

/** Ordered: the longest common subsequence matches; each gap between matches pairs up as `pairLeftovers` says. */
function pairInOrder(m: Matcher): Pairing {
  const out: Pairing = { changed: [], missing: [], unexpected: [] };
  let i = 0;
  let j = 0;
  const range = (a: number, b: number) => Array.from({ length: b - a }, (_, k) => a + k);
  for (const [mi, mj] of [...alignInOrder(m), [m.expected.length, m.actual.length] as [number, number]]) {
    pairLeftovers(m, range(i, mi), range(j, mj), true, out);
    i = mi + 1;
    j = mj + 1;
  }
  return out;
}

/** Any order: equal records match first (by their canonical text, in linear time); the rest pair up as `pairLeftovers` says. */
function pairAnyOrder(m: Matcher): Pairing {
  const used = new Set<number>();
  const left: number[] = [];
  const buckets = new Map<string, Map<string, number[]>>(); // fields given → text → actual records
  m.expected.forEach((e, i) => {
    const mask = givenFields(e).join(",");
    let bucket = buckets.get(mask);
    if (!bucket) {
      buckets.set(mask, (bucket = new Map()));
      for (let j = 0; j < m.actual.length; j++) {
        const t = m.actualText(j, i);
        const same = bucket.get(t);
        if (same) same.push(j);
        else bucket.set(t, [j]);
      }
    }
    const j = (bucket.get(m.wantedText(i)) ?? []).find((c) => !used.has(c) && m.eq(i, c));
    if (j === undefined) left.push(i);
    else used.add(j);
  });
  const out: Pairing = { changed: [], missing: [], unexpected: [] };
  pairLeftovers(
    m,
    left,
    m.actual.map((_, j) => j).filter((j) => !used.has(j)),
    false,
    out,
  );
  return out;
}

function compareList(
  list: string,
  expected: readonly Expected[],
  actual: readonly Actual[],
  order: TPipelineTestCase["order"],
): TTestDiffEntry[] {
  const m = new Matcher(expected, actual);
  const p = order === "produced" ? pairInOrder(m) : pairAnyOrder(m);
  const entries: TTestDiffEntry[] = [];
  for (const [i, j] of p.changed) {
    const fields = fieldDiffs(expected[i], actual[j]);
    const what = fields.map((f) => `${f.path} expected ${show(f.expected)}, got ${show(f.actual)}`).join("; ");
    entries.push({
      kind: "changed",
      list,
      expectedIndex: i,
      actualIndex: j,
      expected: expected[i],
      actual: actual[j],
      fields,
      message: `${list}[${i}] differs from the record produced (#${j}): ${what}`,
    });
  }
  for (const i of p.missing)
    entries.push({
      kind: "missing",
      list,
      expectedIndex: i,
      expected: expected[i],
      message: `${list}[${i}] was not produced: ${show(expected[i])}`,
    });
  for (const j of p.unexpected)
    entries.push({
      kind: "unexpected",
      list,
      actualIndex: j,
      actual: actual[j],
      message: `${list}: unexpected record (#${j}): ${show(actual[j])}`,
    });
  return entries;
}

function judge(c: TPipelineTestCase, collected: Collected): TTestDiffEntry[] {
  const diff: TTestDiffEntry[] = [];
  for (const [sink, expected] of Object.entries(c.expected.outputs))
    diff.push(...compareList(`outputs.${sink}`, expected, collected.outputs.get(sink) ?? [], c.order));
  if (c.expected.deadLetters) diff.push(...compareList("deadLetters", c.expected.deadLetters, collected.deadLetters, c.order));
  return diff;
}

function resultOf(
  c: TPipelineTestCase,
  run: { collected: Collected; read: number; watermark: number | null; stopped: string | null },
): TPipelineTestCaseResult {
  const diff = judge(c, run.collected);
  const count = (k: TTestDiffEntry["kind"]) => diff.filter((d) => d.kind === k).length;
  let truncated = false;
  const cut = <T>(rs: T[]) => {
    if (rs.length > TEST_RUN_LIMITS.shownPerList) truncated = true;
    return rs.slice(0, TEST_RUN_LIMITS.shownPerList);
  };
  const outputs = Object.fromEntries([...run.collected.outputs].map(([sink, rs]) => [sink, cut(rs)]));
  return {
    name: c.name,
    status: run.stopped ? "incomplete" : diff.length === 0 ? "passed" : "failed",
    ...(run.stopped ? { reason: run.stopped } : {}),
    read: run.read,
    watermark: run.watermark,
    counts: { missing: count("missing"), unexpected: count("unexpected"), changed: count("changed") },
    diff: diff.slice(0, TEST_RUN_LIMITS.diffEntries),
    diffTruncated: diff.length > TEST_RUN_LIMITS.diffEntries,
    actual: { outputs, deadLetters: cut(run.collected.deadLetters), truncated },
  };
}

/**
 * Runs every case against `def` (which the caller parsed) and `testCaseProblems` found nothing
 * wrong with: the report, or the problems that keep the pipeline from being built (CEL).
 */
export async function runPipelineTests(
  def: TPipelineDefinition,
  cases: readonly TPipelineTestCase[],
  opts: { timeMs?: number } = {},
): Promise<{ problems: PipelineProblem[]; report: TPipelineTestReport | null }> {
  const { problems } = Topology.build(def);
  if (problems.length > 0) return { problems, report: null };
  const budget = new Budget(opts.timeMs ?? TEST_RUN_LIMITS.timeMs);
  const results: TPipelineTestCaseResult[] = [];
  for (const c of cases) {
    if (budget.spent) {
      const empty: Collected = { outputs: new Map(), deadLetters: [], total: 0 };
      results.push(
        resultOf(c, { collected: empty, read: 0, watermark: null, stopped: `not run: the time budget of ${budget.ms} ms ran out` }),
      );
      continue;
    }
    results.push(resultOf(c, await runCase(def, c, budget)));
    await budget.breathe();
  }
  const count = (s: TPipelineTestCaseResult["status"]) => results.filter((r) => r.status === s).length;
  return {
    problems: [],
    report: { passed: count("passed"), failed: count("failed"), incomplete: count("incomplete"), cases: results },
  };
}
