import { handle, json, parseWith } from "@/server/api/http";
import { readPipelineMetrics } from "@/server/api/read-pipeline-metrics";
import { ZPipelineName } from "@/server/schemas/pipeline";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ name: string }> };

export function GET(_req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => json(await readPipelineMetrics(parseWith(ZPipelineName, (await params).name, "name"))));
}
