import { handle, parseWith } from "@/server/api/http";
import { leaveGroup } from "@/server/api/leave-group";
import { ZGroupId, ZMemberId } from "@/server/schemas/group";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ group: string; member: string }> };

export function DELETE(_req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    const p = await params;
    await leaveGroup(parseWith(ZGroupId, p.group, "group"), parseWith(ZMemberId, p.member, "member"));
    return new Response(null, { status: 204 });
  });
}
