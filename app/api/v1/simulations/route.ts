import { handle, json } from "@/server/api/http";
import { listSimulations } from "@/server/api/list-simulations";

export const dynamic = "force-dynamic";

export function GET(): Promise<Response> {
  return handle(async () => json(listSimulations()));
}
