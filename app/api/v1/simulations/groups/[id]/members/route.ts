import { addSimulatedMembers } from "@/server/api/add-simulated-members";
import { handle, json, parseWith, readJson } from "@/server/api/http";
import { ZAddSimulatedMembersRequest, ZSimulationId } from "@/server/schemas/topology";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ id: string }> };

export function POST(req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    const id = parseWith(ZSimulationId, (await params).id, "id");
    return json(await addSimulatedMembers(id, (await readJson(req, ZAddSimulatedMembersRequest, 4096)).count));
  });
}
