import { actOnSimulatedMember } from "@/server/api/act-on-simulated-member";
import { handle, json, parseWith, readJson } from "@/server/api/http";
import { ZMemberIndex, ZSimulatedMemberActionRequest, ZSimulationId } from "@/server/schemas/topology";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ id: string; member: string }> };

export function POST(req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    const p = await params;
    const id = parseWith(ZSimulationId, p.id, "id");
    const member = parseWith(ZMemberIndex, p.member, "member");
    return json(await actOnSimulatedMember(id, member, (await readJson(req, ZSimulatedMemberActionRequest, 4096)).action));
  });
}
