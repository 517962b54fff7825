"use client";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { TTransaction } from "../hooks/use-transactions";
import { api, enc } from "../hooks/api";
import { Dialog } from "../ui/dialog";
import { ErrorBox } from "../ui/status";

/** POST …/force-abort: the broker fences the producer and writes abort markers (kafka-transactions.sh forceTerminate). */
function useForceAbort() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (transactionalId: string) => api<TTransaction>("POST", `/api/v1/transactions/${enc(transactionalId)}/force-abort`),
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: ["transactions"] });
      void qc.invalidateQueries({ queryKey: ["transaction"] });
      void qc.invalidateQueries({ queryKey: ["producers"] });
    },
  });
}

/** Confirms aborting a hanging transaction: what it does to the producer and to readers, then does it. */
export function AbortTransactionDialog({ txn, onClose }: { txn: TTransaction | null; onClose: () => void }) {
  const abort = useForceAbort();
  const close = () => {
    abort.reset();
    onClose();
  };
  const n = txn?.partitions.length ?? 0;
  return (
    <Dialog open={txn !== null} onClose={close} title="Abort transaction" testId="abort-txn-dialog">
      {txn && (
        <form
          className="stack"
          style={{ maxWidth: 520 }}
          onSubmit={(e) => {
            e.preventDefault();
            abort.mutate(txn.transactionalId, { onSuccess: close });
          }}
        >
          <p style={{ margin: 0 }}>
            Abort the open transaction of <strong className="mono">{txn.transactionalId}</strong> (producer {txn.producerId}, epoch{" "}
            {txn.producerEpoch})?
          </p>
          <ul className="small" style={{ margin: 0, paddingLeft: 18 }}>
            <li>
              An abort marker goes into{" "}
              {n === 0 ? "none of its partitions (it has written nothing yet)" : `its ${n} partition${n === 1 ? "" : "s"}`}:{" "}
              <code>read_committed</code> readers skip its records and move past it.
            </li>
            <li>
              The producer is fenced (epoch {txn.producerEpoch} → {txn.producerEpoch + 1}): its next call is refused with{" "}
              <code>TRANSACTION_ABORTED</code>, and it must initialise again.
            </li>
            <li>Group offsets sent in the transaction are dropped. This cannot be undone.</li>
          </ul>
          <ErrorBox error={abort.error} testId="abort-txn-error" />
          <div className="row" style={{ justifyContent: "flex-end" }}>
            <button type="button" onClick={close} autoFocus>
              Cancel
            </button>
            <button type="submit" className="danger" disabled={abort.isPending} data-testid="abort-txn-submit">
              {abort.isPending ? "Aborting…" : "Abort transaction"}
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
