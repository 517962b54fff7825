import { deleteRecords } from "@/server/api/delete-records";
import { handle, json, parseWith, readJson } from "@/server/api/http";
import { ZDeleteRecordsRequest } from "@/server/schemas/record";
import { ZTopicName } from "@/server/schemas/topic";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ topic: string }> };

export function POST(req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    const topic = parseWith(ZTopicName, (await params).topic, "topic");
    return json(await deleteRecords(topic, await readJson(req, ZDeleteRecordsRequest)));
  });
}
