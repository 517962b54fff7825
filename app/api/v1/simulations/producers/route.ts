import { createSimulatedProducer } from "@/server/api/create-simulated-producer";
import { handle, json, readJson } from "@/server/api/http";
import { ZCreateSimulatedProducerRequest } from "@/server/schemas/topology";

export const dynamic = "force-dynamic";

export function POST(req: Request): Promise<Response> {
  return handle(async () => json(await createSimulatedProducer(await readJson(req, ZCreateSimulatedProducerRequest, 64 * 1024)), 201));
}
