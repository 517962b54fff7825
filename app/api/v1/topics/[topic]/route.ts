import { deleteTopic } from "@/server/api/delete-topic";
import { describeTopic } from "@/server/api/describe-topic";
import { handle, json, parseWith, readJson } from "@/server/api/http";
import { updateTopicConfigs } from "@/server/api/update-topic-configs";
import { ZTopicName, ZUpdateTopicRequest } from "@/server/schemas/topic";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ topic: string }> };

export function GET(_req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => json(await describeTopic(parseWith(ZTopicName, (await params).topic, "topic"))));
}

export function PATCH(req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    const topic = parseWith(ZTopicName, (await params).topic, "topic");
    const body = await readJson(req, ZUpdateTopicRequest, 1 << 20);
    return json(await updateTopicConfigs(topic, body.configs));
  });
}

export function DELETE(_req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    await deleteTopic(parseWith(ZTopicName, (await params).topic, "topic"));
    return new Response(null, { status: 204 });
  });
}
