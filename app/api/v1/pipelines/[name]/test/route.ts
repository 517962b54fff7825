import { handle, json, parseWith, readJson } from "@/server/api/http";
import { testPipeline } from "@/server/api/test-pipeline";
import { ZPipelineName } from "@/server/schemas/pipeline";
import { ZPipelineTestRequestBody } from "@/server/schemas/pipeline-tests";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ name: string }> };

export function POST(req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    const name = parseWith(ZPipelineName, (await params).name, "name");
    return json(await testPipeline(name, await readJson(req, ZPipelineTestRequestBody, 2 << 20)));
  });
}
