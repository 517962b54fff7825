import { handle, json } from "@/server/api/http";
import { listScenarios } from "@/server/api/list-scenarios";

export const dynamic = "force-dynamic";

export function GET(): Promise<Response> {
  return handle(async () => json(listScenarios()));
}
