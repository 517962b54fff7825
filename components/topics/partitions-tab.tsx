"use client";
import Link from "next/link";
import { useState } from "react";
import type { TTopic } from "@/server/schemas/topic";
import { useAddPartitions } from "../hooks/use-topic";
import { formatBytes, formatCount } from "../ui/format";
import { ErrorBox } from "../ui/status";

export function PartitionsTab({ topic }: { topic: TTopic }) {
  const add = useAddPartitions(topic.name);
  const [count, setCount] = useState(String(topic.partitions.length + 1));
  const bad = !/^\d+$/.test(count.trim());
  return (
    <div className="stack">
      <table data-testid="partitions-table">
        <thead>
          <tr>
            <th>Partition</th>
            <th className="num">Log start offset</th>
            <th className="num">High watermark</th>
            <th className="num">Last stable offset</th>
            <th title="open transactions writing to this partition (the oldest holds the last stable offset back)">Open txns</th>
            <th className="num">Records</th>
            <th className="num">Size</th>
          </tr>
        </thead>
        <tbody>
          {topic.partitions.map((p) => (
            <tr key={p.partition} data-testid={`partition-row-${p.partition}`}>
              <td>{p.partition}</td>
              <td className="num" data-testid={`partition-${p.partition}-log-start`}>
                {formatCount(p.logStartOffset)}
              </td>
              <td className="num" data-testid={`partition-${p.partition}-hwm`}>
                {formatCount(p.highWatermark)}
              </td>
              <td className="num" data-testid={`partition-${p.partition}-lso`}>
                {formatCount(p.lastStableOffset)}
              </td>
              <td data-testid={`partition-${p.partition}-open-txns`} data-count={p.openTransactions.length}>
                {p.openTransactions.length === 0 ? (
                  <span className="muted">0</span>
                ) : (
                  <Link
                    href={`/transactions?open=1`}
                    className="warn"
                    title={p.openTransactions.map((t) => `producer ${t.producerId}: offsets ${t.firstOffset}–${t.lastOffset}`).join("\n")}
                  >
                    {p.openTransactions.length} (from offset {formatCount(Math.min(...p.openTransactions.map((t) => t.firstOffset)))})
                  </Link>
                )}
              </td>
              <td className="num" data-testid={`partition-${p.partition}-records`}>
                {formatCount(p.recordCount)}
              </td>
              <td className="num">{formatBytes(p.sizeBytes)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        className="panel stack"
        style={{ maxWidth: 520 }}
        onSubmit={(e) => {
          e.preventDefault();
          if (!bad) add.mutate(Number(count), { onSuccess: (t) => setCount(String(t.partitions.length + 1)) });
        }}
      >
        <h2 style={{ margin: 0 }}>Add partitions</h2>
        <p className="small muted" style={{ margin: 0 }}>
          Partitions can only be added. Keyed records may map to other partitions afterwards.
        </p>
        <div className="row">
          <label className="field">
            New total partition count
            <input
              data-testid="add-partitions-count"
              inputMode="numeric"
              value={count}
              onChange={(e) => setCount(e.target.value)}
              aria-invalid={bad ? true : undefined}
            />
          </label>
          <button
            type="submit"
            className="primary"
            style={{ alignSelf: "flex-end" }}
            disabled={bad || add.isPending}
            data-testid="add-partitions-submit"
          >
            Add partitions
          </button>
        </div>
        <div className="field-error">{bad ? "enter a whole number" : null}</div>
        <ErrorBox error={add.error} testId="add-partitions-error" />
      </form>
    </div>
  );
}
