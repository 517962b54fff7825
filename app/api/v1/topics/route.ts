import { createTopic } from "@/server/api/create-topic";
import { findTopics } from "@/server/api/find-topics";
import { handle, json, readJson } from "@/server/api/http";
import { ZCreateTopicRequest } from "@/server/schemas/topic";

export const dynamic = "force-dynamic";

export function GET(): Promise<Response> {
  return handle(async () => json(await findTopics()));
}

export function POST(req: Request): Promise<Response> {
  return handle(async () => json(await createTopic(await readJson(req, ZCreateTopicRequest, 1 << 20)), 201));
}
