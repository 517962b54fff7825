import { ApiError } from "@/server/api/api-error";
import { handle } from "@/server/api/http";

// Unknown API paths answer with the JSON error body rather than the HTML 404 page.
export const dynamic = "force-dynamic";

function notFound(req: Request): Promise<Response> {
  return handle(async () => {
    throw new ApiError("NOT_FOUND", `no API endpoint ${req.method} ${new URL(req.url).pathname}; see /api/v1/openapi.json`);
  });
}

export { notFound as GET, notFound as POST, notFound as PUT, notFound as PATCH, notFound as DELETE };
