"use client";
import Link from "next/link";
import { useMetrics, METRICS_PUSH_MS } from "../hooks/use-metrics";
import { LineChart, Sparkline } from "../ui/charts";
import { formatBytes, formatCount, formatRate } from "../ui/format";
import { Card, ErrorBox, Loading } from "../ui/status";

export function Overview() {
  const { data: m, status } = useMetrics();
  const error = status === "closed" && !m ? new Error("the live connection to the server is closed; reconnecting…") : null;
  const isPending = !m;
  return (
    <section data-testid="overview-page">
      <div className="spread">
        <h1>Overview</h1>
        <span className="notice" data-testid="overview-update-note">
          Live: pushed over WebSocket every {METRICS_PUSH_MS / 1000} s ({status}); rates are {m?.windowSeconds ?? 3}-second averages
          measured by this server
        </span>
      </div>
      <ErrorBox error={error} testId="overview-error" />
      <div className="grid-cards stat-cards" style={{ margin: "12px 0" }}>
        <Card
          testId="stat-storage"
          label="Storage used"
          value={m ? formatBytes(m.storage.sizeBytes) : "…"}
          sub={m ? `${formatCount(m.storage.recordCount)} records` : " "}
        />
        <Card testId="stat-topics" label="Topics" value={m ? formatCount(m.topics) : "…"} />
        <Card testId="stat-partitions" label="Partitions" value={m ? formatCount(m.partitions) : "…"} />
        <Card testId="stat-groups" label="Consumer groups" value={m ? formatCount(m.groups) : "…"} />
        <Card
          testId="stat-in-rate"
          label="In (records/s)"
          value={m ? formatRate(m.total.in.recordsPerSec) : "…"}
          sub={m ? `${formatBytes(m.total.in.bytesPerSec)}/s` : " "}
        />
        <Card
          testId="stat-out-rate"
          label="Out (records/s)"
          value={m ? formatRate(m.total.out.recordsPerSec) : "…"}
          sub={m ? `${formatBytes(m.total.out.bytesPerSec)}/s` : " "}
        />
      </div>
      {isPending && <Loading height={380} testId="overview-loading" />}
      {m && (
        <>
          <div style={{ display: "grid", gridTemplateColumns: "repeat(auto-fit, minmax(420px, 1fr))", gap: 12 }}>
            <div className="panel">
              <h2 style={{ marginTop: 0 }}>Records per second (all topics)</h2>
              <LineChart
                testId="chart-records"
                format={formatRate}
                xLabels={["-60 s", "now"]}
                series={[
                  { name: "in", color: "var(--c1)", points: m.history.map((p) => p.inRecords) },
                  { name: "out", color: "var(--c2)", points: m.history.map((p) => p.outRecords) },
                ]}
              />
            </div>
            <div className="panel">
              <h2 style={{ marginTop: 0 }}>Bytes per second (all topics)</h2>
              <LineChart
                testId="chart-bytes"
                format={(n) => formatBytes(n)}
                xLabels={["-60 s", "now"]}
                series={[
                  { name: "in", color: "var(--c3)", points: m.history.map((p) => p.inBytes) },
                  { name: "out", color: "var(--c4)", points: m.history.map((p) => p.outBytes) },
                ]}
              />
            </div>
          </div>
          <h2>Throughput per topic</h2>
          <table data-testid="overview-topics">
            <thead>
              <tr>
                <th>Topic</th>
                <th className="num">In records/s</th>
                <th className="num">In bytes/s</th>
                <th className="num">Out records/s</th>
                <th className="num">Out bytes/s</th>
                <th>Last 60 s (in)</th>
              </tr>
            </thead>
            <tbody>
              {m.byTopic.length === 0 && (
                <tr>
                  <td colSpan={6} className="muted">
                    No topics yet. <Link href="/topics?create=1">Create one</Link>.
                  </td>
                </tr>
              )}
              {m.byTopic.map((t) => (
                <tr key={t.topic} data-testid={`overview-topic-${t.topic}`}>
                  <td>
                    <Link href={`/topics/${encodeURIComponent(t.topic)}`}>{t.topic}</Link>
                  </td>
                  <td className="num">{formatRate(t.in.recordsPerSec)}</td>
                  <td className="num">{formatBytes(t.in.bytesPerSec)}</td>
                  <td className="num">{formatRate(t.out.recordsPerSec)}</td>
                  <td className="num">{formatBytes(t.out.bytesPerSec)}</td>
                  <td>
                    <Sparkline points={t.history.map((p) => p.inRecords)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
