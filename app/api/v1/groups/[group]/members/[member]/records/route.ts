import { handle, jsonText, parseWith, readQuery } from "@/server/api/http";
import { pollGroupRecords } from "@/server/api/poll-group-records";
import { ZGroupId, ZMemberId, ZPollQuery } from "@/server/schemas/group";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ group: string; member: string }> };

export function GET(req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    const p = await params;
    const q = readQuery(req, ZPollQuery);
    return jsonText(
      await pollGroupRecords(parseWith(ZGroupId, p.group, "group"), parseWith(ZMemberId, p.member, "member"), { ...q, signal: req.signal }),
    );
  });
}
