/**
 * Reading the shared zod schema of node configs to draw their forms: which fields a kind has,
 * of which shape (a CEL expression, a topic, a list of topics, a choice, a duration, a nested
 * object, a list of items, a discriminated union), their defaults, and the value a newly added
 * item starts with. No rule is checked here: the server validates (and says where).
 */
import type { z } from "zod";
import { ZCel, ZNodeConfig, type TNodeKind } from "../../server/schemas/pipeline";
import { ZTopicName } from "../../server/schemas/topic";

type Schema = z.ZodType;

interface Def {
  type: string;
  innerType?: Schema;
  defaultValue?: unknown;
  options?: Schema[];
  discriminator?: string;
  element?: Schema;
  entries?: Record<string, string>;
  values?: unknown[];
  checks?: { _zod: { def: { check: string; minimum?: number; maximum?: number } } }[];
}

const defOf = (s: Schema): Def => (s as unknown as { _zod: { def: Def } })._zod.def;
const shapeOf = (s: Schema): Record<string, Schema> => (s as unknown as { shape: Record<string, Schema> }).shape;

export type FieldShape =
  | { type: "cel" }
  | { type: "topic" }
  | { type: "topics" }
  | { type: "text" }
  | { type: "enum"; options: string[] }
  | { type: "number"; min?: number; max?: number; duration: boolean }
  | { type: "boolean" }
  | { type: "literal"; value: unknown }
  | { type: "object"; fields: FieldSpec[] }
  /** one of several objects told apart by `discriminator` (each value of it names its variant) */
  | { type: "variants"; discriminator: string; variants: { values: string[]; schema: Schema; fields: FieldSpec[] }[] }
  /** one of some fixed words, or an object (a source's start: earliest, latest, committed or a timestamp) */
  | { type: "choice"; words: string[]; object?: { key: string; schema: Schema } }
  | { type: "list"; item: FieldShape; itemSchema: Schema; min: number; max: number };

export interface FieldSpec {
  key: string;
  schema: Schema;
  shape: FieldShape;
  optional: boolean;
  defaultValue: unknown;
}

/** The field's schema without optional/default wrappers, and what they said. */
function unwrap(s: Schema): { inner: Schema; optional: boolean; defaultValue: unknown } {
  let inner = s;
  let optional = false;
  let defaultValue: unknown = undefined;
  for (;;) {
    const d = defOf(inner);
    if (d.type === "optional") optional = true;
    else if (d.type === "default") defaultValue = d.defaultValue;
    else break;
    inner = d.innerType!;
  }
  return { inner, optional, defaultValue };
}

function shapeFor(s: Schema): FieldShape {
  if (s === ZCel) return { type: "cel" };
  if (s === ZTopicName) return { type: "topic" };
  const d = defOf(s);
  switch (d.type) {
    case "string":
      return { type: "text" };
    case "number": {
      const n = s as unknown as { minValue: number | null; maxValue: number | null };
      return { type: "number", min: n.minValue ?? undefined, max: n.maxValue ?? undefined, duration: false };
    }
    case "boolean":
      return { type: "boolean" };
    case "enum":
      return { type: "enum", options: Object.values(d.entries ?? {}) };
    case "literal":
      return { type: "literal", value: d.values?.[0] };
    case "object":
      return { type: "object", fields: fieldsOfObject(s) };
    case "array": {
      const element = d.element!;
      if (element === ZTopicName) return { type: "topics" };
      const check = (name: string) => d.checks?.find((c) => c._zod.def.check === name)?._zod.def;
      return {
        type: "list",
        item: shapeFor(element),
        itemSchema: element,
        min: check("min_length")?.minimum ?? 0,
        max: check("max_length")?.maximum ?? Infinity,
      };
    }
    case "union": {
      const options = d.options ?? [];
      if (d.discriminator) {
        const key = d.discriminator;
        return {
          type: "variants",
          discriminator: key,
          variants: options.map((o) => {
            const disc = defOf(shapeOf(o)[key]);
            const values = disc.type === "enum" ? Object.values(disc.entries ?? {}) : (disc.values ?? []).map(String);
            return { values, schema: o, fields: fieldsOfObject(o).filter((f) => f.key !== key) };
          }),
        };
      }
      const words = options.filter((o) => defOf(o).type === "literal").map((o) => String(defOf(o).values?.[0]));
      const obj = options.find((o) => defOf(o).type === "object");
      const objKey = obj ? Object.keys(shapeOf(obj))[0] : undefined;
      return { type: "choice", words, object: obj && objKey ? { key: objKey, schema: shapeOf(obj)[objKey] } : undefined };
    }
    default:
      return { type: "text" };
  }
}

function fieldsOfObject(s: Schema): FieldSpec[] {
  return Object.entries(shapeOf(s)).map(([key, schema]) => {
    const { inner, optional, defaultValue } = unwrap(schema);
    let shape = shapeFor(inner);
    if (shape.type === "number" && /Ms$/.test(key)) shape = { ...shape, duration: true };
    return { key, schema: inner, shape, optional, defaultValue };
  });
}

const byKind = new Map<string, FieldSpec[]>();

/** The fields of a node kind's config (without `kind`), from the shared schema. */
export function fieldsOfKind(kind: TNodeKind): FieldSpec[] {
  let fields = byKind.get(kind);
  if (!fields) {
    const option = (defOf(ZNodeConfig).options ?? []).find((o) => defOf(shapeOf(o).kind).values?.[0] === kind);
    fields = option ? fieldsOfObject(option).filter((f) => f.key !== "kind") : [];
    byKind.set(kind, fields);
  }
  return fields;
}

/** The value a new field, item or variant starts with: its default, else the least it can be. */
export function initialOf(shape: FieldShape, defaultValue?: unknown): unknown {
  if (defaultValue !== undefined) return structuredClone(defaultValue);
  switch (shape.type) {
    case "cel":
    case "topic":
    case "text":
      return "";
    case "topics":
      return [];
    case "enum":
      return shape.options[0];
    case "number":
      return Math.max(shape.min ?? 0, 0);
    case "boolean":
      return false;
    case "literal":
      return shape.value;
    case "object":
      return objectInitial(shape.fields);
    case "variants": {
      const v = shape.variants[0];
      return { [shape.discriminator]: v.values[0], ...(objectInitial(v.fields) as object) };
    }
    case "choice":
      return shape.words[0];
    case "list":
      return Array.from({ length: shape.min }, () => initialOf(shape.item));
  }
}

export function objectInitial(fields: FieldSpec[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) if (!f.optional) out[f.key] = initialOf(f.shape, f.defaultValue);
  return out;
}

/** "outOfOrdernessMs" → "out of orderness"; the unit is shown by the field. */
export function labelOf(key: string): string {
  return key
    .replace(/Ms$/, "")
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .toLowerCase();
}
