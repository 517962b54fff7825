import { handle, json, parseWith } from "@/server/api/http";
import { listPipelineVersions } from "@/server/api/list-pipeline-versions";
import { ZPipelineName } from "@/server/schemas/pipeline";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ name: string }> };

export function GET(_req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => json(await listPipelineVersions(parseWith(ZPipelineName, (await params).name, "name"))));
}
