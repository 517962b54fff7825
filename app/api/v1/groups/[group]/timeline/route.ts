import { handle, json, parseWith } from "@/server/api/http";
import { readGroupTimeline } from "@/server/api/read-group-timeline";
import { ZGroupId } from "@/server/schemas/group";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ group: string }> };

export function GET(_req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => json(await readGroupTimeline(parseWith(ZGroupId, (await params).group, "group"))));
}
