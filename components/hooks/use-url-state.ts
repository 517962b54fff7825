"use client";
import { useSearchParams } from "next/navigation";
import { useCallback, useRef, useState } from "react";

type Updates = Record<string, string | number | null | undefined>;

/**
 * Page state kept in the query string, so every view can be linked. Updates go through the
 * History API (Next keeps useSearchParams in sync with it) without a server round trip.
 *
 * Next brings useSearchParams up to date a render or more after the History call, so a value
 * just set is also kept here and read back at once until the new search params arrive:
 * otherwise a controlled input (a radio, a select) bound to the URL springs back for a moment
 * after each change (React restores the old value first), and a click can appear lost.
 */
export function useUrlState() {
  const params = useSearchParams();
  const [pending, setPending] = useState<{ base: URLSearchParams; values: Record<string, string | null> } | null>(null);
  const current = useRef(params);
  current.current = params;
  const get = useCallback(
    (name: string, fallback = "") => {
      if (pending && pending.base === params && name in pending.values) return pending.values[name] ?? fallback;
      return params.get(name) ?? fallback;
    },
    [params, pending],
  );
  const set = useCallback((updates: Updates, mode: "replace" | "push" = "replace") => {
    const url = new URL(window.location.href);
    const values: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(updates)) {
      if (v === null || v === undefined || v === "") {
        url.searchParams.delete(k);
        values[k] = null;
      } else {
        url.searchParams.set(k, String(v));
        values[k] = String(v);
      }
    }
    const next = url.pathname + (url.search ? url.search : "") + url.hash;
    if (mode === "push") window.history.pushState(null, "", next);
    else window.history.replaceState(null, "", next);
    const base = current.current;
    setPending((p) => ({ base, values: p && p.base === base ? { ...p.values, ...values } : values }));
  }, []);
  return { params, get, set };
}
