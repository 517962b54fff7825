import { describeScenario } from "@/server/api/describe-scenario";
import { handle, json, parseWith } from "@/server/api/http";
import { ZScenarioId } from "@/server/schemas/topology";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ id: string }> };

export function GET(_req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => json(describeScenario(parseWith(ZScenarioId, (await params).id, "id"))));
}
