-- Transaction coordinator state (Kafka's __transaction_state): one row per transactional id,
-- the coordinator's entry snapshot as JSON, rewritten after every change of the entry.
CREATE TABLE "transactions" (
    "transactional_id" TEXT NOT NULL,
    "producer_id" BIGINT NOT NULL,
    "producer_epoch" INTEGER NOT NULL,
    "state" TEXT NOT NULL,
    "entry" JSONB NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "transactions_pkey" PRIMARY KEY ("transactional_id")
);
