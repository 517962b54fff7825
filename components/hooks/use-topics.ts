"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { TCreateTopicRequest, TTopic, TTopicList } from "@/server/schemas/topic";
import { api, enc } from "./api";

export function useTopics() {
  return useQuery({
    queryKey: ["topics"],
    queryFn: ({ signal }) => api<TTopicList>("GET", "/api/v1/topics", undefined, signal).then((r) => r.topics),
    refetchInterval: 3000,
  });
}

export function useCreateTopic() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (req: { name: string; partitions: number; configs?: Record<string, string | number> }) =>
      api<TTopic>("POST", "/api/v1/topics", req satisfies Partial<TCreateTopicRequest>),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["topics"] }),
  });
}

export function useDeleteTopic() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => api<void>("DELETE", `/api/v1/topics/${enc(name)}`),
    onSuccess: (_d, name) => {
      qc.removeQueries({ queryKey: ["topic", name] });
      return qc.invalidateQueries({ queryKey: ["topics"] });
    },
  });
}
