"use client";
/**
 * A small SVG picture of a pipeline's graph, laid out in layers: the template cards draw one
 * small, the version diff a large one with each node and edge colored by what happened to it.
 */
import { layoutLayers } from "./graph-layout";

export type Tone = "added" | "removed" | "changed" | "same";

export interface SketchNode {
  id: string;
  kind: string;
  tone?: Tone;
}
export interface SketchEdge {
  from: string;
  to: string;
  tone?: Tone;
}

const TONE: Record<Tone, string> = { added: "var(--ok)", removed: "var(--danger)", changed: "var(--warn)", same: "var(--muted)" };

/** the console's series colors by what a node does: sources, transforms, state, sinks */
function kindColor(kind: string): string {
  if (kind === "source" || kind === "table") return "var(--c1)";
  if (kind === "sink" || kind === "deadLetter") return "var(--c2)";
  if (kind === "aggregate" || kind === "join" || kind === "dedupe") return "var(--c4)";
  return "var(--c3)";
}

const SIZES = {
  small: { w: 30, h: 14, gapX: 22, gapY: 8, pad: 8, radius: 4 },
  large: { w: 132, h: 44, gapX: 44, gapY: 16, pad: 14, radius: 7 },
};

export function PipelineSketch({
  nodes,
  edges,
  size = "small",
  testId,
  label,
}: {
  nodes: SketchNode[];
  edges: SketchEdge[];
  size?: "small" | "large";
  testId?: string;
  label: string;
}) {
  const s = SIZES[size];
  const placed = layoutLayers(
    nodes.map((n) => n.id),
    edges,
  );
  const at = new Map(placed.map((p) => [p.id, { x: s.pad + p.column * (s.w + s.gapX), y: s.pad + p.row * (s.h + s.gapY) }]));
  const columns = Math.max(1, ...placed.map((p) => p.column + 1));
  const rows = Math.max(1, ...placed.map((p) => p.row + 1));
  const width = s.pad * 2 + columns * s.w + (columns - 1) * s.gapX;
  const height = s.pad * 2 + rows * s.h + (rows - 1) * s.gapY;
  // small pictures share one scale (room for 6 columns and 2 rows), centered; large ones are drawn at their size
  const boxW = size === "small" ? Math.max(width, s.pad * 2 + 6 * s.w + 5 * s.gapX) : width;
  const boxH = size === "small" ? Math.max(height, s.pad * 2 + 2 * s.h + s.gapY) : height;
  // removed edges under the others, so a kept edge's color wins where they overlap
  const order: Tone[] = ["removed", "same", "changed", "added"];
  const sorted = [...edges].sort((a, b) => order.indexOf(a.tone ?? "same") - order.indexOf(b.tone ?? "same"));
  return (
    <svg
      className={size === "large" ? "diff-graph" : undefined}
      viewBox={`${(width - boxW) / 2} ${(height - boxH) / 2} ${boxW} ${boxH}`}
      preserveAspectRatio="xMidYMid meet"
      width={size === "large" ? width : undefined}
      height={size === "large" ? height : undefined}
      role="img"
      aria-label={label}
      data-testid={testId}
    >
      {sorted.map((e, i) => {
        const a = at.get(e.from);
        const b = at.get(e.to);
        if (!a || !b) return null;
        const x1 = a.x + s.w;
        const y1 = a.y + s.h / 2;
        const x2 = b.x;
        const y2 = b.y + s.h / 2;
        const mid = (x1 + x2) / 2;
        const tone = e.tone ?? "same";
        return (
          <path
            key={i}
            d={`M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`}
            fill="none"
            stroke={tone === "same" ? "var(--muted)" : TONE[tone]}
            strokeOpacity={tone === "same" ? 0.6 : 1}
            strokeWidth={size === "large" ? (tone === "same" ? 1.5 : 2.5) : 1.2}
            strokeDasharray={tone === "removed" ? "6 4" : undefined}
            data-testid={testId ? `${testId}-edge-${e.from}-${e.to}` : undefined}
            data-tone={tone}
          />
        );
      })}
      {nodes.map((n) => {
        const p = at.get(n.id)!;
        const tone = n.tone ?? "same";
        const stroke = size === "small" || tone === "same" ? kindColor(n.kind) : TONE[tone];
        return (
          <g key={n.id} data-testid={testId ? `${testId}-node-${n.id}` : undefined} data-tone={tone}>
            <rect
              x={p.x}
              y={p.y}
              width={s.w}
              height={s.h}
              rx={s.radius}
              style={{
                fill: `color-mix(in srgb, ${tone === "same" ? kindColor(n.kind) : TONE[tone]} ${size === "small" ? 35 : 14}%, var(--panel))`,
                stroke,
              }}
              strokeWidth={size === "large" && tone !== "same" ? 2.5 : 1.2}
              strokeDasharray={tone === "removed" ? "5 3" : undefined}
            />
            {size === "large" && (
              <>
                <text
                  x={p.x + 10}
                  y={p.y + 18}
                  fontSize="12"
                  fontWeight="600"
                  fill="var(--fg)"
                  textDecoration={tone === "removed" ? "line-through" : undefined}
                >
                  {n.id.length > 17 ? `${n.id.slice(0, 16)}…` : n.id}
                </text>
                <text x={p.x + 10} y={p.y + 34} fontSize="11" fill="var(--muted)">
                  {n.kind}
                  {tone !== "same" ? ` · ${tone}` : ""}
                </text>
              </>
            )}
          </g>
        );
      })}
    </svg>
  );
}
