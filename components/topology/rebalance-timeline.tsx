"use client";
/**
 * A consumer group's rebalance timeline: one column per group epoch, one row per partition,
 * each cell in the color of the member that owned the partition at the end of the epoch;
 * hatched where the partition had no owner (the hatch as wide as its share of the epoch). A
 * slider (or a click on a column) scrubs through the epochs; below, who owned what at the chosen
 * epoch, how long partitions went without an owner, and the events that led there.
 */
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useMemo, useState } from "react";
import type { TGroupTimeline, TTimelineEpoch, TTimelineEvent } from "@/server/schemas/topology";
import { api, enc } from "../hooks/api";
import { formatCount } from "../ui/format";
import { ErrorBox, Loading } from "../ui/status";

export function useGroupTimeline(group: string) {
  return useQuery({
    queryKey: ["group-timeline", group],
    queryFn: ({ signal }) => api<TGroupTimeline>("GET", `/api/v1/groups/${enc(group)}/timeline`, undefined, signal),
    refetchInterval: 2000,
  });
}

const MEMBER_COLORS = 8;
/** A member's color, the same in every epoch (by client id; a restarted member keeps its client id). */
function colorIndex(clientId: string, order: ReadonlyMap<string, number>): number {
  return (order.get(clientId) ?? 0) % MEMBER_COLORS;
}

export function formatSpan(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

const clock = (ts: number) => new Date(ts).toLocaleTimeString("en-GB", { hour12: false });

interface Row {
  topic: string;
  partition: number;
}

/** Every partition the group owned or missed in any epoch, by topic and number. */
function rowsOf(epochs: readonly TTimelineEpoch[]): Row[] {
  const seen = new Map<string, Row>();
  for (const e of epochs) {
    for (const m of e.members)
      for (const o of m.owned) for (const p of o.partitions) seen.set(`${o.topic}\u0000${p}`, { topic: o.topic, partition: p });
    for (const u of e.unowned) seen.set(`${u.topic}\u0000${u.partition}`, { topic: u.topic, partition: u.partition });
  }
  return [...seen.values()].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
}

function ownersOf(e: TTimelineEpoch): Map<string, string> {
  const owner = new Map<string, string>();
  for (const m of e.members) for (const o of m.owned) for (const p of o.partitions) owner.set(`${o.topic}\u0000${p}`, m.clientId);
  return owner;
}

const CELL_H = 14;
const LABEL_W = 74;

function TimelineChart({
  epochs,
  selected,
  onSelect,
  colors,
  now,
}: {
  epochs: readonly TTimelineEpoch[];
  selected: number;
  onSelect(i: number): void;
  colors: ReadonlyMap<string, number>;
  now: number;
}) {
  const rows = useMemo(() => rowsOf(epochs), [epochs]);
  const owners = useMemo(() => epochs.map(ownersOf), [epochs]);
  const colW = Math.max(10, Math.min(48, Math.floor(330 / Math.max(1, epochs.length))));
  const width = LABEL_W + epochs.length * colW + 4;
  const height = 18 + rows.length * CELL_H + 4;
  const multiTopic = new Set(rows.map((r) => r.topic)).size > 1;
  return (
    <div className="topo-timeline-chart" data-testid="timeline-chart">
      <svg width={width} height={height} role="img" aria-label="which member owned each partition at each epoch">
        <defs>
          <pattern id="topo-unowned" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
            <rect width="4" height="4" className="topo-unowned-bg" />
            <line x1="0" y1="0" x2="0" y2="4" className="topo-unowned-line" strokeWidth="2" />
          </pattern>
        </defs>
        {epochs.map((e, i) => {
          const x = LABEL_W + i * colW;
          const span = (e.to ?? now) - e.from;
          const unowned = new Map(e.unowned.map((u) => [`${u.topic}\u0000${u.partition}`, u.ms]));
          return (
            <g
              key={e.groupEpoch}
              className={`topo-tl-col${i === selected ? " selected" : ""}`}
              data-testid={`timeline-epoch-${e.groupEpoch}`}
              data-members={e.members.length}
              onClick={() => onSelect(i)}
            >
              <title>{`epoch ${e.groupEpoch} · ${e.members.length} members · ${formatSpan(span)}`}</title>
              <rect x={x} y={0} width={colW} height={height} className="topo-tl-hit" />
              {(i === 0 || i === epochs.length - 1 || i === selected || epochs.length <= 12) && (
                <text x={x + colW / 2} y={11} textAnchor="middle" className="topo-tl-epoch">
                  {e.groupEpoch}
                </text>
              )}
              {rows.map((r, j) => {
                const key = `${r.topic}\u0000${r.partition}`;
                const owner = owners[i].get(key);
                const y = 18 + j * CELL_H;
                const ms = unowned.get(key) ?? 0;
                // a gap at least 5 px wide, so a short one still shows
                const gapW =
                  owner === undefined ? colW - 1 : ms > 0 ? Math.max(5, Math.min(colW - 2, ((colW - 1) * ms) / Math.max(1, span))) : 0;
                return (
                  <g key={key}>
                    {owner !== undefined && (
                      <rect x={x} y={y} width={colW - 1} height={CELL_H - 2} className={`topo-tl-cell m${colorIndex(owner, colors)}`} />
                    )}
                    {gapW > 0 && <rect x={x} y={y} width={gapW} height={CELL_H - 2} fill="url(#topo-unowned)" className="topo-tl-gap" />}
                  </g>
                );
              })}
            </g>
          );
        })}
        {rows.map((r, j) => (
          <text key={`${r.topic}/${r.partition}`} x={LABEL_W - 6} y={18 + j * CELL_H + 10} textAnchor="end" className="topo-tl-label">
            {multiTopic ? `${r.topic.length > 8 ? `${r.topic.slice(0, 7)}…` : r.topic} ` : ""}p{r.partition}
          </text>
        ))}
      </svg>
    </div>
  );
}

/** Partitions without an owner, by topic: "orders: p4 1.1 s, p5 1.1 s". */
function unownedText(list: TTimelineEpoch["unowned"]): string {
  const byTopic = new Map<string, string[]>();
  for (const u of [...list].sort((a, b) => a.partition - b.partition))
    byTopic.set(u.topic, [...(byTopic.get(u.topic) ?? []), `p${u.partition} ${formatSpan(u.ms)}`]);
  return [...byTopic].map(([t, ps]) => (byTopic.size > 1 ? `${t}: ${ps.join(", ")}` : ps.join(", "))).join(" · ");
}

function EpochDetails({
  epoch,
  events,
  colors,
  now,
}: {
  epoch: TTimelineEpoch;
  events: readonly TTimelineEvent[];
  colors: ReadonlyMap<string, number>;
  now: number;
}) {
  const count = (m: TTimelineEpoch["members"][number]) => m.owned.reduce((s, o) => s + o.partitions.length, 0);
  return (
    <div className="stack small" data-testid="timeline-details" data-epoch={epoch.groupEpoch}>
      <div>
        <strong>Epoch {epoch.groupEpoch}</strong>{" "}
        <span className="muted">
          from {clock(epoch.from)} ·{" "}
          {epoch.to === null ? `current, ${formatSpan(now - epoch.from)} so far` : `lasted ${formatSpan(epoch.to - epoch.from)}`}
        </span>
      </div>
      {epoch.members.length === 0 ? (
        <div className="muted">no members</div>
      ) : (
        <ul className="topo-tl-members">
          {epoch.members.map((m) => (
            <li key={m.memberId} data-testid="timeline-member" data-client={m.clientId} data-owned={count(m)}>
              <i className={`topo-tl-swatch m${colorIndex(m.clientId, colors)}`} aria-hidden />
              <strong>{m.clientId}</strong> <span className="muted">{count(m)} partitions</span>{" "}
              <span className="mono muted">{m.owned.map((o) => `${o.topic} ${o.partitions.join(" ")}`).join(" · ")}</span>
            </li>
          ))}
        </ul>
      )}
      {epoch.unowned.length > 0 && (
        <div data-testid="timeline-unowned">
          <span className="warn">Without an owner:</span> {unownedText(epoch.unowned)}
        </div>
      )}
      {events.length > 0 && (
        <details>
          <summary className="muted">
            {events.length} {events.length === 1 ? "event" : "events"} in this epoch
          </summary>
          <ul className="topo-tl-events">
            {events.map((e) => (
              <li key={e.seq}>
                <span className="mono muted">{clock(e.at)}</span> {e.type}
                {e.clientId ? ` · ${e.clientId}` : ""}
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

export function RebalanceTimeline({ group, onClose }: { group: string; onClose(): void }) {
  const q = useGroupTimeline(group);
  const t = q.data;
  const epochs = useMemo(() => t?.epochs ?? [], [t]);
  // follow the newest epoch until the user scrubs back
  const [picked, setPicked] = useState<number | null>(null);
  useEffect(() => setPicked(null), [group]);
  const selected = picked === null ? epochs.length - 1 : Math.min(picked, epochs.length - 1);
  const colors = useMemo(() => {
    const order = new Map<string, number>();
    for (const e of epochs) for (const m of e.members) if (!order.has(m.clientId)) order.set(m.clientId, order.size);
    return order;
  }, [epochs]);
  const now = t ? Math.max(Date.now(), ...epochs.map((e) => e.from)) : Date.now();
  const epoch = epochs[selected];
  const events = useMemo(() => (t && epoch ? t.events.filter((e) => e.groupEpoch === epoch.groupEpoch) : []), [t, epoch]);
  const longest = t?.gaps.reduce((m, g) => Math.max(m, g.ms), 0) ?? 0;
  return (
    <aside className="topo-side" aria-label={`rebalance timeline of ${group}`} data-testid="timeline-panel" data-group={group}>
      <div className="spread">
        <h2 style={{ margin: 0 }}>Rebalance timeline</h2>
        <button type="button" className="topo-mini" aria-label="close the timeline" data-testid="timeline-close" onClick={onClose}>
          ✕
        </button>
      </div>
      <div className="small">
        <Link href={`/groups/${enc(group)}`}>{group}</Link>
        {t && (
          <span className="muted" data-testid="timeline-summary">
            {" "}
            · {epochs.length} epochs · {t.gaps.length} {t.gaps.length === 1 ? "gap" : "gaps"} without an owner
            {t.gaps.length > 0 && `, longest ${formatSpan(longest)}`}
          </span>
        )}
      </div>
      {q.error ? (
        <ErrorBox error={q.error} testId="timeline-error" />
      ) : !t ? (
        <Loading height={200} testId="timeline-loading" />
      ) : epochs.length === 0 ? (
        <p className="muted small" data-testid="timeline-empty">
          Nothing recorded yet: the timeline starts with the group&apos;s next join, leave or assignment change.
        </p>
      ) : (
        <>
          {t.truncated && (
            <p className="small muted" data-testid="timeline-truncated">
              Only the last {formatCount(t.limit)} events are kept: what came before the first epoch shown is not known.
            </p>
          )}
          <TimelineChart epochs={epochs} selected={selected} onSelect={setPicked} colors={colors} now={now} />
          <label className="field">
            Epoch {epoch.groupEpoch} of {epochs[0].groupEpoch}–{epochs[epochs.length - 1].groupEpoch}
            <input
              type="range"
              min={0}
              max={epochs.length - 1}
              value={selected}
              data-testid="timeline-scrub"
              aria-valuetext={`epoch ${epoch.groupEpoch}`}
              onChange={(e) => setPicked(Number(e.target.value))}
            />
          </label>
          <EpochDetails epoch={epoch} events={events} colors={colors} now={now} />
        </>
      )}
    </aside>
  );
}
