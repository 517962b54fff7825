"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { z } from "zod";
import type { ZPipelineDetail, ZPipelineList, ZPipelineVersions } from "@/server/schemas/pipeline";
import type { TPipelineDiff } from "@/server/schemas/pipeline-diff";
import { api, enc } from "../hooks/api";

export type TPipelineSummary = z.infer<typeof ZPipelineList>["pipelines"][number];
export type TPipelineDetail = z.infer<typeof ZPipelineDetail>;
export type TPipelineVersion = z.infer<typeof ZPipelineVersions>["versions"][number];

const path = (name: string, rest = "") => `/api/v1/pipelines/${enc(name)}${rest}`;

export function usePipelines() {
  return useQuery({
    queryKey: ["pipelines"],
    queryFn: ({ signal }) => api<z.infer<typeof ZPipelineList>>("GET", "/api/v1/pipelines", undefined, signal).then((r) => r.pipelines),
    refetchInterval: 2000,
  });
}

export function usePipeline(name: string) {
  return useQuery({
    queryKey: ["pipeline", name],
    queryFn: ({ signal }) => api<TPipelineDetail>("GET", path(name), undefined, signal),
    refetchInterval: 3000,
    retry: (n, e) => (e as { status?: number }).status !== 404 && n < 2,
  });
}

/** A new, empty draft. */
export function useCreatePipeline() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => api<TPipelineDetail>("POST", "/api/v1/pipelines", { name, nodes: [], edges: [] }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["pipelines"] }),
  });
}

/** A copy of `from`'s draft under the name `to` (never deployed: state draft). */
export function useDuplicatePipeline() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async ({ from, to }: { from: string; to: string }) => {
      const source = await api<TPipelineDetail>("GET", path(from));
      const draft = typeof source.draft === "object" && source.draft !== null ? source.draft : {};
      return api<TPipelineDetail>("POST", "/api/v1/pipelines", { ...draft, name: to });
    },
    onSuccess: () => qc.invalidateQueries({ queryKey: ["pipelines"] }),
  });
}

export function useDeletePipeline() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => api<void>("DELETE", path(name)),
    onSuccess: (_d, name) => {
      qc.removeQueries({ queryKey: ["pipeline", name] });
      return qc.invalidateQueries({ queryKey: ["pipelines"] });
    },
  });
}

export function usePipelineVersions(name: string) {
  return useQuery({
    queryKey: ["pipeline-versions", name],
    queryFn: ({ signal }) =>
      api<z.infer<typeof ZPipelineVersions>>("GET", path(name, "/versions"), undefined, signal).then((r) => r.versions),
    retry: (n, e) => (e as { status?: number }).status !== 404 && n < 2,
  });
}

export type VersionRef = number | "draft";

export function usePipelineDiff(name: string, from: VersionRef | null, to: VersionRef | null) {
  return useQuery({
    queryKey: ["pipeline-diff", name, from, to],
    queryFn: ({ signal }) => api<TPipelineDiff>("GET", path(name, `/versions/diff?from=${from}&to=${to}`), undefined, signal),
    enabled: from !== null && to !== null,
  });
}

/** Deploys an earlier version as a new one (the draft becomes it too); `resetState` after a 409 PIPELINE_STATE_RESET_REQUIRED. */
export function useRollback(name: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ version, resetState }: { version: number; resetState?: boolean }) =>
      api<TPipelineDetail>("POST", path(name, "/deploy"), { version, ...(resetState ? { resetState } : {}) }),
    onSuccess: (detail) => {
      qc.setQueryData(["pipeline", name], detail);
      return Promise.all([
        qc.invalidateQueries({ queryKey: ["pipeline-versions", name] }),
        qc.invalidateQueries({ queryKey: ["pipelines"] }),
        qc.invalidateQueries({ queryKey: ["pipeline-diff", name] }),
      ]);
    },
  });
}
