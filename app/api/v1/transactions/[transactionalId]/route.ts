import { describeTransaction } from "@/server/api/find-transactions";
import { handle, json, parseWith } from "@/server/api/http";
import { ZTransactionalId } from "@/server/schemas/producer";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ transactionalId: string }> };

export function GET(_req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => json(describeTransaction(parseWith(ZTransactionalId, (await params).transactionalId, "transactionalId"))));
}
