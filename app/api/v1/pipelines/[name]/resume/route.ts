import { changePipelineState } from "@/server/api/change-pipeline-state";
import { handle, json, parseWith } from "@/server/api/http";
import { ZPipelineName } from "@/server/schemas/pipeline";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ name: string }> };

export function POST(_req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => json(await changePipelineState(parseWith(ZPipelineName, (await params).name, "name"), "resume")));
}
