import { checkJsonType, handle, json, parseWith, readBody, readBodyReserved, readQuery } from "@/server/api/http";
import { produceRecordBatches } from "@/server/api/produce-record-batches";
import { produceJsonBody } from "@/server/api/produce-records";
import { ZProduceQuery, RECORD_BATCH_CONTENT_TYPE } from "@/server/schemas/record";
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
    checkJsonType(req);
    return json(await produceJsonBody(topic, await readBodyReserved(req), req.signal));
  });
}
