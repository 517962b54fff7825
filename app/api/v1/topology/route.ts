import { handle, json } from "@/server/api/http";
import { readTopology } from "@/server/api/read-topology";

export const dynamic = "force-dynamic";

export function GET(): Promise<Response> {
  return handle(async () => json(await readTopology()));
}
