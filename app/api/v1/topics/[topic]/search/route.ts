import { handle, parseWith, readJson } from "@/server/api/http";
import { ndjsonResponse } from "@/server/api/ndjson-response";
import { searchRecords } from "@/server/api/search-records";
import { ZSearchRequest } from "@/server/schemas/console";
import { ZTopicName } from "@/server/schemas/topic";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ topic: string }> };

/** Message search, streamed as NDJSON (started, records, progress..., done); bad input is a 4xx before streaming. */
export function POST(req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    const topic = parseWith(ZTopicName, (await params).topic, "topic");
    const body = await readJson(req, ZSearchRequest, 64 * 1024);
    const abort = new AbortController();
    req.signal.addEventListener("abort", () => abort.abort(), { once: true });
    return ndjsonResponse(await searchRecords(topic, body, abort.signal), () => abort.abort());
  });
}
