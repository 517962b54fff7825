import { handle, json, parseWith, readQuery } from "@/server/api/http";
import { listOffsets } from "@/server/api/list-offsets";
import { ZListOffsetsQuery } from "@/server/schemas/record";
import { ZTopicName } from "@/server/schemas/topic";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ topic: string }> };

export function GET(req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    const topic = parseWith(ZTopicName, (await params).topic, "topic");
    const { at, isolation } = readQuery(req, ZListOffsetsQuery);
    return json(await listOffsets(topic, at, isolation));
  });
}
