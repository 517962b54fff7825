import { handle, json, MAX_REQUEST_BYTES, parseWith, readBody, readJson, readQuery } from "@/server/api/http";
import { jsonMemory, producedJsonEstimate } from "@/server/api/memory-budget";
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
    // parsing and validating a JSON body takes several times its size: within the JSON memory budget
    const declared = Number(req.headers.get("content-length") ?? NaN);
    const estimate = producedJsonEstimate(Number.isFinite(declared) ? declared : MAX_REQUEST_BYTES);
    return jsonMemory().run(estimate, async () => json(await produceRecords(topic, await readJson(req, ZProduceRequest))), req.signal);
  });
}
