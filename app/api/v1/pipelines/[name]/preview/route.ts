import { handle, json, parseWith, readJson } from "@/server/api/http";
import { previewPipeline } from "@/server/api/preview-pipeline";
import { ZPipelineName, ZPreviewRequest } from "@/server/schemas/pipeline";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ name: string }> };

export function POST(req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    const name = parseWith(ZPipelineName, (await params).name, "name");
    return json(await previewPipeline(name, await readJson(req, ZPreviewRequest, 1 << 20)));
  });
}
