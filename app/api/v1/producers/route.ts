import { handle, json, readJson } from "@/server/api/http";
import { initProducer } from "@/server/api/init-producer";
import { listProducers } from "@/server/api/list-producers";
import { ZInitProducerRequest } from "@/server/schemas/producer";

export const dynamic = "force-dynamic";

export function POST(req: Request): Promise<Response> {
  return handle(async () => json(await initProducer(await readJson(req, ZInitProducerRequest, 64 * 1024)), 201));
}

export function GET(): Promise<Response> {
  return handle(async () => json(listProducers()));
}
