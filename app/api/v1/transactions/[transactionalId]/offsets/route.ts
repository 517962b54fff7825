import { addTransactionOffsets } from "@/server/api/add-transaction-offsets";
import { handle, json, parseWith, readJson } from "@/server/api/http";
import { ZTransactionalId, ZTransactionOffsetsRequest } from "@/server/schemas/producer";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ transactionalId: string }> };

export function POST(req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () => {
    const id = parseWith(ZTransactionalId, (await params).transactionalId, "transactionalId");
    return json(await addTransactionOffsets(id, await readJson(req, ZTransactionOffsetsRequest, 4 << 20)));
  });
}
