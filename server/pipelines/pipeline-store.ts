/**
 * Where pipelines are kept: the draft and state per pipeline, every deployed version apart.
 * In PostgreSQL (postgres-pipeline-store.ts) on the broker's database.
 */
import type { PipelineState } from "./pipeline-states.ts";

export interface PipelineError {
  message: string;
  node?: string;
}

export interface StoredPipeline {
  name: string;
  /** the editor's draft, possibly invalid */
  draft: unknown;
  state: PipelineState;
  /** the deployed version (running, paused, stopped or failed); null before the first deploy */
  version: number | null;
  error: PipelineError | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface StoredVersion {
  version: number;
  definition: unknown;
  createdAt: Date;
}

export interface PipelineStore {
  list(): Promise<StoredPipeline[]>;
  count(): Promise<number>;
  get(name: string): Promise<StoredPipeline | null>;
  /** false when the name is taken */
  create(name: string, draft: unknown): Promise<boolean>;
  update(name: string, change: Partial<Pick<StoredPipeline, "draft" | "state" | "version" | "error">>): Promise<void>;
  delete(name: string): Promise<boolean>;
  /** Stores `definition` as the next version and returns its number. */
  addVersion(name: string, definition: unknown): Promise<number>;
  versions(name: string): Promise<StoredVersion[]>;
  version(name: string, version: number): Promise<StoredVersion | null>;
}
