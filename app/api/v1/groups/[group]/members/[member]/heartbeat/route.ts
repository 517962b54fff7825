import { handle, json, parseWith, readJson } from "@/server/api/http";
import { heartbeatGroupMember } from "@/server/api/heartbeat-group-member";
import { ZGroupId, ZHeartbeatRequest, ZMemberId } from "@/server/schemas/group";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ group: string; member: string }> };

export function POST(req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    const p = await params;
    const body = await readJson(req, ZHeartbeatRequest, 1 << 20);
    return json(await heartbeatGroupMember(parseWith(ZGroupId, p.group, "group"), parseWith(ZMemberId, p.member, "member"), body));
  });
}
