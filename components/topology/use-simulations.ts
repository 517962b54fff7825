"use client";
/**
 * Simulated clients over the REST API (/api/v1/simulations): the list, and creating, pausing,
 * deleting producers and groups, acting on one member, adding members. Each change re-reads the
 * list; the topology shows the change on its next snapshot.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type {
  TCreateSimulatedGroupRequest,
  TCreateSimulatedProducerRequest,
  TMemberAction,
  TSimulatedGroup,
  TSimulatedProducer,
  TSimulationList,
} from "@/server/schemas/topology";
import { api, enc } from "../hooks/api";

const BASE = "/api/v1/simulations";
export const SIMULATIONS_KEY = ["simulations"] as const;

export function useSimulations() {
  return useQuery({
    queryKey: SIMULATIONS_KEY,
    queryFn: ({ signal }) => api<TSimulationList>("GET", BASE, undefined, signal),
    refetchInterval: 2000,
  });
}

function useSimulationMutation<A, R>(fn: (args: A) => Promise<R>) {
  const qc = useQueryClient();
  return useMutation({ mutationFn: fn, onSettled: () => qc.invalidateQueries({ queryKey: SIMULATIONS_KEY }) });
}

export function useCreateSimulatedProducer() {
  return useSimulationMutation((req: TCreateSimulatedProducerRequest) => api<TSimulatedProducer>("POST", `${BASE}/producers`, req));
}

export function useUpdateSimulatedProducer() {
  return useSimulationMutation(({ id, ...req }: { id: string; paused?: boolean; ratePerSec?: number }) =>
    api<TSimulatedProducer>("PATCH", `${BASE}/producers/${enc(id)}`, req),
  );
}

export function useDeleteSimulatedProducer() {
  return useSimulationMutation((id: string) => api<void>("DELETE", `${BASE}/producers/${enc(id)}`));
}

export function useCreateSimulatedGroup() {
  return useSimulationMutation((req: TCreateSimulatedGroupRequest) => api<TSimulatedGroup>("POST", `${BASE}/groups`, req));
}

export function useDeleteSimulatedGroup() {
  return useSimulationMutation((id: string) => api<void>("DELETE", `${BASE}/groups/${enc(id)}`));
}

export function useAddSimulatedMembers() {
  return useSimulationMutation(({ id, count }: { id: string; count: number }) =>
    api<TSimulatedGroup>("POST", `${BASE}/groups/${enc(id)}/members`, { count }),
  );
}

export function useSimulatedMemberAction() {
  return useSimulationMutation(({ id, index, action }: { id: string; index: number; action: TMemberAction }) =>
    api<TSimulatedGroup>("POST", `${BASE}/groups/${enc(id)}/members/${index}`, { action }),
  );
}
