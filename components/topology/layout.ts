/**
 * Auto-layout of the topology with ELK's layered algorithm, left to right: producers, topics,
 * the groups and pipelines reading them (and the topics pipelines write). Parts of the graph
 * that share nothing are laid out apart and packed towards the canvas's shape, so twenty
 * unrelated topics make a grid rather than one tall column. ELK runs in a Web Worker (elkjs's
 * own worker script), off the page's main thread; where no worker can start, in the page.
 */
import type { ELK, ElkNode } from "elkjs/lib/elk-api";
import type { TopoEdge, TopoNode } from "./graph";

export type Positions = ReadonlyMap<string, { x: number; y: number }>;

export function elkGraph(nodes: readonly TopoNode[], edges: readonly TopoEdge[], aspectRatio: number): ElkNode {
  const ids = new Set(nodes.map((n) => n.id));
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
    children: nodes.map((n) => ({ id: n.id, width: n.width, height: n.height })),
    edges: elkEdges,
  };
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
  const graph = await runLayout(elkGraph(nodes, edges, aspectRatio));
  return new Map((graph.children ?? []).map((c) => [c.id, { x: Math.round(c.x ?? 0), y: Math.round(c.y ?? 0) }]));
}
