"use client";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { TRecord } from "@/server/schemas/record";
import type { TTopic } from "@/server/schemas/topic";
import { useRouter } from "next/navigation";
import { useLiveSocket } from "../hooks/use-live-socket";
import { useTopics } from "../hooks/use-topics";
import { useUrlState } from "../hooks/use-url-state";
import { formatCount, formatRate, formatTime } from "../ui/format";
import { VirtualTable, type Column } from "../ui/virtual-table";

/** Records kept in the page; older ones are dropped. */
export const LIVE_BUFFER_CAP = 5_000;
/** The table is redrawn at most this often, however fast records arrive. */
export const LIVE_FLUSH_MS = 250;

const preview = (s: string | null, enc: string) =>
  s === null ? "null" : enc === "base64" ? `(base64) ${s.slice(0, 60)}` : s.length > 160 ? s.slice(0, 160) + "…" : s;

const COLUMNS: Column<TRecord>[] = [
  { key: "partition", header: "Partition", width: 76, align: "right", render: (r) => r.partition },
  { key: "offset", header: "Offset", width: 96, align: "right", render: (r) => r.offset },
  { key: "timestamp", header: "Timestamp", width: 200, render: (r) => formatTime(r.timestamp) },
  { key: "key", header: "Key", width: 160, render: (r) => <span className="mono">{preview(r.key, r.keyEncoding)}</span> },
  { key: "value", header: "Value", width: "auto", render: (r) => <span className="mono">{preview(r.value, r.valueEncoding)}</span> },
];

function matches(r: TRecord, needle: string): boolean {
  if (!needle) return true;
  return (r.key ?? "").toLowerCase().includes(needle) || (r.value ?? "").toLowerCase().includes(needle);
}

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
  const filter = get("filter");
  const needle = filter.toLowerCase();
  const [paused, setPaused] = useState(false);
  const [follow, setFollow] = useState(true);
  const buf = useRef<TRecord[]>([]);
  const [shown, setShown] = useState<{ rows: TRecord[]; count: number }>({ rows: [], count: 0 });
  const stats = useRef({ received: 0, matched: 0, dropped: 0, skipped: 0, sincePause: 0, perSecond: [] as { t: number; n: number }[] });
  const [view, setView] = useState({ received: 0, matched: 0, dropped: 0, skipped: 0, sincePause: 0, rate: 0 });
  const pausedRef = useRef(paused);
  pausedRef.current = paused;

  const onRecords = useCallback(
    (records: TRecord[]) => {
      const s = stats.current;
      s.received += records.length;
      const sec = Math.floor(Date.now() / 1000);
      const last = s.perSecond[s.perSecond.length - 1];
      if (last && last.t === sec) last.n += records.length;
      else s.perSecond.push({ t: sec, n: records.length });
      const b = buf.current;
      for (const r of records) {
        if (!matches(r, needle)) continue;
        s.matched++;
        if (pausedRef.current) s.sincePause++;
        b.push(r);
      }
      // trim in chunks: one splice per ~1,000 records instead of one shift per record
      if (b.length > LIVE_BUFFER_CAP + 1000) {
        const drop = b.length - LIVE_BUFFER_CAP;
        b.splice(0, drop);
        s.dropped += drop;
      }
    },
    [needle],
  );
  const onLagging = useCallback((skipped: number) => {
    stats.current.skipped += skipped;
  }, []);

  const { status, error } = useLiveSocket({ topic: topic.name, partitions }, { onRecords, onLagging });

  // redraw on a timer, not per frame of records: the page stays responsive at any rate
  useEffect(() => {
    const timer = setInterval(() => {
      const s = stats.current;
      const now = Math.floor(Date.now() / 1000);
      s.perSecond = s.perSecond.filter((p) => p.t >= now - 3);
      const complete = s.perSecond.filter((p) => p.t < now && p.t >= now - 2);
      const rate = complete.reduce((a, p) => a + p.n, 0) / 2;
      setView({ received: s.received, matched: s.matched, dropped: s.dropped, skipped: s.skipped, sincePause: s.sincePause, rate });
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
    stats.current = { received: 0, matched: 0, dropped: 0, skipped: 0, sincePause: 0, perSecond: [] };
    setShown({ rows: [], count: 0 });
  };
  // a new topic/partition/filter choice starts a fresh view
  useEffect(clear, [topic.name, partsParam, needle]);

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
          <label className="field" style={{ marginLeft: 16 }}>
            <span className="sr-only">Filter</span>
            <input
              type="search"
              placeholder="Filter: key or value contains"
              data-testid="live-filter"
              value={filter}
              onChange={(e) => set({ filter: e.target.value })}
            />
          </label>
        </div>
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
            {needle ? (
              <>
                {" "}
                · matched <strong data-testid="live-matched">{formatCount(view.matched)}</strong>
              </>
            ) : null}
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
          {view.skipped ? <strong data-testid="live-skipped"> — skipped {formatCount(view.skipped)} records so far</strong> : null}.
          Filtering happens in the page.
        </div>
        {error && (
          <div role="alert" className="alert" data-testid="live-error">
            {error}
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
        empty={status === "open" ? "Waiting for new records…" : "Connecting…"}
      />
    </div>
  );
}
