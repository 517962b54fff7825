import { deployPipeline } from "@/server/api/deploy-pipeline";
import { handle, json, parseWith, readJson } from "@/server/api/http";
import { ZDeployRequest, ZPipelineName } from "@/server/schemas/pipeline";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ name: string }> };

export function POST(req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    const name = parseWith(ZPipelineName, (await params).name, "name");
    return json(await deployPipeline(name, await readJson(req, ZDeployRequest, 4096)));
  });
}
