import { createSimulatedGroup } from "@/server/api/create-simulated-group";
import { handle, json, readJson } from "@/server/api/http";
import { ZCreateSimulatedGroupRequest } from "@/server/schemas/topology";

export const dynamic = "force-dynamic";

export function POST(req: Request): Promise<Response> {
  return handle(async () => json(await createSimulatedGroup(await readJson(req, ZCreateSimulatedGroupRequest, 64 * 1024)), 201));
}
