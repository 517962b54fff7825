"use client";
import Link from "next/link";
import { useGroups } from "../hooks/use-groups";
import { useUrlState } from "../hooks/use-url-state";
import { formatCount } from "../ui/format";
import { ErrorBox, Loading } from "../ui/status";

export function GroupsList() {
  const { get, set } = useUrlState();
  const groups = useGroups();
  const q = get("q").toLowerCase();
  const rows = (groups.data ?? []).filter((g) => g.groupId.toLowerCase().includes(q)).sort((a, b) => a.groupId.localeCompare(b.groupId));
  return (
    <section data-testid="groups-page">
      <div className="spread">
        <h1>Consumer groups</h1>
        <input
          type="search"
          aria-label="search groups"
          placeholder="Search groups"
          data-testid="groups-search"
          value={get("q")}
          onChange={(e) => set({ q: e.target.value })}
        />
      </div>
      <ErrorBox error={groups.error} testId="groups-error" />
      {groups.isPending ? (
        <Loading testId="groups-loading" />
      ) : (
        <table data-testid="groups-table">
          <thead>
            <tr>
              <th>Group</th>
              <th>State</th>
              <th className="num">Members</th>
              <th>Assignor</th>
              <th className="num">Total lag</th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={5} className="muted" data-testid="groups-empty">
                  {q ? "No group matches." : "No consumer groups yet. They appear when a consumer joins one."}
                </td>
              </tr>
            )}
            {rows.map((g) => (
              <tr key={g.groupId} data-testid={`group-row-${g.groupId}`}>
                <td>
                  <Link href={`/groups/${encodeURIComponent(g.groupId)}`} data-testid={`group-link-${g.groupId}`}>
                    {g.groupId}
                  </Link>
                </td>
                <td>
                  <span className={`badge ${g.state}`} data-testid={`group-state-${g.groupId}`}>
                    {g.state}
                  </span>
                </td>
                <td className="num" data-testid={`group-members-${g.groupId}`}>
                  {g.members}
                </td>
                <td>{g.assignor ?? "—"}</td>
                <td className="num" data-testid={`group-lag-${g.groupId}`}>
                  {formatCount(g.totalLag)}
                  {g.uncommittedPartitions > 0 && (
                    <span
                      className="small muted"
                      data-testid={`group-uncommitted-${g.groupId}`}
                      title="partitions without a committed offset: their lag is counted from the log start (or 0 when their consumer resets to latest)"
                    >
                      {" "}
                      ({g.uncommittedPartitions} uncommitted)
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
