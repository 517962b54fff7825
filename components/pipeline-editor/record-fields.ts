/**
 * Completion for CEL fields: the variables every expression sees, and the fields of the records
 * a preview saw arriving at a node (`value.user`, `value.window.start`, …).
 */
import type { TNodeKind, TPipelineEdge } from "@/server/schemas/pipeline";
import type { TPreview } from "./editor-store";

export const CEL_VARIABLES = ["key", "value", "headers", "timestamp", "topic", "partition", "offset"];

/** Variables some fields add: a reducer's accumulator, a join's two sides. */
export function extraVariables(kind: TNodeKind, path: string): string[] {
  if (kind === "aggregate" && path.endsWith(".add")) return ["acc"];
  if (kind === "join" && path === "value") return ["left", "right"];
  return [];
}

const MAX_DEPTH = 3;
const MAX_FIELDS = 200;

function collect(prefix: string, v: unknown, depth: number, out: Set<string>): void {
  if (out.size >= MAX_FIELDS || v === null || typeof v !== "object" || Array.isArray(v) || depth > MAX_DEPTH) return;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const path = /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `${prefix}.${k}` : `${prefix}[${JSON.stringify(k)}]`;
    out.add(path);
    collect(path, x, depth + 1, out);
  }
}

/** The fields of the records the preview saw arriving at `node` (through any of its inputs). */
export function sampledFields(edges: readonly TPipelineEdge[], preview: TPreview | null, node: string): string[] {
  if (!preview) return [];
  const out = new Set<string>();
  for (const e of edges) {
    if (e.to.node !== node) continue;
    for (const r of preview.nodes[e.from.node]?.records ?? []) {
      if (r.port !== e.from.port) continue;
      collect("value", r.value, 1, out);
      collect("key", r.key, 1, out);
      for (const h of Object.keys(r.headers)) out.add(`headers[${JSON.stringify(h)}]`);
    }
  }
  return [...out].sort();
}
