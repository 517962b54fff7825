import { deleteSimulatedProducer } from "@/server/api/delete-simulated-producer";
import { handle, json, parseWith, readJson } from "@/server/api/http";
import { updateSimulatedProducer } from "@/server/api/update-simulated-producer";
import { ZSimulationId, ZUpdateSimulatedProducerRequest } from "@/server/schemas/topology";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ id: string }> };

export function PATCH(req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    const id = parseWith(ZSimulationId, (await params).id, "id");
    return json(updateSimulatedProducer(id, await readJson(req, ZUpdateSimulatedProducerRequest, 64 * 1024)));
  });
}

export function DELETE(_req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    await deleteSimulatedProducer(parseWith(ZSimulationId, (await params).id, "id"));
    return new Response(null, { status: 204 });
  });
}
