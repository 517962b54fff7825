-- The rebalance timeline of consumer groups (issue #17): every join, leave, expiry, fencing,
-- group epoch bump and assignment change, with the epochs and the assignment at it. Bounded:
-- the broker keeps the last 1000 events per group and deletes older ones as it writes.
CREATE TABLE "group_timeline_events" (
    "id" BIGSERIAL NOT NULL,
    "group_id" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "type" TEXT NOT NULL,
    "group_epoch" INTEGER NOT NULL,
    "member_id" TEXT,
    "client_id" TEXT,
    "member_epoch" INTEGER,
    "assignment" JSONB,
    "pending_revocation" JSONB,

    CONSTRAINT "group_timeline_events_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "group_timeline_events_group_id_id_idx" ON "group_timeline_events"("group_id", "id");
