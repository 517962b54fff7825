/**
 * Auto-layout of the topology with ELK's layered algorithm, left to right: producers, topics,
 * the groups and pipelines reading them (and the topics pipelines write). Parts of the graph
 * that share nothing are laid out apart and packed towards the canvas's shape, so twenty
 * unrelated topics make a grid rather than one tall column (producers writing to many topics
 * are kept out of that, see hubsOf). ELK runs in a Web Worker (elkjs's
 * own worker script), off the page's main thread; where no worker can start, in the page.
 */
import type { ELK, ElkNode } from "elkjs/lib/elk-api";
import type { TopoEdge, TopoNode } from "./graph";

export type Positions = ReadonlyMap<string, { x: number; y: number }>;

/** A producer writing to more topics than this is a hub: laid out beside the picture, not in it. */
export const HUB_FANOUT = 3;

/**
 * Producers writing to many topics (a service that writes everywhere, a load generator): with
 * their edges in the layout, everything they write to becomes one connected part, laid out as
 * one tall column no zoom makes readable. They are left out of ELK's graph and stood to the left
 * of the rest, each beside the middle of its topics.
 */
export function hubsOf(nodes: readonly TopoNode[], edges: readonly TopoEdge[]): Set<string> {
  const targets = new Map<string, Set<string>>();
  for (const e of edges) {
    if (!e.source.startsWith("producer:")) continue;
    let t = targets.get(e.source);
    if (!t) targets.set(e.source, (t = new Set()));
    t.add(e.target);
  }
  const known = new Set(nodes.map((n) => n.id));
  return new Set([...targets].filter(([id, t]) => known.has(id) && t.size > HUB_FANOUT).map(([id]) => id));
}

export function elkGraph(nodes: readonly TopoNode[], edges: readonly TopoEdge[], aspectRatio: number, hubs: ReadonlySet<string>): ElkNode {
  const ids = new Set(nodes.filter((n) => !hubs.has(n.id)).map((n) => n.id));
  const pairs = new Set<string>();
  const elkEdges: ElkNode["edges"] = [];
  for (const e of edges) {
    const key = `${e.source}>${e.target}`;
    if (!ids.has(e.source) || !ids.has(e.target) || pairs.has(key)) continue;
    pairs.add(key);
    elkEdges.push({ id: `e${elkEdges.length}`, sources: [e.source], targets: [e.target] });
  }
  return {
    id: "topology",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "RIGHT",
      "elk.spacing.nodeNode": "22",
      "elk.layered.spacing.nodeNodeBetweenLayers": "90",
      "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
      "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
      "elk.separateConnectedComponents": "true",
      "elk.spacing.componentComponent": "48",
      "elk.aspectRatio": String(Math.max(0.5, Math.min(4, aspectRatio))),
      "elk.padding": "[top=20,left=20,bottom=20,right=20]",
    },
    children: nodes.filter((n) => ids.has(n.id)).map((n) => ({ id: n.id, width: n.width, height: n.height })),
    edges: elkEdges,
  };
}

const HUB_GAP = { x: 120, y: 22 };

/** Hubs in a column left of the laid-out picture, each as near the middle of its targets as the others allow. */
export function placeHubs(
  hubs: ReadonlySet<string>,
  nodes: readonly TopoNode[],
  edges: readonly TopoEdge[],
  at: Map<string, { x: number; y: number }>,
): void {
  if (hubs.size === 0) return;
  const size = new Map(nodes.map((n) => [n.id, n]));
  const placed = [...at.values()];
  const left = placed.length ? Math.min(...placed.map((p) => p.x)) : 0;
  const wanted = [...hubs].map((id) => {
    const ys = edges.filter((e) => e.source === id && at.has(e.target)).map((e) => at.get(e.target)!.y + size.get(e.target)!.height / 2);
    const mid = ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : 0;
    return { id, y: mid - size.get(id)!.height / 2 };
  });
  wanted.sort((a, b) => a.y - b.y || (a.id < b.id ? -1 : 1));
  let next = -Infinity;
  for (const h of wanted) {
    const n = size.get(h.id)!;
    const y = Math.max(h.y, next);
    at.set(h.id, { x: Math.round(left - HUB_GAP.x - n.width), y: Math.round(y) });
    next = y + n.height + HUB_GAP.y;
  }
}

let engine: Promise<ELK> | null = null;
let inPage: Promise<ELK> | null = null;

/** ELK in the page's main thread: where no worker could start. */
function elkInPage(): Promise<ELK> {
  inPage ??= import("elkjs/lib/elk.bundled.js").then(({ default: Bundled }) => new Bundled());
  return inPage;
}

/**
 * ELK in a Web Worker running elkjs's own worker script (served as a static asset). A worker
 * that fails to start is reported by its error event, and every layout from then on runs in the page.
 */
function elkInWorker(): Promise<ELK> {
  engine ??= import("elkjs/lib/elk-api.js").then(
    ({ default: ElkApi }) =>
      new ElkApi({
        workerFactory: () => {
          const w = new Worker(new URL("../../node_modules/elkjs/lib/elk-worker.min.js", import.meta.url));
          w.addEventListener("error", () => {
            workerFailed = true;
            failWaiting.forEach((f) => f());
          });
          return w;
        },
      }),
  );
  return engine;
}

let workerFailed = typeof Worker === "undefined";
const failWaiting = new Set<() => void>();

async function runLayout(graph: ElkNode): Promise<ElkNode> {
  if (!workerFailed) {
    const elk = await elkInWorker();
    let fail = () => {};
    const failed = new Promise<null>((resolve) => (fail = () => resolve(null)));
    failWaiting.add(fail);
    try {
      const done = await Promise.race([elk.layout(graph), failed]);
      if (done) return done;
    } catch (e) {
      if (!workerFailed) throw e;
    } finally {
      failWaiting.delete(fail);
    }
  }
  return (await elkInPage()).layout(graph);
}

export async function layoutTopology(nodes: readonly TopoNode[], edges: readonly TopoEdge[], aspectRatio: number): Promise<Positions> {
  const hubs = hubsOf(nodes, edges);
  const graph = await runLayout(elkGraph(nodes, edges, aspectRatio, hubs));
  const at = new Map((graph.children ?? []).map((c) => [c.id, { x: Math.round(c.x ?? 0), y: Math.round(c.y ?? 0) }]));
  placeHubs(hubs, nodes, edges, at);
  return at;
}
