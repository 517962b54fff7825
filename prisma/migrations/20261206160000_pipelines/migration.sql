-- Stream-processing pipelines: the draft and lifecycle state per pipeline, and every deployed
-- version as an immutable definition.
CREATE TABLE "pipelines" (
    "name" TEXT NOT NULL,
    "draft" JSONB NOT NULL,
    "state" TEXT NOT NULL,
    "version" INTEGER,
    "error" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "pipelines_pkey" PRIMARY KEY ("name")
);

CREATE TABLE "pipeline_versions" (
    "pipeline_name" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "definition" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "pipeline_versions_pkey" PRIMARY KEY ("pipeline_name", "version"),
    CONSTRAINT "pipeline_versions_pipeline_name_fkey" FOREIGN KEY ("pipeline_name") REFERENCES "pipelines"("name") ON DELETE CASCADE ON UPDATE CASCADE
);
