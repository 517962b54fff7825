import { findTopics } from "@/server/api/find-topics";
import { toErrorResponse } from "@/server/api/error-status";
import type { TTopic } from "@/server/schemas/topic";

export const dynamic = "force-dynamic";

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = -1;
  do {
    v /= 1024;
    u++;
  } while (v >= 1024 && u < units.length - 1);
  return `${v.toFixed(1)} ${units[u]}`;
}

export default async function HomePage() {
  let topics: TTopic[] = [];
  let error: string | null = null;
  try {
    topics = (await findTopics()).topics;
  } catch (e) {
    error = toErrorResponse(e).body.error.message;
  }
  return (
    <section>
      <h1>Topics</h1>
      {error && (
        <p role="alert" data-testid="topics-error">
          {error}
        </p>
      )}
      {!error && topics.length === 0 && (
        <p className="muted" data-testid="topics-empty">
          No topics yet. Create one with <code>POST /api/v1/topics</code>.
        </p>
      )}
      {topics.length > 0 && (
        <table data-testid="topics-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Partitions</th>
              <th>Records</th>
              <th>Size</th>
              <th>Cleanup</th>
              <th>Retention (ms)</th>
            </tr>
          </thead>
          <tbody>
            {topics.map((t) => (
              <tr key={t.id} data-testid={`topic-row-${t.name}`}>
                <td>{t.name}</td>
                <td>{t.partitions.length}</td>
                <td>{t.recordCount.toLocaleString("en-US")}</td>
                <td>{bytes(t.sizeBytes)}</td>
                <td>{t.configs["cleanup.policy"]}</td>
                <td>{t.configs["retention.ms"]}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
