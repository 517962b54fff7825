/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4), for tests: any line
 * a Prometheus server would reject throws, with its line number. Checks the metric and label
 * names, label-value escapes, sample values, one HELP and TYPE per family before its samples,
 * no family split in two, no duplicate series, and the shape of histograms (cumulative `le`
 * buckets ending at +Inf, whose count equals `_count`).
 */

export type MetricType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseValue(text: string, where: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`${where}: '${text}' is not a sample value`);
  return Number(text);
}

/** `{a="x",b="y\"z"}` starting at text[i] === "{" → labels and the index after "}". */
function parseLabels(text: string, i: number, where: string): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  i++;
  while (text[i] !== "}") {
    const eq = text.indexOf("=", i);
    if (eq < 0) throw new Error(`${where}: label without '='`);
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`${where}: bad label name '${name}'`);
    if (name in labels) throw new Error(`${where}: label '${name}' given twice`);
    if (text[eq + 1] !== '"') throw new Error(`${where}: label '${name}' value is not quoted`);
    let value = "";
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === "\n") throw new Error(`${where}: raw newline in a label value`);
      if (text[j] !== "\\") {
        value += text[j];
        continue;
      }
      const next = text[++j];
      if (next === "n") value += "\n";
      else if (next === "\\" || next === '"') value += next;
      else throw new Error(`${where}: bad escape '\\${next}' in label '${name}'`);
    }
    if (j >= text.length) throw new Error(`${where}: unterminated value of label '${name}'`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ",") i++;
    else if (text[i] !== "}") throw new Error(`${where}: expected ',' or '}' after label '${name}'`);
  }
  return { labels, end: i + 1 };
}

/** The family a sample name belongs to (histogram and summary samples carry suffixes). */
function familyOf(name: string, families: Map<string, MetricFamily>): MetricFamily | undefined {
  if (families.has(name)) return families.get(name);
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!name.endsWith(suffix)) continue;
    const f = families.get(name.slice(0, -suffix.length));
    if (f && (f.type === "histogram" || (f.type === "summary" && suffix !== "_bucket"))) return f;
  }
  return undefined;
}

export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  if (!text.endsWith("\n")) throw new Error("the exposition must end with a newline");
  const families = new Map<string, MetricFamily>();
  const closed = new Set<string>();
  const series = new Set<string>();
  let current: MetricFamily | undefined;
  const lines = text.slice(0, -1).split("\n");
  lines.forEach((line, n) => {
    const where = `line ${n + 1}`;
    if (line === "") return;
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) return; // a comment
      const [, kind, name, rest] = m;
      if (!NAME.test(name)) throw new Error(`${where}: bad metric name '${name}'`);
      if (closed.has(name)) throw new Error(`${where}: family '${name}' continues after another one`);
      let f = families.get(name);
      if (!f) {
        if (current) closed.add(current.name);
        f = { name, help: "", type: "untyped", samples: [] };
        families.set(name, f);
        current = f;
      } else if (f !== current) throw new Error(`${where}: family '${name}' continues after another one`);
      if (f.samples.length > 0) throw new Error(`${where}: ${kind} of '${name}' after its samples`);
      if (kind === "TYPE") {
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type '${rest}'`);
        f.type = rest as MetricType;
      } else f.help = rest;
      return;
    }
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd < 0) throw new Error(`${where}: sample without a value`);
    const name = line.slice(0, nameEnd);
    if (!NAME.test(name)) throw new Error(`${where}: bad metric name '${name}'`);
    let labels: Record<string, string> = {};
    let i = nameEnd;
    if (line[i] === "{") ({ labels, end: i } = parseLabels(line, i, where));
    if (line[i] !== " ") throw new Error(`${where}: expected a space before the value`);
    const [valueText, timestamp, ...extra] = line.slice(i + 1).split(" ");
    if (extra.length > 0 || (timestamp !== undefined && !/^-?\d+$/.test(timestamp))) throw new Error(`${where}: trailing text`);
    const family = familyOf(name, families);
    if (!family) throw new Error(`${where}: sample '${name}' has no HELP/TYPE`);
    if (family !== current) throw new Error(`${where}: sample of '${family.name}' outside its family`);
    const key = name + JSON.stringify(Object.entries(labels).sort());
    if (series.has(key)) throw new Error(`${where}: duplicate series ${key}`);
    series.add(key);
    family.samples.push({ name, labels, value: parseValue(valueText, where) });
  });
  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return families;
}

function checkHistogram(f: MetricFamily): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { buckets: [] }));
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) throw new Error(`${f.name}: bucket without le`);
      g.buckets.push([parseValue(le, `${f.name} le`), s.value]);
    } else if (s.name === `${f.name}_count`) g.count = s.value;
  }
  for (const [key, g] of groups) {
    const last = g.buckets.at(-1);
    if (!last || last[0] !== Infinity) throw new Error(`${f.name}${key}: no +Inf bucket`);
    for (let i = 1; i < g.buckets.length; i++) {
      if (g.buckets[i][0] <= g.buckets[i - 1][0] || g.buckets[i][1] < g.buckets[i - 1][1])
        throw new Error(`${f.name}${key}: buckets not cumulative`);
    }
    if (g.count !== last[1]) throw new Error(`${f.name}${key}: _count ${g.count} != +Inf bucket ${last[1]}`);
  }
}

/** The value of the one sample of `name` whose labels include `labels`; undefined when none. */
export function sampleValue(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = familyOf(name, families);
  const matches = (family?.samples ?? []).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (matches.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${matches.length} samples`);
  return matches[0]?.value;
}
