import { endTransaction } from "@/server/api/end-transaction";
import { handle, json, parseWith, readJson } from "@/server/api/http";
import { ZEndTransactionRequest, ZTransactionalId } from "@/server/schemas/producer";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ transactionalId: string }> };

export function POST(req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    const id = parseWith(ZTransactionalId, (await params).transactionalId, "transactionalId");
    return json(await endTransaction(id, await readJson(req, ZEndTransactionRequest, 64 * 1024), false));
  });
}
