"use client";
import { useEffect, useRef, useState, type ReactNode } from "react";
import type { TSearchRecord } from "@/server/schemas/console";
import type { TRecord } from "@/server/schemas/record";
import { formatTime } from "../ui/format";
import { hexDump, prettyJson } from "./export";

type View = "json" | "text" | "hex";

/** A record as the browser (with its transaction state) or the live tail (without) has it. */
export type DrawerRecord = TRecord & { transaction?: TSearchRecord["transaction"] };

/** The drawer's frame: a side panel that takes focus and closes on Escape or ✕. */
export function DrawerShell({
  title,
  label,
  onClose,
  children,
}: {
  title: ReactNode;
  label: string;
  onClose: () => void;
  children: ReactNode;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.focus();
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);
  return (
    <aside className="drawer" role="dialog" aria-modal="false" aria-label={label} data-testid="message-drawer" tabIndex={-1} ref={ref}>
      <div className="spread">
        <h2 style={{ margin: 0 }}>{title}</h2>
        <button type="button" onClick={onClose} data-testid="drawer-close" aria-label="close">
          ✕
        </button>
      </div>
      {children}
    </aside>
  );
}

/**
 * One record in full: value as JSON, text or hex; key, headers, timestamp, offset, transaction
 * state (when known: the live tail does not read it). The page's URL names the record, so
 * "Copy link" hands out a link that opens this drawer.
 */
export function MessageDrawer({ record, onClose }: { record: DrawerRecord; onClose: () => void }) {
  const pretty = record.value !== null && record.valueEncoding === "utf8" ? prettyJson(record.value) : null;
  const [view, setView] = useState<View>(pretty !== null ? "json" : record.valueEncoding === "base64" ? "hex" : "text");
  const [copied, setCopied] = useState<"record" | "link" | null>(null);
  const shown =
    record.value === null
      ? "null (tombstone or no value)"
      : view === "json"
        ? (pretty ?? "not valid JSON")
        : view === "hex"
          ? hexDump(record.value, record.valueEncoding)
          : record.valueEncoding === "base64"
            ? `(binary, base64) ${record.value}`
            : record.value;
  return (
    <DrawerShell
      label={`message at offset ${record.offset}`}
      onClose={onClose}
      title={
        <>
          Partition <span data-testid="drawer-partition">{record.partition}</span> · offset{" "}
          <span data-testid="drawer-offset">{record.offset}</span>
        </>
      }
    >
      <table style={{ margin: "12px 0" }}>
        <tbody>
          <tr>
            <th>Timestamp</th>
            <td data-testid="drawer-timestamp">
              {formatTime(record.timestamp)} ({record.timestampType}, {record.timestamp})
            </td>
          </tr>
          <tr>
            <th>Key</th>
            <td className="mono" data-testid="drawer-key" style={{ whiteSpace: "pre-wrap", wordBreak: "break-all" }}>
              {record.key === null ? (
                <span className="muted">null</span>
              ) : record.keyEncoding === "base64" ? (
                `(base64) ${record.key}`
              ) : (
                record.key
              )}
            </td>
          </tr>
          {record.transaction && (
            <tr>
              <th>Transaction</th>
              <td data-testid="drawer-transaction">
                {record.transaction === "committed"
                  ? "committed (below the last stable offset)"
                  : record.transaction === "aborted"
                    ? "aborted (its transaction was aborted: read_committed readers never see it)"
                    : "uncommitted (in an open transaction: read_committed readers wait for it)"}
              </td>
            </tr>
          )}
          <tr>
            <th>Size</th>
            <td>{record.sizeBytes} bytes (key + value)</td>
          </tr>
        </tbody>
      </table>
      <div className="spread">
        <div className="row" role="radiogroup" aria-label="value view">
          {(["json", "text", "hex"] as const).map((v) => (
            <label key={v} className="row small" style={{ gap: 4 }}>
              <input type="radio" name="value-view" checked={view === v} onChange={() => setView(v)} data-testid={`drawer-view-${v}`} />
              {v.toUpperCase()}
            </label>
          ))}
        </div>
        <div className="row">
          <button
            type="button"
            data-testid="drawer-copy-link"
            title="A link that opens this record"
            onClick={() => {
              void navigator.clipboard?.writeText(window.location.href).then(() => setCopied("link"));
            }}
          >
            {copied === "link" ? "Link copied" : "Copy link"}
          </button>
          <button
            type="button"
            data-testid="drawer-copy"
            onClick={() => {
              void navigator.clipboard?.writeText(JSON.stringify(record, null, 2)).then(() => setCopied("record"));
            }}
          >
            {copied === "record" ? "Copied" : "Copy record"}
          </button>
        </div>
      </div>
      <pre data-testid="drawer-value" style={{ marginTop: 8, maxHeight: "45vh" }}>
        {shown}
      </pre>
      <h2>Headers ({record.headers.length})</h2>
      <table data-testid="drawer-headers">
        <tbody>
          {record.headers.length === 0 && (
            <tr>
              <td className="muted">none</td>
            </tr>
          )}
          {record.headers.map((h, i) => (
            <tr key={i}>
              <td className="mono">{h.key}</td>
              <td className="mono">{h.value === null ? "null" : h.valueEncoding === "base64" ? `(base64) ${h.value}` : h.value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </DrawerShell>
  );
}
