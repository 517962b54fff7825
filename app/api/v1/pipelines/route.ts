import { createPipeline } from "@/server/api/create-pipeline";
import { handle, json, readJson } from "@/server/api/http";
import { listPipelines } from "@/server/api/list-pipelines";
import { ZPipelineDraft } from "@/server/schemas/pipeline";

export const dynamic = "force-dynamic";

export function GET(): Promise<Response> {
  return handle(async () => json(await listPipelines()));
}

export function POST(req: Request): Promise<Response> {
  return handle(async () => json(await createPipeline(await readJson(req, ZPipelineDraft, 1 << 20)), 201));
}
