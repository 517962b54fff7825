import { topologySnapshot, type TopologyContext } from "../present/topology-snapshot.ts";
import { ZPipelineDefinition, type TPipelineDefinition } from "../schemas/pipeline.ts";
import type { TTopologyPipeline, TTopologySnapshot } from "../schemas/topology.ts";
import { getBroker, getRuntime } from "./registry.ts";

/** Deployed definitions by `name@version` (versions never change), for the pipelines on the canvas. */
const definitions = new Map<string, TPipelineDefinition | null>();

function pipelineOf(
  name: string,
  state: TTopologyPipeline["state"],
  version: number | null,
  d: TPipelineDefinition | null,
): TTopologyPipeline {
  const inputs = new Set<string>();
  const outputs = new Set<string>();
  for (const n of d?.nodes ?? []) {
    if (n.config.kind === "source") for (const t of n.config.topics ?? []) inputs.add(t);
    if (n.config.kind === "sink" || n.config.kind === "deadLetter") outputs.add(n.config.topic);
  }
  return {
    name,
    state,
    version,
    group: `pipeline-${name}`,
    inputTopics: [...inputs].sort(),
    outputTopics: [...outputs].sort(),
    nodes: (d?.nodes ?? []).map((n) => ({ id: n.id, kind: n.config.kind })),
    edges: (d?.edges ?? []).map((e) => ({ from: e.from.node, to: e.to.node })),
  };
}

/** The pipelines with their deployed graphs (the draft's while never deployed, when it is valid). */
async function topologyPipelines(): Promise<TTopologyPipeline[]> {
  const manager = getRuntime().pipelines;
  if (!manager) return [];
  const list = await manager.list();
  const wanted = new Set<string>();
  const out: TTopologyPipeline[] = [];
  for (const p of list) {
    const ref = p.version === null ? "draft" : p.version;
    const key = `${p.name}@${ref}`;
    wanted.add(key);
    let d = ref === "draft" ? undefined : definitions.get(key);
    if (d === undefined) {
      const parsed = ZPipelineDefinition.safeParse(await manager.definitionAt(p.name, ref).catch(() => null));
      d = parsed.success ? parsed.data : null;
      if (ref !== "draft") definitions.set(key, d);
    }
    out.push(pipelineOf(p.name, p.state, p.version, d));
  }
  for (const k of definitions.keys()) if (!wanted.has(k)) definitions.delete(k);
  return out;
}

/** What the broker does not know: pipelines and which clients, groups and topics are simulations. */
async function topologyContext(): Promise<TopologyContext> {
  const simulations = getRuntime().simulations;
  return {
    pipelines: await topologyPipelines(),
    simulatedClients: simulations?.simulatedClients() ?? new Map(),
    simulatedGroups: simulations?.simulatedGroups() ?? new Map(),
    simulatedTopics: simulations?.simulatedTopics() ?? new Set(),
    scripted: simulations?.scripted() ?? { client: () => false, group: () => false },
  };
}

/** The live topology: producers, topics, groups and pipelines as the broker sees them now (bounded). */
export async function readTopology(): Promise<TTopologySnapshot> {
  return topologySnapshot(getBroker(), await topologyContext());
}
