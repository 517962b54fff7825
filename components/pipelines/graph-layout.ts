/**
 * A layered left-to-right layout for small pictures of a pipeline (template cards, the version
 * diff): each node's column is the longest path to it from a node without inputs, its row its
 * place in that column. Pure; an edge to an unknown node is ignored, and a cycle (an unfinished
 * draft) cannot push a node past the last column.
 */
export interface Placed {
  id: string;
  column: number;
  row: number;
}

export function layoutLayers(ids: readonly string[], edges: readonly { from: string; to: string }[]): Placed[] {
  const known = new Set(ids);
  const inner = edges.filter((e) => known.has(e.from) && known.has(e.to) && e.from !== e.to);
  const column = new Map(ids.map((id) => [id, 0]));
  // Bellman-Ford style relaxation, at most |ids| rounds: a cycle stops at the bound
  for (let round = 0; round < ids.length; round++) {
    let moved = false;
    for (const e of inner) {
      const c = column.get(e.from)! + 1;
      if (c > column.get(e.to)! && c < ids.length) {
        column.set(e.to, c);
        moved = true;
      }
    }
    if (!moved) break;
  }
  const rows = new Map<number, number>();
  return ids.map((id) => {
    const c = column.get(id)!;
    const row = rows.get(c) ?? 0;
    rows.set(c, row + 1);
    return { id, column: c, row };
  });
}
