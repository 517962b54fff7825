"use client";
/** Form fields the message browser and the live tail share: where to start, the text filters, CEL failures. */
import { formatCount } from "../ui/format";

type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
/** A form field's props (value, onChange, test id, aria-invalid), from the form that owns the draft. */
export type FieldProps = {
  value: string;
  onChange: (e: React.ChangeEvent<Control>) => void;
  "data-testid": string;
  "aria-invalid"?: boolean;
};

/** "Start from" and, for an offset or a time, its input (a fragment: the caller's row lays them out). */
export function StartFromFields({
  from,
  field,
  errors,
  latestLabel,
  hints,
}: {
  from: string;
  field: (f: "from" | "offset" | "ts") => FieldProps;
  errors: { offset?: string; ts?: string };
  /** Listed first when given (the live tail's default), else after Earliest. */
  latestLabel?: string;
  hints?: { offset?: string; ts?: string };
}) {
  return (
    <>
      <label className="field">
        Start from
        <select {...field("from")}>
          {latestLabel && <option value="latest">{latestLabel}</option>}
          <option value="earliest">Earliest</option>
          {!latestLabel && <option value="latest">Latest</option>}
          <option value="offset">Offset</option>
          <option value="timestamp">Date and time</option>
        </select>
      </label>
      {from === "offset" && (
        <label className="field" title={hints?.offset}>
          Offset
          <input inputMode="numeric" style={{ width: 110 }} {...field("offset")} />
          <span className="field-error">{errors.offset}</span>
        </label>
      )}
      {from === "timestamp" && (
        <label className="field" title={hints?.ts}>
          Date and time (local)
          <input type="datetime-local" step="1" {...field("ts")} />
          <span className="field-error">{errors.ts}</span>
        </label>
      )}
    </>
  );
}

/** Key, value and header "contains" filters (case-insensitive; all given must match). */
export function TextFilterFields({ field, maxLength }: { field: (f: "key" | "value" | "header") => FieldProps; maxLength?: number }) {
  return (
    <>
      <label className="field">
        Key contains
        <input maxLength={maxLength} {...field("key")} />
      </label>
      <label className="field">
        Value contains
        <input maxLength={maxLength} {...field("value")} />
      </label>
      <label className="field">
        Header contains
        <input maxLength={maxLength} {...field("header")} />
      </label>
    </>
  );
}

/** Records the CEL expression failed on (they count as no match) and the first failure. */
export function CelErrorsNote({ count, first, testId }: { count: number; first: string | null; testId: string }) {
  if (count <= 0) return null;
  return (
    <div className="warn small" data-testid={testId}>
      CEL failed on {formatCount(count)} records (counted as no match), first: {first}
    </div>
  );
}
