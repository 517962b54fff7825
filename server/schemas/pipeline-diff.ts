/**
 * The difference between two definitions of a pipeline (two deployed versions, or a version and
 * the draft), as the API sends it and the console's version history draws it. Computed by
 * server/pipelines/pipeline-diff.ts.
 */
import { z } from "zod";

/** One field that differs: its path inside the node (or the pipeline), the value before and after (absent: not set). */
export const ZFieldChange = z.object({
  path: z.string().describe("e.g. config.condition, config.window.sizeMs, config.aggregations[0].fn, settings.commitIntervalMs"),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
});
export type TFieldChange = z.infer<typeof ZFieldChange>;

const ZDiffNode = z.object({ id: z.string(), kind: z.string(), label: z.string().optional(), config: z.unknown() });
export type TDiffNode = z.infer<typeof ZDiffNode>;

const ZDiffEdge = z.object({
  from: z.object({ node: z.string(), port: z.string() }),
  to: z.object({ node: z.string(), port: z.string() }),
});
export type TDiffEdge = z.infer<typeof ZDiffEdge>;

export const ZPipelineDiff = z
  .object({
    from: z.union([z.number().int(), z.literal("draft")]),
    to: z.union([z.number().int(), z.literal("draft")]),
    /** nothing that changes how the pipeline runs differs (node positions aside) */
    identical: z.boolean(),
    nodes: z.object({
      added: z.array(ZDiffNode),
      removed: z.array(ZDiffNode),
      changed: z.array(ZDiffNode.omit({ config: true }).extend({ fields: z.array(ZFieldChange) })),
      /** ids of nodes only drawn elsewhere on the canvas */
      moved: z.array(z.string()),
    }),
    edges: z.object({ added: z.array(ZDiffEdge), removed: z.array(ZDiffEdge) }),
    /** the pipeline's own fields: description, settings.* */
    pipeline: z.array(ZFieldChange),
    /** changed stateful nodes: deploying `to` over `from` needs a state reset */
    statefulChanged: z.array(z.string()),
    summary: z.string().describe("one line, e.g. 'changed overTen; added dedupe; +1 edge'"),
  })
  .meta({ id: "PipelineDiff" });
export type TPipelineDiff = z.infer<typeof ZPipelineDiff>;

/** A side of a diff: a version number, or the draft. */
export const ZVersionRef = z
  .string()
  .regex(/^(draft|[1-9]\d{0,8})$/, "must be a version number (1, 2, …) or 'draft'")
  .transform((s): number | "draft" => (s === "draft" ? s : Number(s)));
export type TVersionRef = z.output<typeof ZVersionRef>;

export const ZPipelineDiffQuery = z
  .object({
    from: ZVersionRef.describe("a version number or 'draft'"),
    to: ZVersionRef.describe("a version number or 'draft'"),
  })
  .strict();
