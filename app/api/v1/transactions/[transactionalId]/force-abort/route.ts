import { forceAbortTransaction } from "@/server/api/force-abort-transaction";
import { handle, json, parseWith } from "@/server/api/http";
import { ZTransactionalId } from "@/server/schemas/producer";

export const dynamic = "force-dynamic";
type Ctx = { params: Promise<{ transactionalId: string }> };

export function POST(_req: Request, { params }: Ctx): Promise<Response> {
  return handle(async () =>
    json(await forceAbortTransaction(parseWith(ZTransactionalId, (await params).transactionalId, "transactionalId"))),
  );
}
