import { fetchRecordBatches } from "@/server/api/fetch-record-batches";
import { fetchRecordsJson } from "@/server/api/fetch-records";
import { handle, jsonText, parseWith, partitionParam, readQuery } from "@/server/api/http";
import { RECORD_BATCH_CONTENT_TYPE, ZFetchQuery } from "@/server/schemas/record";
import { ZTopicName } from "@/server/schemas/topic";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ topic: string; partition: string }> };

export function GET(req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    const p = await params;
    const topic = parseWith(ZTopicName, p.topic, "topic");
    const partition = partitionParam(p.partition);
    const query = readQuery(req, ZFetchQuery);
    if ((req.headers.get("accept") ?? "").includes(RECORD_BATCH_CONTENT_TYPE)) {
      const r = await fetchRecordBatches(topic, partition, { ...query, signal: req.signal });
      return new Response(new Uint8Array(r.body), {
        headers: { "content-type": RECORD_BATCH_CONTENT_TYPE, "cache-control": "no-store", ...r.headers },
      });
    }
    return jsonText(await fetchRecordsJson(topic, partition, { ...query, signal: req.signal }));
  });
}
