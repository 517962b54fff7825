"use client";
import Link from "next/link";
import { useState } from "react";
import type { TProduceRecord, TProduceResponse } from "@/server/schemas/record";
import type { TTopic } from "@/server/schemas/topic";
import { useProduceRecords } from "../hooks/use-records";
import { useUrlState } from "../hooks/use-url-state";
import { ErrorBox } from "../ui/status";

type ValueFormat = "json" | "text" | "base64";
export const MAX_REPEAT = 10_000;

function jsonError(s: string): string | null {
  try {
    JSON.parse(s);
    return null;
  } catch (e) {
    return `invalid JSON: ${(e as Error).message}`;
  }
}

interface HeaderRow {
  id: number;
  key: string;
  value: string;
}

export function ProduceForm({ topic }: { topic: TTopic }) {
  const { get, set } = useUrlState();
  const produce = useProduceRecords(topic.name);
  const [key, setKey] = useState("");
  const [value, setValue] = useState('{\n  "hello": "world"\n}');
  const format = (["json", "text", "base64"].includes(get("format")) ? get("format") : "json") as ValueFormat;
  const [headers, setHeaders] = useState<HeaderRow[]>([]);
  const [partition, setPartition] = useState("");
  const [count, setCount] = useState("1");
  const [result, setResult] = useState<TProduceResponse | null>(null);

  const valueError = format === "json" && value.trim() !== "" ? jsonError(value) : null;
  const partitionError =
    partition.trim() !== "" && !/^\d+$/.test(partition.trim()) ? "partition must be a whole number (or empty for automatic)" : null;
  const n = /^\d+$/.test(count.trim()) ? Number(count) : NaN;
  const countError =
    Number.isInteger(n) && n >= 1 && n <= MAX_REPEAT ? null : `send between 1 and ${MAX_REPEAT.toLocaleString("en-US")} times`;
  const valid = !valueError && !partitionError && !countError;

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    if (!valid) return;
    const rec: TProduceRecord = {};
    if (key !== "") rec.key = key;
    if (value.trim() !== "") {
      if (format === "json") rec.value = JSON.parse(value);
      else if (format === "text") rec.value = value;
      else rec.valueBase64 = value.trim();
    }
    if (headers.length) rec.headers = headers.filter((h) => h.key !== "").map((h) => ({ key: h.key, value: h.value }));
    if (partition.trim() !== "") rec.partition = Number(partition);
    setResult(null);
    produce.mutate(
      Array.from({ length: n }, () => rec),
      { onSuccess: (r) => setResult(r) },
    );
  };

  const first = result?.records[0];
  const last = result?.records[result.records.length - 1];
  return (
    <form className="stack" style={{ maxWidth: 760 }} onSubmit={submit} noValidate data-testid="produce-form">
      <label className="field">
        Key (text; empty for no key)
        <input data-testid="produce-key" value={key} onChange={(e) => setKey(e.target.value)} placeholder="order-42" />
      </label>
      <div className="row" role="radiogroup" aria-label="value format">
        <span className="small muted">Value as</span>
        {(["json", "text", "base64"] as const).map((f) => (
          <label key={f} className="row small" style={{ gap: 4 }}>
            <input
              type="radio"
              name="value-format"
              value={f}
              checked={format === f}
              data-testid={`produce-format-${f}`}
              onChange={() => set({ format: f })}
            />
            {f === "json" ? "JSON" : f === "text" ? "Text" : "Base64 (binary)"}
          </label>
        ))}
      </div>
      <label className="field">
        Value
        <textarea
          rows={8}
          data-testid="produce-value"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          aria-invalid={valueError ? true : undefined}
          aria-describedby="produce-value-error"
        />
        <span className="field-error" id="produce-value-error" data-testid="produce-value-error">
          {valueError}
        </span>
      </label>
      <fieldset className="stack" style={{ border: "1px solid var(--line)", borderRadius: 6 }}>
        <legend className="small muted">Headers</legend>
        {headers.map((h, i) => (
          <div className="row" key={h.id}>
            <input
              aria-label="header key"
              placeholder="key"
              data-testid={`produce-header-key-${i}`}
              value={h.key}
              onChange={(e) => setHeaders(headers.map((x) => (x.id === h.id ? { ...x, key: e.target.value } : x)))}
            />
            <input
              aria-label="header value"
              placeholder="value"
              data-testid={`produce-header-value-${i}`}
              value={h.value}
              onChange={(e) => setHeaders(headers.map((x) => (x.id === h.id ? { ...x, value: e.target.value } : x)))}
            />
            <button type="button" aria-label="remove header" onClick={() => setHeaders(headers.filter((x) => x.id !== h.id))}>
              ✕
            </button>
          </div>
        ))}
        <div>
          <button
            type="button"
            data-testid="produce-add-header"
            onClick={() => setHeaders([...headers, { id: Date.now() + Math.random(), key: "", value: "" }])}
          >
            Add header
          </button>
        </div>
      </fieldset>
      <div className="row" style={{ alignItems: "flex-start" }}>
        <label className="field">
          Partition (empty: by key / sticky)
          <input
            data-testid="produce-partition"
            inputMode="numeric"
            value={partition}
            onChange={(e) => setPartition(e.target.value)}
            placeholder={`0..${topic.partitions.length - 1}`}
            aria-invalid={partitionError ? true : undefined}
          />
          <span className="field-error">{partitionError}</span>
        </label>
        <label className="field">
          Send this many times
          <input
            data-testid="produce-count"
            inputMode="numeric"
            value={count}
            onChange={(e) => setCount(e.target.value)}
            aria-invalid={countError ? true : undefined}
          />
          <span className="field-error">{countError}</span>
        </label>
      </div>
      <ErrorBox error={produce.error} testId="produce-error" />
      <div className="row" style={{ minHeight: 36 }}>
        <button type="submit" className="primary" disabled={!valid || produce.isPending} data-testid="produce-submit">
          {produce.isPending ? "Sending…" : n > 1 ? `Send ${n.toLocaleString("en-US")} records` : "Send record"}
        </button>
        {result && first && last && (
          <span className="ok" data-testid="produce-result" data-partition={first.partition} data-offset={first.offset}>
            {result.records.length === 1
              ? `Landed at partition ${first.partition}, offset ${first.offset}`
              : `${result.records.length.toLocaleString("en-US")} records landed; first at partition ${first.partition} offset ${first.offset}, last at partition ${last.partition} offset ${last.offset}`}{" "}
            <Link href={`?tab=messages&partition=${first.partition}&from=offset&offset=${first.offset}`} data-testid="produce-result-link">
              view
            </Link>
          </span>
        )}
      </div>
    </form>
  );
}
