"use client";
import Link from "next/link";
import { useMemo, useState } from "react";
import type { TTopic } from "@/server/schemas/topic";
import { useMetrics } from "../hooks/use-metrics";
import { useTopics } from "../hooks/use-topics";
import { useUrlState } from "../hooks/use-url-state";
import { Sparkline } from "../ui/charts";
import { formatBytes, formatCount, formatMs, formatRate } from "../ui/format";
import { ErrorBox, Loading } from "../ui/status";
import { CreateTopicDialog } from "./create-topic-dialog";
import { DeleteTopicDialog } from "./delete-topic-dialog";

type SortKey = "name" | "partitions" | "records" | "size" | "retention";
const SORTS: Record<SortKey, (t: TTopic) => number | string> = {
  name: (t) => t.name,
  partitions: (t) => t.partitions.length,
  records: (t) => t.recordCount,
  size: (t) => t.sizeBytes,
  retention: (t) => (t.configs["retention.ms"] < 0 ? Number.MAX_SAFE_INTEGER : t.configs["retention.ms"]),
};

export function TopicsList() {
  const { get, set } = useUrlState();
  const topics = useTopics();
  const metrics = useMetrics();
  const q = get("q");
  const sort = (get("sort", "name") as SortKey) in SORTS ? (get("sort", "name") as SortKey) : "name";
  const dir = get("dir", "asc") === "desc" ? "desc" : "asc";
  const creating = get("create") === "1";
  const [deleting, setDeleting] = useState<string | null>(null);

  const rows = useMemo(() => {
    const needle = q.toLowerCase();
    const list = (topics.data ?? []).filter((t) => t.name.toLowerCase().includes(needle));
    const key = SORTS[sort];
    list.sort((a, b) => {
      const x = key(a);
      const y = key(b);
      const c = typeof x === "string" ? x.localeCompare(y as string) : x - (y as number);
      return dir === "asc" ? c : -c;
    });
    return list;
  }, [topics.data, q, sort, dir]);
  const rates = new Map((metrics.data?.byTopic ?? []).map((t) => [t.topic, t]));

  const header = (key: SortKey, label: string, num = false) => (
    <th className={num ? "num" : undefined} aria-sort={sort === key ? (dir === "asc" ? "ascending" : "descending") : "none"}>
      <button
        type="button"
        data-testid={`sort-${key}`}
        style={{ border: 0, padding: 0, background: "none", color: "inherit", fontWeight: 600 }}
        onClick={() => set({ sort: key, dir: sort === key && dir === "asc" ? "desc" : "asc" })}
      >
        {label} {sort === key ? (dir === "asc" ? "▲" : "▼") : ""}
      </button>
    </th>
  );

  return (
    <section data-testid="topics-page">
      <div className="spread">
        <h1>Topics</h1>
        <div className="row">
          <input
            type="search"
            aria-label="search topics"
            placeholder="Search topics"
            data-testid="topics-search"
            value={q}
            onChange={(e) => set({ q: e.target.value })}
          />
          <button className="primary" data-testid="create-topic-open" onClick={() => set({ create: "1" }, "push")}>
            Create topic
          </button>
        </div>
      </div>
      <ErrorBox error={topics.error} testId="topics-error" />
      {topics.isPending ? (
        <Loading testId="topics-loading" />
      ) : (
        <table data-testid="topics-table">
          <thead>
            <tr>
              {header("name", "Name")}
              {header("partitions", "Partitions", true)}
              {header("records", "Records", true)}
              {header("size", "Size", true)}
              {header("retention", "Retention", true)}
              <th>Cleanup</th>
              <th>In records/s (60 s)</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={8} className="muted" data-testid="topics-empty">
                  {q ? `No topic matches “${q}”.` : "No topics yet. Create one to start."}
                </td>
              </tr>
            )}
            {rows.map((t) => {
              const r = rates.get(t.name);
              return (
                <tr key={t.id} data-testid={`topic-row-${t.name}`}>
                  <td>
                    <Link href={`/topics/${encodeURIComponent(t.name)}`} data-testid={`topic-link-${t.name}`}>
                      {t.name}
                    </Link>
                  </td>
                  <td className="num">{t.partitions.length}</td>
                  <td className="num" data-testid={`topic-records-${t.name}`}>
                    {formatCount(t.recordCount)}
                  </td>
                  <td className="num">{formatBytes(t.sizeBytes)}</td>
                  <td className="num">{formatMs(t.configs["retention.ms"])}</td>
                  <td>{t.configs["cleanup.policy"]}</td>
                  <td>
                    <span className="row" style={{ flexWrap: "nowrap" }}>
                      <Sparkline points={r?.history.map((p) => p.inRecords) ?? []} testId={`topic-spark-${t.name}`} />
                      <span className="small muted" style={{ minWidth: 40 }}>
                        {r ? formatRate(r.in.recordsPerSec) : "—"}
                      </span>
                    </span>
                  </td>
                  <td>
                    <button type="button" className="small" data-testid={`topic-delete-${t.name}`} onClick={() => setDeleting(t.name)}>
                      Delete
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <CreateTopicDialog open={creating} onClose={() => set({ create: null })} />
      {deleting && <DeleteTopicDialog topic={deleting} open onClose={() => setDeleting(null)} onDeleted={() => setDeleting(null)} />}
    </section>
  );
}
