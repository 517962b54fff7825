import { deletePipeline } from "@/server/api/delete-pipeline";
import { describePipeline } from "@/server/api/describe-pipeline";
import { handle, json, parseWith, readJson } from "@/server/api/http";
import { updatePipelineDraft } from "@/server/api/update-pipeline-draft";
import { ZPipelineDraft, ZPipelineName } from "@/server/schemas/pipeline";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ name: string }> };

export function GET(_req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => json(await describePipeline(parseWith(ZPipelineName, (await params).name, "name"))));
}

export function PUT(req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    const name = parseWith(ZPipelineName, (await params).name, "name");
    return json(await updatePipelineDraft(name, await readJson(req, ZPipelineDraft, 1 << 20)));
  });
}

export function DELETE(_req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    await deletePipeline(parseWith(ZPipelineName, (await params).name, "name"));
    return new Response(null, { status: 204 });
  });
}
