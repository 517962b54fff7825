-- What each teaching scenario (issue #17) created in its last run: its topics, groups and
-- pipelines, so a reset after a server restart still deletes exactly those (and nothing the
-- scenario did not create), and run numbers (part of group and pipeline names) never repeat.
CREATE TABLE "scenario_runs" (
    "scenario_id" TEXT NOT NULL,
    "run" INTEGER NOT NULL,
    "topics" TEXT[] NOT NULL,
    "groups" TEXT[] NOT NULL,
    "pipelines" TEXT[] NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "scenario_runs_pkey" PRIMARY KEY ("scenario_id")
);
