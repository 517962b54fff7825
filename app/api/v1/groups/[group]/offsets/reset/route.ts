import { handle, json, parseWith, readJson } from "@/server/api/http";
import { resetGroupOffsets } from "@/server/api/reset-group-offsets";
import { ZGroupId, ZResetOffsetsRequest } from "@/server/schemas/group";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ group: string }> };

export function POST(req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    const group = parseWith(ZGroupId, (await params).group, "group");
    return json(await resetGroupOffsets(group, await readJson(req, ZResetOffsetsRequest, 1 << 20)));
  });
}
