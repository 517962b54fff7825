import { findTransactions } from "@/server/api/find-transactions";
import { handle, json, readQuery } from "@/server/api/http";
import { ZListTransactionsQuery } from "@/server/schemas/producer";

export const dynamic = "force-dynamic";

export function GET(req: Request): Promise<Response> {
  return handle(async () => json(findTransactions(readQuery(req, ZListTransactionsQuery).state)));
}
