"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useDeleteGroup, useGroup } from "../hooks/use-group";
import { LineChart } from "../ui/charts";
import { Dialog } from "../ui/dialog";
import { formatCount, formatTime } from "../ui/format";
import { ErrorBox, Loading } from "../ui/status";
import { ResetOffsetsWizard } from "./reset-offsets-wizard";

/** Why an uncommitted partition's lag counts from where it does (see ZLagBasis). */
const ESTIMATED_LAG: Record<"earliest" | "latest", { label: string; title: string }> = {
  earliest: {
    label: "from log start",
    title: "no committed offset: counted from the log start offset, where a consumer with auto.offset.reset earliest starts",
  },
  latest: {
    label: "reset latest",
    title: "no committed offset: its consumer resets to the high watermark (auto.offset.reset latest), so nothing waits",
  },
};

const tps = (a: { topic: string; partitions: number[] }[]) => a.map((x) => `${x.topic}[${x.partitions.join(",")}]`).join(" ") || "—";

export function GroupPage({ groupId }: { groupId: string }) {
  const router = useRouter();
  const group = useGroup(groupId);
  const del = useDeleteGroup();
  const [confirming, setConfirming] = useState(false);
  const g = group.data;
  const active = (g?.members.length ?? 0) > 0;
  const uncommitted = g?.offsets.filter((o) => o.lagBasis !== "committed").length ?? 0;
  return (
    <section data-testid="group-page" data-group={groupId}>
      <div className="small muted">
        <Link href="/groups">Consumer groups</Link> /
      </div>
      <div className="spread">
        <h1 data-testid="group-name">{groupId}</h1>
        <div className="row">
          {g && (
            <>
              <span className={`badge ${g.state}`} data-testid="group-state">
                {g.state}
              </span>
              <span className="small muted">
                total lag <strong data-testid="group-total-lag">{formatCount(g.totalLag)}</strong>
                {uncommitted > 0 && (
                  <span
                    data-testid="group-uncommitted"
                    title="partitions without a committed offset; their lag is estimated (see the Lag column)"
                  >
                    {" "}
                    (incl. {uncommitted} {uncommitted === 1 ? "partition" : "partitions"} without a committed offset)
                  </span>
                )}{" "}
                · epoch {g.groupEpoch} · assignor {g.assignor ?? "—"}
              </span>
            </>
          )}
          <button
            type="button"
            data-testid="group-delete"
            disabled={!g || active}
            title={active ? "a group with active members cannot be deleted" : undefined}
            onClick={() => setConfirming(true)}
          >
            Delete group
          </button>
        </div>
      </div>
      {active && (
        <p className="small muted" data-testid="group-delete-reason">
          Deleting and resetting are disabled while the group has active members.
        </p>
      )}
      {group.error ? (
        <ErrorBox error={group.error} testId="group-error" />
      ) : !g ? (
        <Loading testId="group-loading" height={400} />
      ) : (
        <div className="stack">
          <h2>Members ({g.members.length})</h2>
          <table data-testid="group-members">
            <thead>
              <tr>
                <th>Member</th>
                <th>Client</th>
                <th>Host</th>
                <th className="num">Epoch</th>
                <th>State</th>
                <th>Assigned partitions</th>
                <th>Last heartbeat</th>
              </tr>
            </thead>
            <tbody>
              {g.members.length === 0 && (
                <tr>
                  <td colSpan={7} className="muted" data-testid="group-members-empty">
                    No active members.
                  </td>
                </tr>
              )}
              {g.members.map((m) => (
                <tr key={m.memberId} data-testid="group-member-row">
                  <td className="mono small">{m.memberId}</td>
                  <td>{m.clientId}</td>
                  <td>{m.host}</td>
                  <td className="num">{m.memberEpoch}</td>
                  <td>{m.state}</td>
                  <td className="mono small" data-testid="group-member-assignment">
                    {tps(m.assignment)}
                  </td>
                  <td className="small">{formatTime(m.lastHeartbeatMs)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Offsets and lag</h2>
          <table data-testid="group-offsets">
            <thead>
              <tr>
                <th>Topic</th>
                <th className="num">Partition</th>
                <th className="num">Committed offset</th>
                <th className="num">Log start</th>
                <th className="num">High watermark</th>
                <th className="num">Lag</th>
                <th>Owner</th>
              </tr>
            </thead>
            <tbody>
              {g.offsets.length === 0 && (
                <tr>
                  <td colSpan={7} className="muted">
                    No partitions yet.
                  </td>
                </tr>
              )}
              {g.offsets.map((o) => (
                <tr key={`${o.topic}:${o.partition}`} data-testid={`group-offset-${o.topic}-${o.partition}`}>
                  <td>
                    <Link
                      href={`/topics/${encodeURIComponent(o.topic)}?tab=messages&partition=${o.partition}&from=offset&offset=${o.committedOffset ?? o.logStartOffset}`}
                    >
                      {o.topic}
                    </Link>
                  </td>
                  <td className="num">{o.partition}</td>
                  <td className="num" data-testid={`group-committed-${o.topic}-${o.partition}`}>
                    {o.committedOffset === null ? <span className="muted">none</span> : formatCount(o.committedOffset)}
                  </td>
                  <td className="num">{formatCount(o.logStartOffset)}</td>
                  <td className="num" data-testid={`group-hwm-${o.topic}-${o.partition}`}>
                    {formatCount(o.highWatermark)}
                  </td>
                  <td className="num" data-testid={`group-lag-${o.topic}-${o.partition}`}>
                    {formatCount(o.lag)}
                    {o.lagBasis !== "committed" && (
                      <span
                        className="small muted"
                        data-testid={`group-lag-basis-${o.topic}-${o.partition}`}
                        title={ESTIMATED_LAG[o.lagBasis].title}
                      >
                        {" "}
                        ({ESTIMATED_LAG[o.lagBasis].label})
                      </span>
                    )}
                  </td>
                  <td className="mono small">{o.owner ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Total lag over time</h2>
          <div className="panel">
            {g.lagHistory.length < 2 ? (
              <p className="muted small" style={{ minHeight: 160 }} data-testid="lag-chart-empty">
                Collecting lag samples…
              </p>
            ) : (
              <LineChart
                testId="lag-chart"
                series={[{ name: "total lag", color: "var(--c2)", points: g.lagHistory.map((p) => p.totalLag) }]}
                format={(n) => formatCount(n)}
                xLabels={[
                  formatTime(g.lagHistory[0].timestamp).slice(11, 19),
                  formatTime(g.lagHistory[g.lagHistory.length - 1].timestamp).slice(11, 19),
                ]}
              />
            )}
          </div>
          <ResetOffsetsWizard group={g} />
        </div>
      )}
      <Dialog open={confirming} onClose={() => setConfirming(false)} title={`Delete group ${groupId}`} testId="delete-group-dialog">
        <p>This deletes the group and all its committed offsets.</p>
        <ErrorBox error={del.error} testId="delete-group-error" />
        <div className="row" style={{ justifyContent: "flex-end" }}>
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
          <button
            type="button"
            className="danger"
            data-testid="delete-group-submit"
            disabled={del.isPending}
            onClick={() => del.mutate(groupId, { onSuccess: () => router.push("/groups") })}
          >
            Delete group
          </button>
        </div>
      </Dialog>
    </section>
  );
}
