import { findGroups } from "@/server/api/find-groups";
import { handle, json } from "@/server/api/http";

export const dynamic = "force-dynamic";

export function GET(): Promise<Response> {
  return handle(async () => json(await findGroups()));
}
