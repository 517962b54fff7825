"use client";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import {
  DEFAULT_SEARCH_MATCHES,
  DEFAULT_SEARCH_SCANNED,
  MAX_SEARCH_MATCHES,
  MAX_SEARCH_SCANNED,
  type TSearchRecord,
  type TSearchRequest,
} from "@/server/schemas/console";
import type { TTopic } from "@/server/schemas/topic";
import { useSearch } from "../hooks/use-search";
import { useUrlState } from "../hooks/use-url-state";
import { formatBytes, formatCount, formatTime } from "../ui/format";
import { ErrorText } from "../ui/error-text";
import { VirtualTable, type Column, type TableSort } from "../ui/virtual-table";
import { download, toCsv, toJson } from "./export";
import { CelErrorsNote, StartFromFields, TextFilterFields } from "./filter-fields";
import { LinkedRecordDrawer, findLoaded, useOpenRecord } from "./record-link";
import { SORT_KEYS, sortRecords, type SortKey } from "./sort-records";

const FIELDS = ["partition", "from", "offset", "ts", "key", "value", "header", "cel", "max", "scan", "isolation"] as const;
type Field = (typeof FIELDS)[number];
type Draft = Record<Field, string>;

function draftFrom(get: (n: string, f?: string) => string): Draft {
  return {
    partition: get("partition", "all"),
    from: get("from", "earliest"),
    offset: get("offset", "0"),
    ts: get("ts"),
    key: get("key"),
    value: get("value"),
    header: get("header"),
    cel: get("cel"),
    max: get("max", String(DEFAULT_SEARCH_MATCHES)),
    scan: get("scan", String(DEFAULT_SEARCH_SCANNED)),
    isolation: get("isolation", "read_uncommitted"),
  };
}

/** The search request a draft describes, or what is wrong with it. */
function toRequest(d: Draft): { req?: TSearchRequest; errors: Partial<Record<Field, string>> } {
  const errors: Partial<Record<Field, string>> = {};
  const int = (f: Field, min: number, max: number) => {
    if (!/^\d+$/.test(d[f].trim())) errors[f] = "a whole number";
    else if (Number(d[f]) < min || Number(d[f]) > max) errors[f] = `${min.toLocaleString("en-US")}..${max.toLocaleString("en-US")}`;
    return Number(d[f]);
  };
  const req: TSearchRequest = {
    from: (["earliest", "latest", "offset", "timestamp"].includes(d.from) ? d.from : "earliest") as TSearchRequest["from"],
    maxMatches: int("max", 1, MAX_SEARCH_MATCHES),
    maxScanned: int("scan", 1, MAX_SEARCH_SCANNED),
    isolation: d.isolation === "read_committed" ? "read_committed" : "read_uncommitted",
  };
  if (d.partition !== "all") req.partition = int("partition", 0, 999_999);
  if (req.from === "offset") req.offset = int("offset", 0, Number.MAX_SAFE_INTEGER);
  if (req.from === "timestamp") {
    const t = Date.parse(d.ts);
    if (!d.ts || Number.isNaN(t)) errors.ts = "pick a date and time";
    else req.timestamp = t;
  }
  if (d.key) req.keyContains = d.key;
  if (d.value) req.valueContains = d.value;
  if (d.header) req.headerContains = d.header;
  if (d.cel.trim()) req.cel = d.cel;
  return Object.keys(errors).length ? { errors } : { req, errors };
}

const preview = (s: string | null, enc: string) =>
  s === null ? "null" : enc === "base64" ? `(base64) ${s.slice(0, 80)}` : s.length > 200 ? s.slice(0, 200) + "…" : s;

const COLUMNS: Column<TSearchRecord>[] = [
  { key: "partition", header: "Partition", width: 92, align: "right", render: (r) => r.partition },
  { key: "offset", header: "Offset", width: 96, align: "right", render: (r) => r.offset },
  { key: "timestamp", header: "Timestamp", width: 200, render: (r) => formatTime(r.timestamp) },
  { key: "key", header: "Key", width: 160, render: (r) => <span className="mono">{preview(r.key, r.keyEncoding)}</span> },
  { key: "value", header: "Value", width: "auto", render: (r) => <span className="mono">{preview(r.value, r.valueEncoding)}</span> },
  { key: "size", header: "Size", width: 90, align: "right", render: (r) => formatBytes(r.sizeBytes) },
];

/** `value` as it was at most `ms` ago (at once when ms is 0): a sort of 100,000 rows is not redone per frame. */
function useThrottled<T>(value: T, ms: number): T {
  const [held, setHeld] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    if (Object.is(held, value)) return;
    const wait = ms === 0 ? 0 : Math.max(0, last.current + ms - Date.now());
    const t = setTimeout(() => {
      last.current = Date.now();
      setHeld(value);
    }, wait);
    return () => clearTimeout(t);
  }, [value, held, ms]);
  return ms === 0 ? value : held;
}

export function MessagesBrowser({ topic }: { topic: TTopic }) {
  const { get, set, params } = useUrlState();
  const search = useSearch(topic.name);
  const [draft, setDraft] = useState<Draft>(() => draftFrom(get));
  const openRecord = useOpenRecord();
  const [note, setNote] = useState<string | null>(null);
  const urlKey = FIELDS.map((f) => `${f}=${params.get(f) ?? ""}`).join("&");
  const lastRun = useRef<string | null>(null);
  const { errors } = toRequest(draft);

  const run = useCallback(
    (d: Draft) => {
      const { req } = toRequest(d);
      if (req) void search.start(req);
    },
    [search],
  );

  // the URL is the search: opening a link (or going back) runs it
  useEffect(() => {
    if (lastRun.current === urlKey) return;
    lastRun.current = urlKey;
    const d = draftFrom(get);
    setDraft(d);
    run(d);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [urlKey]);

  const submitDraft = (d: Draft) => {
    if (Object.keys(toRequest(d).errors).length) return;
    const draft = d;
    const updates: Record<string, string | null> = Object.fromEntries(FIELDS.map((f) => [f, draft[f]]));
    // defaults stay out of the URL
    if (draft.partition === "all") updates.partition = null;
    if (draft.from === "earliest") updates.from = null;
    if (draft.from !== "offset") updates.offset = null;
    if (draft.from !== "timestamp") updates.ts = null;
    if (draft.max === String(DEFAULT_SEARCH_MATCHES)) updates.max = null;
    if (draft.scan === String(DEFAULT_SEARCH_SCANNED)) updates.scan = null;
    if (draft.isolation !== "read_committed") updates.isolation = null;
    const next = FIELDS.map((f) => `${f}=${updates[f] ?? ""}`).join("&");
    if (next === urlKey) run(draft);
    else set(updates, "push");
  };
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    submitDraft(draft);
  };

  const p = search.progress;
  const running = p.status === "running";
  const pct = p.toScan > 0 ? Math.min(100, (100 * p.scanned) / p.toScan) : running ? 0 : 100;
  const field = (f: Field) => ({
    value: draft[f],
    onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>) =>
      setDraft({ ...draft, [f]: e.target.value }),
    "data-testid": `search-${f}`,
    "aria-invalid": errors[f] ? true : undefined,
  });
  const isolation = draft.isolation === "read_committed" ? "read_committed" : "read_uncommitted";
  // column sort of the loaded rows, in the URL like the rest of the view
  const sortParam = get("sort");
  const sort: TableSort | null = (SORT_KEYS as readonly string[]).includes(sortParam)
    ? { key: sortParam, dir: get("dir") === "desc" ? "desc" : "asc" }
    : null;
  const loadedRows = search.rows.current;
  const sortedCount = useThrottled(search.rowCount, sort && running ? 500 : 0);
  const sorted = useMemo(
    () => (sort ? sortRecords(loadedRows.slice(0, sortedCount), sort.key as SortKey, sort.dir) : null),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [loadedRows, sortedCount, sort?.key, sort?.dir],
  );
  const viewRows = sorted ?? loadedRows;
  const viewCount = sorted ? sorted.length : search.rowCount;
  const shown = useMemo(() => () => viewRows.slice(0, viewCount), [viewRows, viewCount]);
  const onSort = (key: string) => set({ sort: key, dir: sort?.key === key && sort.dir === "asc" ? "desc" : "asc" });
  const at = openRecord.at;
  const loaded = useMemo(() => findLoaded(loadedRows, search.rowCount, at), [loadedRows, search.rowCount, at]);

  return (
    <div className="stack" data-testid="messages-browser">
      <form className="panel stack" onSubmit={submit} noValidate>
        <div className="row" style={{ alignItems: "flex-start" }}>
          <label className="field">
            Partition
            <select {...field("partition")}>
              <option value="all">All partitions</option>
              {topic.partitions.map((x) => (
                <option key={x.partition} value={String(x.partition)}>
                  {x.partition}
                </option>
              ))}
            </select>
          </label>
          <StartFromFields from={draft.from} field={field} errors={errors} />
          <label className="field" title="Latest starts “max results” records before each partition's end">
            Max results
            <input inputMode="numeric" style={{ width: 100 }} {...field("max")} />
            <span className="field-error">{errors.max}</span>
          </label>
          <label
            className="field"
            title="read_committed: like a consumer with isolation.level=read_committed — no records of aborted transactions, nothing past the last stable offset"
          >
            Isolation
            <select
              data-testid="search-isolation"
              value={isolation}
              onChange={(e) => {
                // the isolation level changes what the scan reads: search again at once
                const d = { ...draft, isolation: e.target.value === "read_committed" ? "read_committed" : "read_uncommitted" };
                setDraft(d);
                submitDraft(d);
              }}
            >
              <option value="read_uncommitted">read_uncommitted</option>
              <option value="read_committed">read_committed</option>
            </select>
          </label>
          <label className="field">
            Max records scanned
            <input inputMode="numeric" style={{ width: 110 }} {...field("scan")} />
            <span className="field-error">{errors.scan}</span>
          </label>
        </div>
        <div className="row" style={{ alignItems: "flex-start" }}>
          <TextFilterFields field={field} />
        </div>
        <label className="field">
          CEL filter over key, value (parsed JSON), headers, partition, offset, timestamp — e.g.{" "}
          <code>value.amount &gt; 100 &amp;&amp; headers[&quot;source&quot;] == &quot;web&quot;</code>
          <textarea rows={2} {...field("cel")} spellCheck={false} placeholder='value.status == "paid" && offset >= 10' />
        </label>
        <div className="row">
          <button type="submit" className="primary" data-testid="search-submit" disabled={Object.keys(errors).length > 0}>
            Search
          </button>
          <button type="button" data-testid="search-cancel" onClick={search.cancel} disabled={!running}>
            Cancel
          </button>
          <span style={{ flex: 1 }} />
          <button
            type="button"
            data-testid="export-copy"
            disabled={viewCount === 0}
            onClick={() =>
              void navigator.clipboard?.writeText(toJson(shown())).then(() => setNote(`Copied ${formatCount(viewCount)} messages as JSON`))
            }
          >
            Copy JSON
          </button>
          <button
            type="button"
            data-testid="export-json"
            disabled={viewCount === 0}
            onClick={() => download(`${topic.name}-messages.json`, toJson(shown()), "application/json")}
          >
            Export JSON
          </button>
          <button
            type="button"
            data-testid="export-csv"
            disabled={viewCount === 0}
            onClick={() => download(`${topic.name}-messages.csv`, toCsv(shown()), "text/csv")}
          >
            Export CSV
          </button>
        </div>
      </form>
      <div className="stack" style={{ gap: 4 }} data-testid="search-progress" data-status={p.status} aria-live="polite">
        <div className="progress" aria-hidden="true">
          <div style={{ width: `${pct}%` }} />
        </div>
        <div className="spread small">
          <span>
            <span data-testid="search-status">
              {p.status === "running"
                ? "Scanning…"
                : p.status === "done"
                  ? "Done"
                  : p.status === "cancelled"
                    ? "Cancelled"
                    : p.status === "error"
                      ? "Failed"
                      : "Idle"}
            </span>
            {" · "}scanned <strong data-testid="search-scanned">{formatCount(p.scanned)}</strong>
            {p.toScan ? ` of ${formatCount(p.toScan)}` : ""} · matches{" "}
            <strong data-testid="search-matched">{formatCount(p.matched)}</strong> · shown{" "}
            <strong data-testid="search-shown">{formatCount(viewCount)}</strong>
            {isolation === "read_committed" && (
              <span data-testid="search-isolation-note"> · read_committed: aborted and still-open transactions are not shown</span>
            )}
            {p.elapsedMs ? ` · ${(p.elapsedMs / 1000).toFixed(1)} s` : ""}
          </span>
          <span className="muted" data-testid="search-reason">
            {p.reason === "maxMatches"
              ? "stopped at max results"
              : p.reason === "maxScanned"
                ? "stopped at max records scanned"
                : p.reason === "end"
                  ? "reached the end (high watermark at start)"
                  : (note ?? "")}
          </span>
        </div>
        <CelErrorsNote count={p.celErrors} first={p.firstCelError} testId="search-cel-errors" />
        {p.error && (
          <div role="alert" className="alert" data-testid="search-error">
            <ErrorText text={p.error} />
          </div>
        )}
      </div>
      <VirtualTable
        testId="messages-table"
        rows={viewRows}
        rowCount={viewCount}
        columns={COLUMNS}
        height={520}
        rowKey={(r) => `${r.partition}:${r.offset}`}
        onOpen={(r) => openRecord.open(r)}
        sort={sort}
        onSort={onSort}
        empty={
          running
            ? "Scanning…"
            : p.status === "done"
              ? isolation === "read_committed"
                ? "No committed messages match."
                : "No messages match."
              : ""
        }
      />
      {at && <LinkedRecordDrawer topic={topic.name} at={at} loaded={loaded} onClose={openRecord.close} />}
    </div>
  );
}
