"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { TGroup, TResetOffsetsRequest, TResetOffsetsResponse } from "@/server/schemas/group";
import { api, enc } from "./api";

export function useGroup(groupId: string) {
  return useQuery({
    queryKey: ["group", groupId],
    queryFn: ({ signal }) => api<TGroup>("GET", `/api/v1/groups/${enc(groupId)}`, undefined, signal),
    refetchInterval: 2000,
    retry: (n, e) => (e as { status?: number }).status !== 404 && n < 2,
  });
}

export function useResetGroupOffsets(groupId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (req: TResetOffsetsRequest) => api<TResetOffsetsResponse>("POST", `/api/v1/groups/${enc(groupId)}/offsets/reset`, req),
    onSuccess: (r) => {
      if (!r.dryRun) return qc.invalidateQueries({ queryKey: ["group", groupId] });
    },
  });
}

export function useDeleteGroup() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (groupId: string) => api<void>("DELETE", `/api/v1/groups/${enc(groupId)}`),
    onSuccess: (_d, groupId) => {
      qc.removeQueries({ queryKey: ["group", groupId] });
      return qc.invalidateQueries({ queryKey: ["groups"] });
    },
  });
}
