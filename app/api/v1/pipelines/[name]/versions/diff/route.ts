import { diffPipelineVersions } from "@/server/api/diff-pipeline-versions";
import { handle, json, parseWith, readQuery } from "@/server/api/http";
import { ZPipelineName } from "@/server/schemas/pipeline";
import { ZPipelineDiffQuery } from "@/server/schemas/pipeline-diff";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ name: string }> };

export function GET(req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    const name = parseWith(ZPipelineName, (await params).name, "name");
    const { from, to } = readQuery(req, ZPipelineDiffQuery);
    return json(await diffPipelineVersions(name, from, to));
  });
}
