-- CreateTable
CREATE TABLE "topics" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "partitions" INTEGER NOT NULL,
    "configs" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "topics_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "partitions" (
    "topic_id" UUID NOT NULL,
    "partition" INTEGER NOT NULL,
    "next_offset" BIGINT NOT NULL DEFAULT 0,
    "log_start_offset" BIGINT NOT NULL DEFAULT 0,
    "record_count" BIGINT NOT NULL DEFAULT 0,
    "size_bytes" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "partitions_pkey" PRIMARY KEY ("topic_id","partition")
);

-- CreateTable
CREATE TABLE "record_batches" (
    "topic_id" UUID NOT NULL,
    "partition" INTEGER NOT NULL,
    "base_offset" BIGINT NOT NULL,
    "last_offset" BIGINT NOT NULL,
    "record_count" INTEGER NOT NULL,
    "first_timestamp" BIGINT NOT NULL,
    "max_timestamp" BIGINT NOT NULL,
    "producer_id" BIGINT NOT NULL DEFAULT -1,
    "producer_epoch" SMALLINT NOT NULL DEFAULT -1,
    "base_sequence" INTEGER NOT NULL DEFAULT -1,
    "is_transactional" BOOLEAN NOT NULL DEFAULT false,
    "is_control" BOOLEAN NOT NULL DEFAULT false,
    "size_bytes" INTEGER NOT NULL,
    "payload" BYTEA NOT NULL,

    CONSTRAINT "record_batches_pkey" PRIMARY KEY ("topic_id","partition","base_offset")
);

-- CreateIndex
CREATE UNIQUE INDEX "topics_name_key" ON "topics"("name");

-- CreateIndex
CREATE INDEX "record_batches_topic_id_partition_max_timestamp_idx" ON "record_batches"("topic_id", "partition", "max_timestamp");

-- AddForeignKey
ALTER TABLE "partitions" ADD CONSTRAINT "partitions_topic_id_fkey" FOREIGN KEY ("topic_id") REFERENCES "topics"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Batches are stored as Kafka sends them: compressing them again in TOAST (pglz) costs CPU on
-- every append for little gain; producers that want compression compress batches themselves.
ALTER TABLE "record_batches" ALTER COLUMN "payload" SET STORAGE EXTERNAL;
