import { Prisma, type PrismaClient } from "../db/generated/prisma/client.ts";
import type { PipelineState } from "./pipeline-states.ts";
import type { PipelineError, PipelineStore, StoredPipeline, StoredVersion } from "./pipeline-store.ts";

type Row = { name: string; draft: unknown; state: string; version: number | null; error: unknown; createdAt: Date; updatedAt: Date };

const toStored = (r: Row): StoredPipeline => ({
  name: r.name,
  draft: r.draft,
  state: r.state as PipelineState,
  version: r.version,
  error: (r.error as PipelineError | null) ?? null,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

const json = (v: unknown) => v as Prisma.InputJsonValue;

export class PostgresPipelineStore implements PipelineStore {
  constructor(private readonly prisma: PrismaClient) {}

  async list(): Promise<StoredPipeline[]> {
    return (await this.prisma.pipeline.findMany({ orderBy: { name: "asc" } })).map(toStored);
  }

  count(): Promise<number> {
    return this.prisma.pipeline.count();
  }

  async get(name: string): Promise<StoredPipeline | null> {
    const r = await this.prisma.pipeline.findUnique({ where: { name } });
    return r ? toStored(r) : null;
  }

  async create(name: string, draft: unknown): Promise<boolean> {
    const r = await this.prisma.pipeline.createMany({ data: [{ name, draft: json(draft), state: "draft" }], skipDuplicates: true });
    return r.count === 1;
  }

  async update(name: string, change: Partial<Pick<StoredPipeline, "draft" | "state" | "version" | "error">>): Promise<void> {
    const data: Prisma.PipelineUpdateInput = { updatedAt: new Date() };
    if (change.draft !== undefined) data.draft = json(change.draft);
    if (change.state !== undefined) data.state = change.state;
    if (change.version !== undefined) data.version = change.version;
    if (change.error !== undefined) data.error = change.error === null ? Prisma.DbNull : json(change.error);
    await this.prisma.pipeline.update({ where: { name }, data });
  }

  async delete(name: string): Promise<boolean> {
    return (await this.prisma.pipeline.deleteMany({ where: { name } })).count === 1;
  }

  async addVersion(name: string, definition: unknown): Promise<number> {
    return this.prisma.$transaction(async (tx) => {
      const last = await tx.pipelineVersion.findFirst({
        where: { pipelineName: name },
        orderBy: { version: "desc" },
        select: { version: true },
      });
      const version = (last?.version ?? 0) + 1;
      await tx.pipelineVersion.create({ data: { pipelineName: name, version, definition: json(definition) } });
      return version;
    });
  }

  async versions(name: string): Promise<StoredVersion[]> {
    const rows = await this.prisma.pipelineVersion.findMany({ where: { pipelineName: name }, orderBy: { version: "asc" } });
    return rows.map((r) => ({ version: r.version, definition: r.definition, createdAt: r.createdAt }));
  }

  async version(name: string, version: number): Promise<StoredVersion | null> {
    const r = await this.prisma.pipelineVersion.findUnique({ where: { pipelineName_version: { pipelineName: name, version } } });
    return r ? { version: r.version, definition: r.definition, createdAt: r.createdAt } : null;
  }
}
