import { handle, json, parseWith } from "@/server/api/http";
import { resetScenario } from "@/server/api/reset-scenario";
import { ZScenarioId } from "@/server/schemas/topology";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ id: string }> };

export function POST(_req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => json(await resetScenario(parseWith(ZScenarioId, (await params).id, "id"))));
}
