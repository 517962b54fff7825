"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { TTopic } from "@/server/schemas/topic";
import { api, enc } from "./api";

export function useTopic(name: string) {
  return useQuery({
    queryKey: ["topic", name],
    queryFn: ({ signal }) => api<TTopic>("GET", `/api/v1/topics/${enc(name)}`, undefined, signal),
    refetchInterval: 3000,
    retry: (n, e) => (e as { status?: number }).status !== 404 && n < 2,
  });
}

export function useUpdateTopicConfigs(name: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (configs: Record<string, string | number | null>) => api<TTopic>("PATCH", `/api/v1/topics/${enc(name)}`, { configs }),
    onSuccess: (t) => qc.setQueryData(["topic", name], t),
  });
}

export function useAddPartitions(name: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (partitions: number) => api<TTopic>("POST", `/api/v1/topics/${enc(name)}/partitions`, { partitions }),
    onSuccess: (t) => qc.setQueryData(["topic", name], t),
  });
}
