import { deleteSimulatedGroup } from "@/server/api/delete-simulated-group";
import { handle, parseWith } from "@/server/api/http";
import { ZSimulationId } from "@/server/schemas/topology";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ id: string }> };

export function DELETE(_req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    await deleteSimulatedGroup(parseWith(ZSimulationId, (await params).id, "id"));
    return new Response(null, { status: 204 });
  });
}
