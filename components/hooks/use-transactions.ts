"use client";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { z } from "zod";
import type { ZListProducersResponse, ZListTransactionsResponse, ZProducerEntry, ZTransaction } from "@/server/schemas/producer";
import { api, enc } from "./api";

export type TTransaction = z.infer<typeof ZTransaction>;
export type TProducerEntry = z.infer<typeof ZProducerEntry>;
type TTransactionList = z.infer<typeof ZListTransactionsResponse>;
type TProducerList = z.infer<typeof ZListProducersResponse>;

/** Transaction states that hold a partition's last stable offset back. */
export const OPEN_STATES: ReadonlySet<TTransaction["state"]> = new Set(["Ongoing", "PrepareCommit", "PrepareAbort"]);

const REFRESH_MS = 1500;

/** Transactional ids (GET /api/v1/transactions); `openOnly` asks for state=open. */
export function useTransactions(openOnly: boolean) {
  return useQuery({
    queryKey: ["transactions", openOnly ? "open" : "all"],
    queryFn: ({ signal }) =>
      api<TTransactionList>("GET", `/api/v1/transactions${openOnly ? "?state=open" : ""}`, undefined, signal).then((r) => r.transactions),
    refetchInterval: REFRESH_MS,
    staleTime: 0,
  });
}

export function useTransaction(transactionalId: string) {
  return useQuery({
    queryKey: ["transaction", transactionalId],
    queryFn: ({ signal }) => api<TTransaction>("GET", `/api/v1/transactions/${enc(transactionalId)}`, undefined, signal),
    refetchInterval: REFRESH_MS,
    retry: (n, e) => (e as { status?: number }).status !== 404 && n < 2,
  });
}

/** Producer state per partition (GET /api/v1/producers). */
export function useProducers() {
  return useQuery({
    queryKey: ["producers"],
    queryFn: ({ signal }) => api<TProducerList>("GET", "/api/v1/producers", undefined, signal).then((r) => r.producers),
    refetchInterval: REFRESH_MS,
    staleTime: 0,
  });
}

/** Date.now(), re-read every `ms` while mounted (for ages that tick between refreshes). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
