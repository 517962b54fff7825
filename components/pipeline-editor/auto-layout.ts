/**
 * Auto-layout: the graph left to right in layers (ELK's layered algorithm), each node at its
 * drawn size; a long chain wraps into rows so the drawing has about the canvas's aspect ratio
 * (and stays readable when fitted). ELK is loaded when first asked.
 */
import type { EditorDoc } from "./editor-store";

const DEFAULT_SIZE = { width: 180, height: 64 };

export async function layoutDoc(
  doc: EditorDoc,
  measured: Readonly<Record<string, { width: number; height: number }>>,
  aspectRatio = 1.6,
): Promise<EditorDoc> {
  const { default: ELK } = await import("elkjs/lib/elk.bundled.js");
  const ids = new Set(doc.nodes.map((n) => n.id));
  const graph = await new ELK().layout({
    id: "pipeline",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "RIGHT",
      "elk.spacing.nodeNode": "30",
      "elk.layered.spacing.nodeNodeBetweenLayers": "50",
      "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
      "elk.layered.wrapping.strategy": "SINGLE_EDGE",
      "elk.aspectRatio": String(Math.min(4, Math.max(0.5, aspectRatio))),
    },
    children: doc.nodes.map((n) => ({ id: n.id, ...(measured[n.id] ?? DEFAULT_SIZE) })),
    edges: doc.edges
      .filter((e) => ids.has(e.from.node) && ids.has(e.to.node))
      .map((e, i) => ({ id: `e${i}`, sources: [e.from.node], targets: [e.to.node] })),
  });
  const at = new Map((graph.children ?? []).map((c) => [c.id, { x: Math.round(c.x ?? 0), y: Math.round(c.y ?? 0) }]));
  return { ...doc, nodes: doc.nodes.map((n) => ({ ...n, position: at.get(n.id) ?? n.position })) };
}
