/**
 * What a CEL field completes: what the server inferred for the node's input (its variables and
 * the value's known fields, from the validate response's `types`) and the fields of the records
 * the last preview saw arriving there (the preview's `fields`). The types come from the server
 * (server/stream/completions.ts); this only puts the two lists together.
 */
import type { TCompletion, TPipelineTypes } from "@/server/schemas/pipeline";
import type { TPreview } from "./editor-store";

export function completionsFor(types: TPipelineTypes | null, preview: TPreview | null, node: string, field: string): TCompletion[] {
  const t = types?.nodes[node];
  const inferred = t ? (t.expressions[field] ?? t.completions) : [];
  const sampled = preview?.fields[node] ?? [];
  const seen = new Set(inferred.map((c) => c.label));
  return [...inferred, ...sampled.filter((c) => !seen.has(c.label))];
}
