"use client";
/**
 * The editor's conversations with the pipelines API: the stored pipeline (polled, for its state
 * and for a newer draft saved elsewhere), the draft autosaved after each pause in editing and
 * then validated (the problems go to the store, pinned to nodes and fields), preview, deploy
 * (with the state-reset confirmation), pause, resume, stop.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import type { z } from "zod";
import type { PipelineProblem, TPreviewRequest, ZPipelineDetail, ZValidateResponse } from "@/server/schemas/pipeline";
import { api, ApiRequestError, enc } from "../hooks/api";
import { definitionOf, docFrom, type EditorStore, type TPreview } from "./editor-store";

export type TPipelineDetail = z.infer<typeof ZPipelineDetail>;

const AUTOSAVE_MS = 600;

export function usePipelineDetail(name: string | null) {
  return useQuery({
    queryKey: ["pipeline", name],
    queryFn: ({ signal }) => api<TPipelineDetail>("GET", `/api/v1/pipelines/${enc(name!)}`, undefined, signal),
    enabled: name !== null,
    refetchInterval: 3000,
  });
}

/** JSON with object keys sorted: equal for equal content whatever the key order (the database reorders them). */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === "object" && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );
}

/** Problems carried by a refused deploy or preview (INVALID_PIPELINE), if any. */
export function problemsOfError(e: unknown): PipelineProblem[] | null {
  if (e instanceof ApiRequestError && Array.isArray(e.details?.problems)) return e.details.problems as PipelineProblem[];
  return null;
}

export type SaveStatus = "saved" | "dirty" | "saving" | "error";

/**
 * Loads the stored draft into the store once, then saves the document after each pause in
 * editing (PUT) and validates what was saved. `newer` is the stored draft when it changed on the
 * server since this page last loaded or saved it (another tab, another user).
 */
export function useDraftSync(name: string, store: EditorStore, detail: TPipelineDetail | undefined) {
  const qc = useQueryClient();
  const saved = useRef<{ revision: number; json: string; updatedAt: string } | null>(null);
  const [status, setStatus] = useState<SaveStatus>("saved");
  const [error, setError] = useState<unknown>(null);
  const [validating, setValidating] = useState(false);
  const inFlight = useRef<Promise<void> | null>(null);

  const validate = useCallback(async () => {
    setValidating(true);
    try {
      const r = await api<z.infer<typeof ZValidateResponse>>("POST", `/api/v1/pipelines/${enc(name)}/validate`);
      store.dispatch({ type: "problems", problems: r.problems });
      store.dispatch({ type: "types", types: r.types });
      return r;
    } finally {
      setValidating(false);
    }
  }, [name, store]);

  const save = useCallback(async (): Promise<void> => {
    while (inFlight.current) await inFlight.current;
    const s = store.getState();
    if (saved.current && saved.current.revision === s.revision) return;
    const body = definitionOf(s.doc);
    setStatus("saving");
    const run = (async () => {
      try {
        const d = await api<TPipelineDetail>("PUT", `/api/v1/pipelines/${enc(name)}`, body);
        saved.current = { revision: s.revision, json: canonicalJson(d.draft), updatedAt: d.updatedAt };
        qc.setQueryData(["pipeline", name], d);
        setError(null);
        setStatus(store.getState().revision === s.revision ? "saved" : "dirty");
        await validate();
      } catch (e) {
        setError(e);
        setStatus("error");
      }
    })();
    inFlight.current = run;
    try {
      await run;
    } finally {
      inFlight.current = null;
    }
  }, [name, qc, store, validate]);

  // the stored draft, once
  const loaded = useRef(false);
  useEffect(() => {
    if (!detail || loaded.current) return;
    loaded.current = true;
    store.dispatch({ type: "load", doc: docFrom(detail.draft, name) });
    saved.current = { revision: store.getState().revision, json: canonicalJson(detail.draft), updatedAt: detail.updatedAt };
    void validate().catch(() => undefined);
  }, [detail, name, store, validate]);

  // after each pause in editing (watched outside React: a drag changes the document every frame)
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let seen = store.getState().revision;
    const unsubscribe = store.subscribe(() => {
      const r = store.getState().revision;
      if (r === seen) return;
      seen = r;
      if (!saved.current || saved.current.revision === r) return;
      setStatus("dirty");
      clearTimeout(timer);
      timer = setTimeout(() => void save(), AUTOSAVE_MS);
    });
    return () => {
      unsubscribe();
      // leaving the page: what was waiting for the pause is saved now
      if (saved.current && saved.current.revision !== store.getState().revision) void save();
      clearTimeout(timer);
    };
  }, [save, store]);

  const newer =
    detail &&
    saved.current &&
    status !== "saving" &&
    detail.updatedAt > saved.current.updatedAt &&
    canonicalJson(detail.draft) !== saved.current.json
      ? detail
      : null;

  /** Takes the newer stored draft (one undo step: the own version stays reachable). */
  const takeNewer = useCallback(() => {
    if (!newer) return;
    store.dispatch({ type: "replaceGraph", doc: docFrom(newer.draft, name) });
    saved.current = { revision: store.getState().revision, json: canonicalJson(newer.draft), updatedAt: newer.updatedAt };
    setStatus("saved");
    void validate().catch(() => undefined);
  }, [name, newer, store, validate]);

  /** Keeps this version: it overwrites the stored one now. */
  const keepMine = useCallback(() => {
    if (!newer) return;
    saved.current = { revision: -1, json: canonicalJson(newer.draft), updatedAt: newer.updatedAt };
    void save();
  }, [newer, save]);

  return { status, error, validating, save, validate, newer, takeNewer, keepMine };
}

export function usePreview(name: string, store: EditorStore) {
  return useMutation({
    /** `sample`: the last `limit` records per partition, or those stamped `from`–`to` */
    mutationFn: (sample: Pick<TPreviewRequest, "limit" | "from" | "to">) =>
      api<TPreview>("POST", `/api/v1/pipelines/${enc(name)}/preview`, { ...sample, definition: definitionOf(store.getState().doc) }),
    onSuccess: (p) => {
      store.dispatch({ type: "preview", preview: p });
      if (p.problems.length) store.dispatch({ type: "problems", problems: p.problems });
    },
    onError: (e) => {
      const problems = problemsOfError(e);
      if (problems) store.dispatch({ type: "problems", problems });
    },
  });
}

export function useLifecycle(name: string, store: EditorStore) {
  const qc = useQueryClient();
  const done = (d: TPipelineDetail) => {
    qc.setQueryData(["pipeline", name], d);
    void qc.invalidateQueries({ queryKey: ["pipelines"] });
  };
  const deploy = useMutation({
    mutationFn: (resetState: boolean) =>
      api<TPipelineDetail>("POST", `/api/v1/pipelines/${enc(name)}/deploy`, resetState ? { resetState: true } : {}),
    onSuccess: (d) => {
      done(d);
      store.dispatch({ type: "problems", problems: [] });
    },
    onError: (e) => {
      const problems = problemsOfError(e);
      if (problems) store.dispatch({ type: "problems", problems });
    },
  });
  const change = useMutation({
    mutationFn: (to: "pause" | "resume" | "stop") => api<TPipelineDetail>("POST", `/api/v1/pipelines/${enc(name)}/${to}`),
    onSuccess: done,
  });
  return { deploy, change };
}

/** Whether a deploy was refused until the state of changed stateful nodes is reset, and which. */
export function resetNeeded(e: unknown): string[] | null {
  if (e instanceof ApiRequestError && e.code === "PIPELINE_STATE_RESET_REQUIRED")
    return Array.isArray(e.details?.nodes) ? (e.details.nodes as string[]) : [];
  return null;
}
