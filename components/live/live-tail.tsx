"use client";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { MAX_CEL_LENGTH } from "@/server/schemas/console";
import { MAX_LIVE_FILTER_TEXT, type TLiveFilter } from "@/server/schemas/live";
import type { TRecord } from "@/server/schemas/record";
import type { TTopic } from "@/server/schemas/topic";
import { useRouter } from "next/navigation";
import { useLiveSocket, type LiveFilterStats, type LiveStart } from "../hooks/use-live-socket";
import { useTopics } from "../hooks/use-topics";
import { useUrlState } from "../hooks/use-url-state";
import { CelErrorsNote, StartFromFields, TextFilterFields } from "../messages/filter-fields";
import { LinkedRecordDrawer, findLoaded, useOpenRecord } from "../messages/record-link";
import { ErrorText } from "../ui/error-text";
import { formatCount, formatRate, formatTime } from "../ui/format";
import { VirtualTable, type Column } from "../ui/virtual-table";

/** Records kept in the page; older ones are dropped. */
export const LIVE_BUFFER_CAP = 5_000;
/** The table is redrawn at most this often, however fast records arrive. */
export const LIVE_FLUSH_MS = 250;

const preview = (s: string | null, enc: string) =>
  s === null ? "null" : enc === "base64" ? `(base64) ${s.slice(0, 60)}` : s.length > 160 ? s.slice(0, 160) + "…" : s;

const headersPreview = (r: TRecord) =>
  r.headers.length === 0
    ? ""
    : r.headers.map((h) => `${h.key}=${h.value === null ? "null" : h.valueEncoding === "base64" ? "(base64)" : h.value}`).join(", ");

const COLUMNS: Column<TRecord>[] = [
  { key: "partition", header: "Partition", width: 92, align: "right", render: (r) => r.partition },
  { key: "offset", header: "Offset", width: 96, align: "right", render: (r) => r.offset },
  { key: "timestamp", header: "Timestamp", width: 200, render: (r) => formatTime(r.timestamp) },
  { key: "key", header: "Key", width: 160, render: (r) => <span className="mono">{preview(r.key, r.keyEncoding)}</span> },
  {
    key: "headers",
    header: "Headers",
    width: 180,
    render: (r) => (
      <span className="mono" title={headersPreview(r)}>
        {headersPreview(r)}
      </span>
    ),
  },
  { key: "value", header: "Value", width: "auto", render: (r) => <span className="mono">{preview(r.value, r.valueEncoding)}</span> },
];

/** The start and filter fields as typed; applied (to the URL, and so to the subscription) on submit. */
const FIELDS = ["from", "offset", "ts", "key", "value", "header", "cel"] as const;
type Field = (typeof FIELDS)[number];
type Draft = Record<Field, string>;

function draftFrom(get: (n: string, f?: string) => string): Draft {
  const from = get("from", "latest");
  return {
    from: ["latest", "earliest", "offset", "timestamp"].includes(from) ? from : "latest",
    offset: get("offset", "0"),
    ts: get("ts"),
    key: get("key"),
    value: get("value"),
    header: get("header"),
    cel: get("cel"),
  };
}

/** Where a draft starts the tail and what it filters, or what is wrong with it. */
function toSubscription(d: Draft): { from?: LiveStart; filter?: TLiveFilter; errors: Partial<Record<Field, string>> } {
  const errors: Partial<Record<Field, string>> = {};
  let from: LiveStart = d.from === "earliest" ? "earliest" : "latest";
  if (d.from === "offset") {
    if (!/^\d{1,16}$/.test(d.offset.trim()) || !Number.isSafeInteger(Number(d.offset))) errors.offset = "a whole number";
    else from = { offset: Number(d.offset) };
  } else if (d.from === "timestamp") {
    const t = Date.parse(d.ts);
    if (!d.ts || Number.isNaN(t) || t < 0) errors.ts = "pick a date and time";
    else from = { timestamp: t };
  }
  const filter: TLiveFilter = {};
  if (d.key) filter.keyContains = d.key;
  if (d.value) filter.valueContains = d.value;
  if (d.header) filter.headerContains = d.header;
  if (d.cel.trim()) filter.cel = d.cel;
  if (Object.keys(errors).length) return { errors };
  return { from, filter: Object.keys(filter).length ? filter : undefined, errors };
}

const NO_STATS: LiveFilterStats = { scanned: 0, matched: 0, celErrors: 0, firstCelError: null, throttled: false };

export function LiveTail({ topic }: { topic: TTopic }) {
  const { get, set } = useUrlState();
  const router = useRouter();
  const topics = useTopics();
  const partsParam = get("partitions");
  const partitions = useMemo(
    () =>
      partsParam
        ? partsParam
            .split(",")
            .filter((s) => /^\d+$/.test(s))
            .map(Number)
            .filter((p) => p < topic.partitions.length)
        : undefined,
    [partsParam, topic.partitions.length],
  );
  // the applied start and filter come from the URL; the form edits a draft until Apply
  const urlKey = FIELDS.map((f) => `${f}=${get(f)}`).join("&");
  const [draft, setDraft] = useState<Draft>(() => draftFrom(get));
  useEffect(() => setDraft(draftFrom(get)), [urlKey]); // eslint-disable-line react-hooks/exhaustive-deps
  const applied = useMemo(() => toSubscription(draftFrom(get)), [urlKey]); // eslint-disable-line react-hooks/exhaustive-deps
  const { errors } = toSubscription(draft);
  const filtered = applied.filter !== undefined;
  const [filterStats, setFilterStats] = useState<LiveFilterStats>(NO_STATS);
  const openRecord = useOpenRecord();
  const [paused, setPaused] = useState(false);
  const [follow, setFollow] = useState(true);
  const buf = useRef<TRecord[]>([]);
  const [shown, setShown] = useState<{ rows: TRecord[]; count: number }>({ rows: [], count: 0 });
  const stats = useRef({ received: 0, dropped: 0, skipped: 0, sincePause: 0, perSecond: [] as { t: number; n: number }[] });
  const [view, setView] = useState({ received: 0, dropped: 0, skipped: 0, sincePause: 0, rate: 0 });
  const pausedRef = useRef(paused);
  pausedRef.current = paused;

  // the server filters: every record that arrives is shown
  const onRecords = useCallback((records: TRecord[]) => {
    const s = stats.current;
    s.received += records.length;
    const sec = Math.floor(Date.now() / 1000);
    const last = s.perSecond[s.perSecond.length - 1];
    if (last && last.t === sec) last.n += records.length;
    else s.perSecond.push({ t: sec, n: records.length });
    const b = buf.current;
    for (const r of records) b.push(r);
    if (pausedRef.current) s.sincePause += records.length;
    // trim in chunks: one splice per ~1,000 records instead of one shift per record
    if (b.length > LIVE_BUFFER_CAP + 1000) {
      const drop = b.length - LIVE_BUFFER_CAP;
      b.splice(0, drop);
      s.dropped += drop;
    }
  }, []);
  const onLagging = useCallback((skipped: number) => {
    stats.current.skipped += skipped;
  }, []);

  const { status, error } = useLiveSocket(
    { topic: topic.name, partitions, from: applied.from, filter: applied.filter },
    { onRecords, onLagging, onFilterStats: setFilterStats },
  );
  const filterError = error?.field?.startsWith("filter.") ? error : null;

  // redraw on a timer, not per frame of records: the page stays responsive at any rate
  useEffect(() => {
    const timer = setInterval(() => {
      const s = stats.current;
      const now = Math.floor(Date.now() / 1000);
      s.perSecond = s.perSecond.filter((p) => p.t >= now - 3);
      const complete = s.perSecond.filter((p) => p.t < now && p.t >= now - 2);
      const rate = complete.reduce((a, p) => a + p.n, 0) / 2;
      setView({ received: s.received, dropped: s.dropped, skipped: s.skipped, sincePause: s.sincePause, rate });
      if (!pausedRef.current) {
        const b = buf.current;
        if (b.length > LIVE_BUFFER_CAP) {
          s.dropped += b.length - LIVE_BUFFER_CAP;
          b.splice(0, b.length - LIVE_BUFFER_CAP);
        }
        setShown({ rows: b, count: b.length });
      }
    }, LIVE_FLUSH_MS);
    return () => clearInterval(timer);
  }, []);

  const clear = () => {
    buf.current = [];
    stats.current = { received: 0, dropped: 0, skipped: 0, sincePause: 0, perSecond: [] };
    setShown({ rows: [], count: 0 });
  };
  // a new topic, partition, start or filter choice starts a fresh view (and a new subscription)
  useEffect(() => {
    clear();
    setFilterStats(NO_STATS);
  }, [topic.name, partsParam, urlKey]);

  const apply = (e: React.FormEvent) => {
    e.preventDefault();
    if (Object.keys(errors).length) return;
    const d = draft;
    // defaults stay out of the URL
    set(
      {
        from: d.from === "latest" ? null : d.from,
        offset: d.from === "offset" ? d.offset.trim() : null,
        ts: d.from === "timestamp" ? d.ts : null,
        key: d.key,
        value: d.value,
        header: d.header,
        cel: d.cel.trim() ? d.cel : null,
      },
      "push",
    );
  };
  const field = (f: Field) => ({
    value: draft[f],
    onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>) =>
      setDraft({ ...draft, [f]: e.target.value }),
    "data-testid": `live-${f}`,
    "aria-invalid": errors[f] || (f === "cel" && filterError) ? true : undefined,
  });
  const at = openRecord.at;
  const loaded = useMemo(() => findLoaded(shown.rows, shown.count, at), [shown, at]);

  const togglePartition = (p: number) => {
    const cur = new Set(partitions ?? topic.partitions.map((x) => x.partition));
    if (cur.has(p)) cur.delete(p);
    else cur.add(p);
    const list = [...cur].sort((a, b) => a - b);
    set({ partitions: list.length === topic.partitions.length || list.length === 0 ? null : list.join(",") });
  };

  return (
    <div className="stack" data-testid="live-tail">
      <div className="panel stack">
        <div className="row">
          <label className="field">
            <span className="sr-only">Topic</span>
            <select
              data-testid="live-topic"
              aria-label="topic"
              value={topic.name}
              onChange={(e) => router.push(`/topics/${encodeURIComponent(e.target.value)}?tab=live`)}
            >
              {(topics.data?.some((t) => t.name === topic.name) ? topics.data : [topic, ...(topics.data ?? [])]).map((t) => (
                <option key={t.name} value={t.name}>
                  {t.name}
                </option>
              ))}
            </select>
          </label>
          <span className="small muted">Partitions</span>
          {topic.partitions.map((x) => (
            <label key={x.partition} className="row small" style={{ gap: 3 }}>
              <input
                type="checkbox"
                data-testid={`live-partition-${x.partition}`}
                checked={!partitions || partitions.includes(x.partition)}
                onChange={() => togglePartition(x.partition)}
              />
              {x.partition}
            </label>
          ))}
        </div>
        <form className="stack" onSubmit={apply} noValidate data-testid="live-form">
          <div className="row" style={{ alignItems: "flex-start" }}>
            <StartFromFields
              from={draft.from}
              field={field}
              errors={errors}
              latestLabel="Latest (new records only)"
              hints={{
                offset: "The same offset in every partition (clamped to what each partition holds)",
                ts: "In each partition, the first record at or after this time",
              }}
            />
            <TextFilterFields field={field} maxLength={MAX_LIVE_FILTER_TEXT} />
          </div>
          <label className="field">
            CEL filter over key, value (parsed JSON), headers, partition, offset, timestamp — evaluated on the server, only matches are sent
            <textarea
              rows={2}
              maxLength={MAX_CEL_LENGTH}
              spellCheck={false}
              placeholder='value.status == "paid" && headers["source"] == "web"'
              {...field("cel")}
            />
            {filterError && (
              <span className="field-error" role="alert" data-testid="live-filter-error">
                <ErrorText text={filterError.message} />
              </span>
            )}
          </label>
          <div className="row">
            <button type="submit" className="primary" data-testid="live-apply" disabled={Object.keys(errors).length > 0}>
              Apply
            </button>
            {filtered && !filterError && (
              <span className="small" data-testid="live-filter-stats">
                Filtered on the server: scanned <strong data-testid="live-scanned">{formatCount(filterStats.scanned)}</strong> · matched{" "}
                <strong data-testid="live-matched">{formatCount(filterStats.matched)}</strong>
                {filterStats.throttled ? " · filtering paused for a moment (its time budget per second is spent)" : ""}
              </span>
            )}
          </div>
          <CelErrorsNote count={filterStats.celErrors} first={filterStats.firstCelError} testId="live-cel-errors" />
        </form>
        <div className="row">
          <button
            type="button"
            className={paused ? "primary" : undefined}
            data-testid="live-pause"
            aria-pressed={paused}
            onClick={() => {
              if (paused) stats.current.sincePause = 0;
              setPaused(!paused);
            }}
            style={{ width: 100 }}
          >
            {paused ? "Resume" : "Pause"}
          </button>
          <button type="button" data-testid="live-clear" onClick={clear}>
            Clear
          </button>
          <button type="button" data-testid="live-follow" disabled={follow} onClick={() => setFollow(true)}>
            {follow ? "Auto-scroll on" : "Jump to latest (auto-scroll off)"}
          </button>
          <span className="small" data-testid="live-status" data-status={status} style={{ minWidth: 110 }}>
            {status === "open" ? "● connected" : status === "connecting" ? "○ connecting…" : "○ disconnected"}
          </span>
          <span className="small" style={{ minWidth: 150 }}>
            Rate <strong data-testid="live-rate">{formatRate(view.rate)}</strong> records/s
          </span>
          <span className="small" style={{ minWidth: 170 }}>
            Received <strong data-testid="live-received">{formatCount(view.received)}</strong>
          </span>
          {paused && (
            <span className="small warn" data-testid="live-paused-note">
              Paused: {formatCount(view.sincePause)} new records buffered
            </span>
          )}
        </div>
        <div className="notice" data-testid="live-sampling-note">
          Shows the last {formatCount(LIVE_BUFFER_CAP)} records (older ones are dropped
          {view.dropped ? `: ${formatCount(view.dropped)} so far` : ""}); the table is redrawn every {LIVE_FLUSH_MS} ms in batches. The
          server sends up to 500 records per frame and, when this page falls more than 10,000 records behind, skips to the newest
          {view.skipped ? <strong data-testid="live-skipped"> — skipped {formatCount(view.skipped)} records so far</strong> : null}. Filters
          run on the server: only matching records are sent.
        </div>
        {error && !filterError && (
          <div role="alert" className="alert" data-testid="live-error">
            {error.message}
          </div>
        )}
      </div>
      <VirtualTable
        testId="live-table"
        rows={shown.rows}
        rowCount={shown.count}
        columns={COLUMNS}
        height={480}
        rowKey={(r) => `${r.partition}:${r.offset}`}
        follow={follow && !paused}
        onFollowChange={setFollow}
        onOpen={(r) => openRecord.open(r)}
        empty={
          status !== "open"
            ? "Connecting…"
            : filterError
              ? "The filter was refused: see the message under it."
              : filtered
                ? "No matching records yet…"
                : "Waiting for new records…"
        }
      />
      {at && <LinkedRecordDrawer topic={topic.name} at={at} loaded={loaded} onClose={openRecord.close} />}
    </div>
  );
}
