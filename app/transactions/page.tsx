import { Suspense } from "react";
import { TransactionsPage } from "@/components/transactions/transactions-page";
import { Loading } from "@/components/ui/status";

export default function Transactions() {
  return (
    <Suspense fallback={<Loading />}>
      <TransactionsPage />
    </Suspense>
  );
}
