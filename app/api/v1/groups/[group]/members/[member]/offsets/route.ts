import { commitGroupOffsets } from "@/server/api/commit-group-offsets";
import { handle, json, parseWith, readJson } from "@/server/api/http";
import { ZCommitRequest, ZGroupId, ZMemberId } from "@/server/schemas/group";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ group: string; member: string }> };

export function POST(req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    const p = await params;
    const body = await readJson(req, ZCommitRequest, 4 << 20);
    return json(await commitGroupOffsets(parseWith(ZGroupId, p.group, "group"), parseWith(ZMemberId, p.member, "member"), body));
  });
}
