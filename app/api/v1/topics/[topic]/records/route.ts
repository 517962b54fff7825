import { handle, json, parseWith, readBody, readJson, readQuery } from "@/server/api/http";
import { produceRecordBatches } from "@/server/api/produce-record-batches";
import { produceRecords } from "@/server/api/produce-records";
import { ZProduceQuery, ZProduceRequest, RECORD_BATCH_CONTENT_TYPE } from "@/server/schemas/record";
import { ZTopicName } from "@/server/schemas/topic";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ topic: string }> };

export function POST(req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    const topic = parseWith(ZTopicName, (await params).topic, "topic");
    const query = readQuery(req, ZProduceQuery);
    if ((req.headers.get("content-type") ?? "").startsWith(RECORD_BATCH_CONTENT_TYPE)) {
      return json(await produceRecordBatches(topic, query.partition, await readBody(req), query.transactionalId));
    }
    return json(await produceRecords(topic, await readJson(req, ZProduceRequest)));
  });
}
