import { addPartitions } from "@/server/api/add-partitions";
import { handle, json, parseWith, readJson } from "@/server/api/http";
import { ZAddPartitionsRequest, ZTopicName } from "@/server/schemas/topic";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ topic: string }> };

export function POST(req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    const topic = parseWith(ZTopicName, (await params).topic, "topic");
    const body = await readJson(req, ZAddPartitionsRequest, 1 << 20);
    return json(await addPartitions(topic, body.partitions));
  });
}
