import { deleteGroupOffsets } from "@/server/api/delete-group-offsets";
import { handle, json, parseWith, readQuery } from "@/server/api/http";
import { ZDeleteOffsetsQuery, ZGroupId } from "@/server/schemas/group";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ group: string }> };

export function DELETE(req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    const group = parseWith(ZGroupId, (await params).group, "group");
    const { topic } = readQuery(req, ZDeleteOffsetsQuery);
    return json(await deleteGroupOffsets(group, topic));
  });
}
