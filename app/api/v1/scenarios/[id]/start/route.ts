import { handle, json, parseWith } from "@/server/api/http";
import { startScenario } from "@/server/api/start-scenario";
import { ZScenarioId } from "@/server/schemas/topology";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ id: string }> };

export function POST(_req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => json(await startScenario(parseWith(ZScenarioId, (await params).id, "id")), 202));
}
