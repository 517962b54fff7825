/**
 * What the editor shows of each node kind: its palette group, title, one-line help, the config a
 * new node starts with, and example expressions per CEL field. Pure data; the fields themselves
 * come from the shared schema (schema-form.ts).
 */
import type { TNodeConfig, TNodeKind } from "@/server/schemas/pipeline";

export type PaletteGroup = "sources" | "transforms" | "aggregations" | "joins" | "sinks";

export const PALETTE_GROUPS: { id: PaletteGroup; title: string }[] = [
  { id: "sources", title: "Sources" },
  { id: "transforms", title: "Transforms" },
  { id: "aggregations", title: "Aggregations" },
  { id: "joins", title: "Joins" },
  { id: "sinks", title: "Sinks" },
];

export interface KindInfo {
  kind: TNodeKind;
  group: PaletteGroup;
  title: string;
  help: string;
  /** a short glyph drawn on the node and in the palette */
  glyph: string;
  /** the config a node dropped from the palette starts with */
  initial: TNodeConfig;
  /** example expressions per CEL field (by the field's path inside the config) */
  examples: Record<string, string[]>;
}

const MIN = 60_000;

export const KINDS: Record<TNodeKind, KindInfo> = {
  source: {
    kind: "source",
    group: "sources",
    title: "Source",
    help: "Reads one or more topics",
    glyph: "▶",
    initial: {
      kind: "source",
      topics: [],
      start: "earliest",
      keyFormat: "text",
      valueFormat: "json",
      outOfOrdernessMs: 0,
      idleTimeoutMs: 5000,
    },
    examples: { eventTime: ["timestamp(value.at)", "int(value.ts)", "timestamp"] },
  },
  table: {
    kind: "table",
    group: "sources",
    title: "Table",
    help: "Latest value per key of a (compacted) topic",
    glyph: "▦",
    initial: { kind: "table", topic: "", keyFormat: "text", valueFormat: "json" },
    examples: {},
  },
  filter: {
    kind: "filter",
    group: "transforms",
    title: "Filter",
    help: "Keeps the records a condition holds for",
    glyph: "⊃",
    initial: { kind: "filter", condition: "" },
    examples: { condition: ["value.amount > 100.0", "value.count > 10", 'value.country == "NL"', 'has(value.user) && key != ""'] },
  },
  map: {
    kind: "map",
    group: "transforms",
    title: "Map",
    help: "A new key, value and/or headers",
    glyph: "ƒ",
    initial: { kind: "map", value: "value" },
    examples: {
      key: ["value.user", "string(value.id)"],
      value: ['{"user": key, "total": value.amount}', "value.payload", '{"alert": "too many", "count": value.count}'],
      headers: ['{"source": topic}'],
    },
  },
  flatMap: {
    kind: "flatMap",
    group: "transforms",
    title: "Flat map",
    help: "A list expression: one record per element",
    glyph: "⇶",
    initial: { kind: "flatMap", values: "" },
    examples: { values: ["value.items", 'value.text.split(" ")'] },
  },
  selectKey: {
    kind: "selectKey",
    group: "transforms",
    title: "Select key",
    help: "Re-keys records (repartitions by the new key)",
    glyph: "⇄",
    initial: { kind: "selectKey", key: "" },
    examples: { key: ["value.user", "value.customer", "string(value.id)"] },
  },
  branch: {
    kind: "branch",
    group: "transforms",
    title: "Branch",
    help: "Ordered conditions, each to its own output, plus default",
    glyph: "⋔",
    initial: { kind: "branch", branches: [{ name: "matched", condition: "" }] },
    examples: { "branches.condition": ["value.amount > 1000.0", 'value.type == "refund"'] },
  },
  merge: {
    kind: "merge",
    group: "transforms",
    title: "Merge",
    help: "Joins several streams into one",
    glyph: "∪",
    initial: { kind: "merge" },
    examples: {},
  },
  dedupe: {
    kind: "dedupe",
    group: "transforms",
    title: "Dedupe",
    help: "Drops repeats of a key (or expression) within a window",
    glyph: "≡",
    initial: { kind: "dedupe", windowMs: 10 * MIN },
    examples: { by: ["value.id", "value.orderId"] },
  },
  aggregate: {
    kind: "aggregate",
    group: "aggregations",
    title: "Aggregate",
    help: "Count, sum, min, max, avg… per key, in windows or as a table",
    glyph: "Σ",
    initial: {
      kind: "aggregate",
      window: { type: "tumbling", sizeMs: MIN, graceMs: 0 },
      aggregations: [{ fn: "count", as: "count" }],
      emit: "update",
    },
    examples: {
      "aggregations.of": ["value.amount", "double(value.price) * double(value.qty)"],
      "aggregations.init": ["0"],
      "aggregations.add": ["acc + 1", "acc + int(value.qty)"],
    },
  },
  join: {
    kind: "join",
    group: "joins",
    title: "Join",
    help: "Stream–table or stream–stream join on the key",
    glyph: "⋈",
    initial: { kind: "join", type: "inner", graceMs: 0 },
    examples: { value: ['{"order": left, "customer": right}', "left"] },
  },
  sink: {
    kind: "sink",
    group: "sinks",
    title: "Sink",
    help: "Writes to a topic",
    glyph: "■",
    initial: { kind: "sink", topic: "", partitionByKey: true },
    examples: {},
  },
  deadLetter: {
    kind: "deadLetter",
    group: "sinks",
    title: "Dead letters",
    help: "Receives every record a node failed on, with the error",
    glyph: "✖",
    initial: { kind: "deadLetter", topic: "" },
    examples: {},
  },
};

export const KIND_LIST: KindInfo[] = Object.values(KINDS);

/** A node id not yet taken: the kind's name and the first free number. */
export function freshNodeId(kind: TNodeKind, taken: ReadonlySet<string>): string {
  for (let i = 1; ; i++) {
    const id = `${kind}${i}`;
    if (!taken.has(id)) return id;
  }
}
