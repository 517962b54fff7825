import { buildOpenApiDocument } from "@/server/api/build-openapi-document";
import { handle, json } from "@/server/api/http";

export const dynamic = "force-dynamic";

export function GET(): Promise<Response> {
  return handle(async () => json(buildOpenApiDocument()));
}
