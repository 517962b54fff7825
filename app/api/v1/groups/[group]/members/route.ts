import { clientHost, handle, json, parseWith, readJson } from "@/server/api/http";
import { joinGroup } from "@/server/api/join-group";
import { ZGroupId, ZJoinGroupRequest } from "@/server/schemas/group";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ group: string }> };

export function POST(req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    const group = parseWith(ZGroupId, (await params).group, "group");
    const body = await readJson(req, ZJoinGroupRequest, 1 << 20);
    return json(await joinGroup(group, body, clientHost(req)), 201);
  });
}
