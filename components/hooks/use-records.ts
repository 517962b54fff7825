"use client";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { TProduceRecord, TProduceResponse } from "@/server/schemas/record";
import { api, enc } from "./api";

/** Produce (the records resource of a topic). */
export function useProduceRecords(topic: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (records: TProduceRecord[]) => api<TProduceResponse>("POST", `/api/v1/topics/${enc(topic)}/records`, { records }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["topic", topic] }),
  });
}
