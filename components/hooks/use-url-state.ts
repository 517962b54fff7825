"use client";
import { useSearchParams } from "next/navigation";
import { useCallback } from "react";

/**
 * Page state kept in the query string, so every view can be linked. Updates go through the
 * History API (Next keeps useSearchParams in sync with it) without a server round trip.
 */
export function useUrlState() {
  const params = useSearchParams();
  const get = useCallback((name: string, fallback = "") => params.get(name) ?? fallback, [params]);
  const set = useCallback((updates: Record<string, string | number | null | undefined>, mode: "replace" | "push" = "replace") => {
    const url = new URL(window.location.href);
    for (const [k, v] of Object.entries(updates)) {
      if (v === null || v === undefined || v === "") url.searchParams.delete(k);
      else url.searchParams.set(k, String(v));
    }
    const next = url.pathname + (url.search ? url.search : "") + url.hash;
    if (mode === "push") window.history.pushState(null, "", next);
    else window.history.replaceState(null, "", next);
  }, []);
  return { params, get, set };
}
