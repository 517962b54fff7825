import { checkJsonType, handle, json, parseWith, readBodyReserved, readQuery } from "@/server/api/http";
import { produceJsonBody } from "@/server/api/produce-records";
import { ZProduceQuery } from "@/server/schemas/record";
import { ZTopicName } from "@/server/schemas/topic";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ topic: string }> };

// Binary produces (Content-Type application/vnd.kafka.record-batch) never reach Next: server/api/record-batch-fast-path.ts answers them.
export function POST(req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    const topic = parseWith(ZTopicName, (await params).topic, "topic");
    // refuses unknown or malformed parameters; JSON records name their own partitions, a clientId is the producer's name
    const q = readQuery(req, ZProduceQuery);
    checkJsonType(req);
    return json(await produceJsonBody(topic, await readBodyReserved(req), req.signal, q.clientId));
  });
}
