import { fetchRecordsJson } from "@/server/api/fetch-records";
import { handle, jsonText, parseWith, partitionParam, readQuery } from "@/server/api/http";
import { ZFetchQuery } from "@/server/schemas/record";
import { ZTopicName } from "@/server/schemas/topic";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ topic: string; partition: string }> };

// Binary fetches (Accept: application/vnd.kafka.record-batch) never reach Next: server/api/record-batch-fast-path.ts answers them.
export function GET(req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    const p = await params;
    const topic = parseWith(ZTopicName, p.topic, "topic");
    const partition = partitionParam(p.partition);
    const query = readQuery(req, ZFetchQuery);
    return jsonText(await fetchRecordsJson(topic, partition, { ...query, signal: req.signal }));
  });
}
