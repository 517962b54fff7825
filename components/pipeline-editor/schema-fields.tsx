"use client";
/**
 * Form fields drawn from the shared schema (schema-form.ts): each shape has its control — CEL
 * fields, topic pickers from the live topic list, durations with a unit, choices, nested objects,
 * lists of items, discriminated variants. The server's message for a field shows at the field.
 */
import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import type { TCompletion, TNodeKind } from "@/server/schemas/pipeline";
import { CelField } from "./cel-field";
import { KINDS } from "./node-kinds";
import { initialOf, labelOf, objectInitial, type FieldShape, type FieldSpec } from "./schema-form";

export interface FormContext {
  kind: TNodeKind;
  /** the server's messages by field path inside the config ("condition", "aggregations.0.of") */
  errors: ReadonlyMap<string, string>;
  checking: boolean;
  topics: readonly string[];
  /** what the CEL field at a path completes: the server's inferred variables and fields, and those a preview saw */
  completions: (field: string) => readonly TCompletion[];
}

export const FormCtx = createContext<FormContext | null>(null);
const useForm = () => useContext(FormCtx)!;

const fieldId = (path: string) => `cfg-${path}`;

function FieldError({ path }: { path: string }) {
  const error = useForm().errors.get(path);
  if (!error) return null;
  return (
    <div className="field-error" data-testid={`field-error-${fieldId(path)}`} role="alert">
      {error}
    </div>
  );
}

function Labeled({ path, label, children, unit }: { path: string; label: string; children: ReactNode; unit?: string }) {
  return (
    <div className="pe-field" data-field={path}>
      <label htmlFor={fieldId(path)}>
        {label}
        {unit && <span className="muted"> ({unit})</span>}
      </label>
      {children}
      <FieldError path={path} />
    </div>
  );
}

const UNITS: [string, number][] = [
  ["ms", 1],
  ["s", 1000],
  ["min", 60_000],
  ["h", 3_600_000],
  ["d", 86_400_000],
];

function unitFor(ms: number): number {
  for (let i = UNITS.length - 1; i > 0; i--) if (ms > 0 && ms % UNITS[i][1] === 0) return UNITS[i][1];
  return 1;
}

function DurationInput({ id, value, onChange }: { id: string; value: number; onChange: (v: number) => void }) {
  const [unit, setUnit] = useState(() => unitFor(value));
  const [text, setText] = useState(String(value / unit));
  // an outside change (undo, another field) shows as it is
  useEffect(() => {
    if (Number(text) * unit !== value) {
      const u = unitFor(value);
      setUnit(u);
      setText(String(value / u));
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only when the value changed from outside
  }, [value]);
  return (
    <div className="row pe-duration">
      <input
        id={id}
        data-testid={`field-${id}`}
        type="number"
        min={0}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          const n = Number(e.target.value);
          if (e.target.value !== "" && Number.isFinite(n)) onChange(Math.round(n * unit));
        }}
      />
      <select
        aria-label="unit"
        data-testid={`field-${id}-unit`}
        value={unit}
        onChange={(e) => {
          const u = Number(e.target.value);
          setUnit(u);
          const n = Number(text);
          if (Number.isFinite(n)) onChange(Math.round(n * u));
        }}
      >
        {UNITS.map(([name, ms]) => (
          <option key={name} value={ms}>
            {name}
          </option>
        ))}
      </select>
    </div>
  );
}

function TopicsInput({ id, value, onChange }: { id: string; value: string[]; onChange: (v: string[]) => void }) {
  const [draft, setDraft] = useState("");
  const add = () => {
    const t = draft.trim();
    if (t && !value.includes(t)) onChange([...value, t]);
    setDraft("");
  };
  return (
    <div className="stack pe-topics">
      {value.length > 0 && (
        <div className="row">
          {value.map((t) => (
            <span key={t} className="badge pe-chip" data-testid={`topic-chip-${t}`}>
              {t}
              <button type="button" aria-label={`remove ${t}`} onClick={() => onChange(value.filter((x) => x !== t))}>
                ×
              </button>
            </span>
          ))}
        </div>
      )}
      <div className="row">
        <input
          id={id}
          data-testid={`field-${id}`}
          list="pe-topic-list"
          placeholder="topic name"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter") {
              e.preventDefault();
              add();
            }
          }}
        />
        <button type="button" data-testid={`field-${id}-add`} onClick={add} disabled={!draft.trim()}>
          Add
        </button>
      </div>
    </div>
  );
}

/** One field of a config object: its control by shape, optional ones added and removed. */
export function SchemaField({
  spec,
  value,
  path,
  onChange,
}: {
  spec: FieldSpec;
  value: unknown;
  path: string;
  onChange: (v: unknown) => void;
}) {
  const label = labelOf(spec.key);
  if (spec.optional && value === undefined && spec.shape.type !== "object") {
    return (
      <div className="pe-field pe-optional" data-field={path}>
        <button type="button" className="pe-link" data-testid={`add-${fieldId(path)}`} onClick={() => onChange(initialOf(spec.shape))}>
          + {label}
        </button>
        <FieldError path={path} />
      </div>
    );
  }
  const remove = spec.optional ? (
    <button type="button" className="pe-link pe-remove" aria-label={`remove ${label}`} onClick={() => onChange(undefined)}>
      remove
    </button>
  ) : null;
  return (
    <ShapeControl shape={spec.shape} value={value} path={path} label={label} onChange={onChange} optional={spec.optional} extra={remove} />
  );
}

function ShapeControl({
  shape,
  value,
  path,
  label,
  onChange,
  optional = false,
  extra,
}: {
  shape: FieldShape;
  value: unknown;
  path: string;
  label: string;
  onChange: (v: unknown) => void;
  optional?: boolean;
  extra?: ReactNode;
}) {
  const form = useForm();
  const id = fieldId(path);
  switch (shape.type) {
    case "cel": {
      const examplesKey = path.replace(/\.\d+\./g, ".");
      return (
        <div className="pe-field" data-field={path}>
          <div className="spread">
            <label htmlFor={id}>
              {label} <span className="muted">(CEL)</span>
            </label>
            {extra}
          </div>
          <CelField
            id={id}
            value={String(value ?? "")}
            onChange={onChange}
            error={form.errors.get(path)}
            checking={form.checking}
            examples={KINDS[form.kind].examples[examplesKey] ?? []}
            completions={form.completions(path)}
          />
        </div>
      );
    }
    case "topic":
      return (
        <Labeled path={path} label={label}>
          <input
            id={id}
            data-testid={`field-${id}`}
            list="pe-topic-list"
            placeholder="topic name"
            value={String(value ?? "")}
            onChange={(e) => onChange(e.target.value)}
          />
        </Labeled>
      );
    case "topics":
      return (
        <Labeled path={path} label={label}>
          <TopicsInput id={id} value={Array.isArray(value) ? (value as string[]) : []} onChange={onChange} />
          {extra}
        </Labeled>
      );
    case "text":
      return (
        <Labeled path={path} label={label}>
          <div className="row">
            <input id={id} data-testid={`field-${id}`} value={String(value ?? "")} onChange={(e) => onChange(e.target.value)} />
            {extra}
          </div>
        </Labeled>
      );
    case "enum":
      return (
        <Labeled path={path} label={label}>
          <select id={id} data-testid={`field-${id}`} value={String(value ?? shape.options[0])} onChange={(e) => onChange(e.target.value)}>
            {shape.options.map((o) => (
              <option key={o}>{o}</option>
            ))}
          </select>
        </Labeled>
      );
    case "number":
      return (
        <Labeled path={path} label={label}>
          <div className="row">
            {shape.duration ? (
              <DurationInput id={id} value={Number(value ?? 0)} onChange={onChange} />
            ) : (
              <input
                id={id}
                data-testid={`field-${id}`}
                type="number"
                min={shape.min}
                max={shape.max}
                value={Number(value ?? 0)}
                onChange={(e) => e.target.value !== "" && onChange(Number(e.target.value))}
              />
            )}
            {extra}
          </div>
        </Labeled>
      );
    case "boolean":
      return (
        <div className="pe-field pe-check" data-field={path}>
          <label>
            <input type="checkbox" data-testid={`field-${id}`} checked={value === true} onChange={(e) => onChange(e.target.checked)} />{" "}
            {label}
          </label>
          <FieldError path={path} />
        </div>
      );
    case "literal":
      return null;
    case "object": {
      const obj = (value ?? undefined) as Record<string, unknown> | undefined;
      return (
        <fieldset className="pe-group" data-field={path}>
          <legend>
            {optional ? (
              <label>
                <input
                  type="checkbox"
                  data-testid={`field-${id}`}
                  checked={obj !== undefined}
                  onChange={(e) => onChange(e.target.checked ? objectInitial(shape.fields) : undefined)}
                />{" "}
                {label}
              </label>
            ) : (
              label
            )}
          </legend>
          {obj !== undefined && <ObjectFields fields={shape.fields} value={obj} path={path} onChange={onChange} />}
          <FieldError path={path} />
        </fieldset>
      );
    }
    case "variants": {
      const obj = (value ?? undefined) as Record<string, unknown> | undefined;
      const current = obj ? String(obj[shape.discriminator]) : "";
      const variant = shape.variants.find((v) => v.values.includes(current));
      return (
        <fieldset className="pe-group" data-field={path}>
          <legend className="spread">
            <span>{label}</span>
            {extra}
          </legend>
          <Labeled path={`${path}.${shape.discriminator}`} label={shape.discriminator}>
            <select
              id={fieldId(`${path}.${shape.discriminator}`)}
              data-testid={`field-${fieldId(`${path}.${shape.discriminator}`)}`}
              value={current}
              onChange={(e) => {
                const next = e.target.value;
                if (next === "") return onChange(undefined);
                const v = shape.variants.find((x) => x.values.includes(next))!;
                // the same variant keeps its other fields (sum → avg keeps `of` and `as`)
                onChange(
                  v === variant && obj
                    ? { ...obj, [shape.discriminator]: next }
                    : { [shape.discriminator]: next, ...objectInitial(v.fields) },
                );
              }}
            >
              {optional && <option value="">none</option>}
              {shape.variants
                .flatMap((v) => v.values)
                .map((x) => (
                  <option key={x}>{x}</option>
                ))}
            </select>
          </Labeled>
          {variant && obj && <ObjectFields fields={variant.fields} value={obj} path={path} onChange={onChange} />}
          <FieldError path={path} />
        </fieldset>
      );
    }
    case "choice": {
      const isObject = shape.object !== undefined && value !== null && typeof value === "object";
      const objValue = isObject ? Number((value as Record<string, unknown>)[shape.object!.key]) : 0;
      return (
        <Labeled path={path} label={label}>
          <div className="row">
            <select
              id={id}
              data-testid={`field-${id}`}
              value={isObject ? `{${shape.object!.key}}` : String(value ?? shape.words[0])}
              onChange={(e) => onChange(e.target.value.startsWith("{") ? { [shape.object!.key]: Date.now() - 3_600_000 } : e.target.value)}
            >
              {shape.words.map((w) => (
                <option key={w}>{w}</option>
              ))}
              {shape.object && <option value={`{${shape.object.key}}`}>{shape.object.key}</option>}
            </select>
            {isObject && (
              <input
                type="datetime-local"
                aria-label={shape.object!.key}
                data-testid={`field-${id}-${shape.object!.key}`}
                value={new Date(objValue - new Date(objValue).getTimezoneOffset() * 60_000).toISOString().slice(0, 16)}
                onChange={(e) => {
                  const t = new Date(e.target.value).getTime();
                  if (Number.isFinite(t)) onChange({ [shape.object!.key]: t });
                }}
              />
            )}
          </div>
        </Labeled>
      );
    }
    case "list": {
      const items = Array.isArray(value) ? (value as unknown[]) : [];
      return (
        <fieldset className="pe-group" data-field={path}>
          <legend>{label}</legend>
          {items.map((item, i) => (
            <div key={i} className="pe-list-item" data-testid={`item-${fieldId(path)}-${i}`}>
              <ShapeControl
                shape={shape.item}
                value={item}
                path={`${path}.${i}`}
                label={`${label.replace(/s$/, "")} ${i + 1}`}
                onChange={(v) => onChange(items.map((x, j) => (j === i ? v : x)))}
                extra={
                  items.length > shape.min ? (
                    <button
                      type="button"
                      className="pe-link pe-remove"
                      data-testid={`remove-${fieldId(path)}-${i}`}
                      onClick={() => onChange(items.filter((_, j) => j !== i))}
                    >
                      remove
                    </button>
                  ) : null
                }
              />
            </div>
          ))}
          {items.length < shape.max && (
            <button
              type="button"
              className="pe-link"
              data-testid={`add-${fieldId(path)}`}
              onClick={() => onChange([...items, initialOf(shape.item)])}
            >
              + add
            </button>
          )}
          <FieldError path={path} />
        </fieldset>
      );
    }
  }
}

export function ObjectFields({
  fields,
  value,
  path,
  onChange,
}: {
  fields: FieldSpec[];
  value: Record<string, unknown>;
  path: string;
  onChange: (v: Record<string, unknown>) => void;
}) {
  return (
    <>
      {fields.map((f) => (
        <SchemaField
          key={f.key}
          spec={f}
          value={value[f.key]}
          path={path ? `${path}.${f.key}` : f.key}
          onChange={(v) => {
            const next = { ...value };
            if (v === undefined) delete next[f.key];
            else next[f.key] = v;
            onChange(next);
          }}
        />
      ))}
    </>
  );
}
