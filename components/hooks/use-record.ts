"use client";
import { useQuery } from "@tanstack/react-query";
import type { TSearchEvent, TSearchRecord, TSearchRequest } from "@/server/schemas/console";
import { enc, errorFrom } from "./api";

/** A record's place in a topic. */
export interface RecordAt {
  partition: number;
  offset: number;
}

/**
 * One record, read from the server (a deep link to a record that is not loaded in the page):
 * a search of one record from its offset, so it carries the same fields as the browser's rows
 * (its transaction state too). An offset with no record (removed by retention or compaction,
 * not written yet, a transaction marker) is an error saying so.
 */
export function useRecordAt(topic: string, at: RecordAt | null) {
  return useQuery({
    queryKey: ["record", topic, at?.partition, at?.offset],
    enabled: at !== null,
    retry: false,
    staleTime: Infinity,
    queryFn: async ({ signal }): Promise<TSearchRecord> => {
      const { partition, offset } = at as RecordAt;
      const req: TSearchRequest = { partition, from: "offset", offset, maxMatches: 1, maxScanned: 1 };
      const res = await fetch(`/api/v1/topics/${enc(topic)}/search`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(req),
        signal,
      });
      if (!res.ok) throw await errorFrom(res);
      for (const line of (await res.text()).split("\n")) {
        if (!line) continue;
        const ev = JSON.parse(line) as TSearchEvent;
        if (ev.type === "error") throw new Error(ev.error.message);
        if (ev.type === "records") {
          const found = ev.records.find((r) => r.offset === offset && r.partition === partition);
          if (found) return found;
        }
      }
      throw new Error(
        `partition ${partition} has no record at offset ${offset} (removed by retention or compaction, not written yet, or a transaction marker)`,
      );
    },
  });
}
