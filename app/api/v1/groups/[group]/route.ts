import { deleteGroup } from "@/server/api/delete-group";
import { describeGroup } from "@/server/api/describe-group";
import { handle, json, parseWith } from "@/server/api/http";
import { ZGroupId } from "@/server/schemas/group";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ group: string }> };

export function GET(_req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => json(await describeGroup(parseWith(ZGroupId, (await params).group, "group"))));
}

export function DELETE(_req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    await deleteGroup(parseWith(ZGroupId, (await params).group, "group"));
    return new Response(null, { status: 204 });
  });
}
