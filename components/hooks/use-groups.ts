"use client";
import { useQuery } from "@tanstack/react-query";
import type { TGroupList } from "@/server/schemas/group";
import { api } from "./api";

export function useGroups() {
  return useQuery({
    queryKey: ["groups"],
    queryFn: ({ signal }) => api<TGroupList>("GET", "/api/v1/groups", undefined, signal).then((r) => r.groups),
    refetchInterval: 2000,
  });
}
