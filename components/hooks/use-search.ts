"use client";
import { useCallback, useEffect, useRef, useState } from "react";
import type { TSearchEvent, TSearchRecord, TSearchRequest } from "@/server/schemas/console";
import { enc, errorFrom, errorMessage } from "./api";

export interface SearchProgress {
  status: "idle" | "running" | "done" | "cancelled" | "error";
  scanned: number;
  matched: number;
  toScan: number;
  celErrors: number;
  firstCelError: string | null;
  reason: "end" | "maxScanned" | "maxMatches" | null;
  elapsedMs: number;
  error: string | null;
}

const IDLE: SearchProgress = {
  status: "idle",
  scanned: 0,
  matched: 0,
  toScan: 0,
  celErrors: 0,
  firstCelError: null,
  reason: null,
  elapsedMs: 0,
  error: null,
};

/**
 * A streamed message search (POST /api/v1/topics/{topic}/search, NDJSON). Rows are kept in a
 * ref (100,000 rows must not be copied per frame); `rowCount` changes at most once per
 * animation frame so the table re-renders only what is visible.
 */
export function useSearch(topic: string) {
  const rows = useRef<TSearchRecord[]>([]);
  const [rowCount, setRowCount] = useState(0);
  const [progress, setProgress] = useState<SearchProgress>(IDLE);
  const abortRef = useRef<AbortController | null>(null);
  const pending = useRef<SearchProgress | null>(null);
  const frame = useRef<number | null>(null);

  const flush = useCallback(() => {
    frame.current = null;
    setRowCount(rows.current.length);
    if (pending.current) setProgress(pending.current);
  }, []);
  const schedule = useCallback(
    (p: SearchProgress, now = false) => {
      pending.current = p;
      if (now) {
        if (frame.current !== null) cancelAnimationFrame(frame.current);
        flush();
      } else if (frame.current === null) frame.current = requestAnimationFrame(flush);
    },
    [flush],
  );

  const cancel = useCallback(() => {
    const c = abortRef.current;
    if (!c) return;
    abortRef.current = null;
    c.abort();
    schedule({ ...(pending.current ?? IDLE), status: "cancelled" }, true);
  }, [schedule]);

  const start = useCallback(
    async (req: TSearchRequest) => {
      abortRef.current?.abort();
      const ctrl = new AbortController();
      abortRef.current = ctrl;
      rows.current = [];
      const began = performance.now();
      let p: SearchProgress = { ...IDLE, status: "running" };
      schedule(p, true);
      try {
        const res = await fetch(`/api/v1/topics/${enc(topic)}/search`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(req),
          signal: ctrl.signal,
        });
        if (!res.ok) throw await errorFrom(res);
        const reader = (res.body as ReadableStream<Uint8Array>).getReader();
        const dec = new TextDecoder();
        let buf = "";
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true });
          let nl: number;
          while ((nl = buf.indexOf("\n")) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (!line) continue;
            const ev = JSON.parse(line) as TSearchEvent;
            if (ev.type === "started") p = { ...p, toScan: ev.toScan };
            else if (ev.type === "records") {
              for (const r of ev.records) rows.current.push(r);
              p = { ...p, matched: rows.current.length };
            } else if (ev.type === "progress")
              p = { ...p, scanned: ev.scanned, matched: ev.matched, celErrors: ev.celErrors, firstCelError: ev.firstCelError };
            else if (ev.type === "done")
              p = {
                ...p,
                status: "done",
                scanned: ev.scanned,
                matched: ev.matched,
                celErrors: ev.celErrors,
                firstCelError: ev.firstCelError,
                reason: ev.reason,
                elapsedMs: ev.elapsedMs,
              };
            else if (ev.type === "error") p = { ...p, status: "error", error: ev.error.message };
            p.elapsedMs = ev.type === "done" ? p.elapsedMs : Math.round(performance.now() - began);
            if (abortRef.current === ctrl) schedule(p);
          }
        }
        if (abortRef.current === ctrl) {
          if (p.status === "running") p = { ...p, status: "done" };
          abortRef.current = null;
          schedule(p, true);
        }
      } catch (e) {
        if (ctrl.signal.aborted) return;
        abortRef.current = null;
        schedule({ ...p, status: "error", error: errorMessage(e) }, true);
      }
    },
    [topic, schedule],
  );

  useEffect(() => () => abortRef.current?.abort(), []);

  return { rows, rowCount, progress, start, cancel };
}
