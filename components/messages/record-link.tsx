"use client";
import { useCallback, useMemo } from "react";
import { useRecordAt, type RecordAt } from "../hooks/use-record";
import { useUrlState } from "../hooks/use-url-state";
import { DrawerShell, MessageDrawer, type DrawerRecord } from "./message-drawer";

/** The query parameters naming the open record (the topic is the page's). */
export const RECORD_PARTITION_PARAM = "recordPartition";
export const RECORD_OFFSET_PARAM = "recordOffset";

const wholeNumber = (s: string) => (/^\d{1,16}$/.test(s) && Number.isSafeInteger(Number(s)) ? Number(s) : null);

/**
 * The record open in a page's drawer, kept in the URL (partition and offset beside the topic
 * of the path), so a link opens the same record: `open` pushes a history entry (Back closes it).
 */
export function useOpenRecord() {
  const { get, set } = useUrlState();
  const partition = wholeNumber(get(RECORD_PARTITION_PARAM));
  const offset = wholeNumber(get(RECORD_OFFSET_PARAM));
  const at = useMemo<RecordAt | null>(() => (partition !== null && offset !== null ? { partition, offset } : null), [partition, offset]);
  const open = useCallback((r: RecordAt) => set({ [RECORD_PARTITION_PARAM]: r.partition, [RECORD_OFFSET_PARAM]: r.offset }, "push"), [set]);
  const close = useCallback(() => set({ [RECORD_PARTITION_PARAM]: null, [RECORD_OFFSET_PARAM]: null }, "push"), [set]);
  return { at, open, close };
}

/**
 * The drawer of the record named in the URL: the page's loaded copy when it has one (`loaded`),
 * else read from the server — a link opened in a new tab, or a record the live tail has dropped.
 */
export function LinkedRecordDrawer({
  topic,
  at,
  loaded,
  onClose,
}: {
  topic: string;
  at: RecordAt;
  loaded: DrawerRecord | undefined;
  onClose: () => void;
}) {
  const remote = useRecordAt(topic, loaded ? null : at);
  const record = loaded ?? remote.data;
  // a new record starts with its own view (JSON/text/hex) and copy state
  if (record) return <MessageDrawer key={`${record.partition}:${record.offset}`} record={record} onClose={onClose} />;
  return (
    <DrawerShell title={`Partition ${at.partition} · offset ${at.offset}`} label={`message at offset ${at.offset}`} onClose={onClose}>
      {remote.error ? (
        <div role="alert" className="alert" data-testid="drawer-error" style={{ marginTop: 12 }}>
          {remote.error.message}
        </div>
      ) : (
        <p className="muted" data-testid="drawer-loading">
          Loading the record…
        </p>
      )}
    </DrawerShell>
  );
}

/** The loaded record at `at` among the first `count` of `rows`, if any (rows are in offset order per partition). */
export function findLoaded<T extends DrawerRecord>(rows: readonly T[], count: number, at: RecordAt | null): T | undefined {
  if (!at) return undefined;
  for (let i = 0; i < count; i++) {
    const r = rows[i];
    if (r.offset === at.offset && r.partition === at.partition) return r;
  }
  return undefined;
}
