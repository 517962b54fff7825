-- CreateTable
CREATE TABLE "group_offsets" (
    "group_id" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "partition" INTEGER NOT NULL,
    "committed_offset" BIGINT NOT NULL,
    "metadata" TEXT,
    "commit_timestamp" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "group_offsets_pkey" PRIMARY KEY ("group_id","topic","partition")
);

-- CreateIndex
CREATE INDEX "group_offsets_topic_idx" ON "group_offsets"("topic");
