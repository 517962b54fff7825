import { handle, json } from "@/server/api/http";
import { readMetrics } from "@/server/api/read-metrics";

export const dynamic = "force-dynamic";

/** Storage, counts and per-second throughput (in/out, per topic and total) for the console overview. */
export function GET(): Promise<Response> {
  return handle(async () => json(await readMetrics()));
}
