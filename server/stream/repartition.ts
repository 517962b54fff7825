/**
 * Where a pipeline needs a repartition topic, as Kafka Streams inserts one before a grouping
 * that follows `selectKey`: a stateful node (aggregate, join, dedupe) keeps its state per key in
 * one task, so every record of a key must reach the task that owns the key's partition. Records
 * whose key a node upstream changed (selectKey, a map that sets the key, flatMap) are still in
 * the partition their *input* key chose; with several partitions they are written to an
 * internal topic `pipeline-<name>-repartition-<node>-<port>`, partitioned by their new key with
 * Kafka's partitioner, and the stateful node reads them from there, in the task that owns that
 * partition. A stateful node's own output keeps its (grouped) key, so it is partitioned right
 * again: only the edges between a key change and the next stateful node cross a topic.
 */
import { STATEFUL_KINDS, type TNodeConfig, type TPipelineDefinition } from "../schemas/pipeline.ts";

/** One input port of a stateful node fed (at least partly) through a repartition topic. */
export interface RepartitionInput {
  /** the internal topic */
  topic: string;
  /** what the task passes to `Topology.process` for its records (no node id has a ':') */
  entry: string;
  /** the stateful node and its input port that read it */
  node: string;
  port: string;
  /** the edges (from node:port) whose records go through the topic; other edges into the port stay direct */
  from: { node: string; port: string }[];
  /** the source nodes the records come from (their out-of-orderness and idle timeout apply) */
  sources: string[];
}

export const repartitionTopicOf = (pipeline: string, node: string, port: string) => `pipeline-${pipeline}-repartition-${node}-${port}`;

/** Whether a node gives its records a key other than the one they came with. */
export function changesKey(c: TNodeConfig): boolean {
  return c.kind === "selectKey" || (c.kind === "map" && c.key !== undefined) || c.kind === "flatMap";
}

/**
 * Every input port of a stateful node that records with a changed key reach (a key change on the
 * way from a source, after the last stateful node), with the edges that carry them.
 */
export function repartitionInputs(def: TPipelineDefinition): RepartitionInput[] {
  const byId = new Map(def.nodes.map((n) => [n.id, n]));
  const rekeyed = new Map<string, boolean>();
  const roots = new Map<string, Set<string>>();
  const incoming = (id: string) => def.edges.filter((e) => e.to.node === id);
  // a node's output is re-keyed if it changes the key, or passes on a re-keyed input without grouping it
  const isRekeyed = (id: string, seen = new Set<string>()): boolean => {
    const known = rekeyed.get(id);
    if (known !== undefined) return known;
    if (seen.has(id)) return false; // the schema refuses cycles; this only guards the walk
    seen.add(id);
    const c = byId.get(id)?.config;
    const v = c !== undefined && (changesKey(c) || (!STATEFUL_KINDS.has(c.kind) && incoming(id).some((e) => isRekeyed(e.from.node, seen))));
    rekeyed.set(id, v);
    return v;
  };
  const sourcesOf = (id: string): Set<string> => {
    const known = roots.get(id);
    if (known) return known;
    const out = new Set<string>();
    roots.set(id, out);
    if (byId.get(id)?.config.kind === "source") out.add(id);
    for (const e of incoming(id)) for (const s of sourcesOf(e.from.node)) out.add(s);
    return out;
  };
  const found = new Map<string, RepartitionInput>();
  for (const e of def.edges) {
    const target = byId.get(e.to.node);
    if (!target || !STATEFUL_KINDS.has(target.config.kind) || !isRekeyed(e.from.node)) continue;
    const k = `${e.to.node}:${e.to.port}`;
    let input = found.get(k);
    if (!input) {
      const topic = repartitionTopicOf(def.name, e.to.node, e.to.port);
      input = { topic, entry: `repartition:${topic}`, node: e.to.node, port: e.to.port, from: [], sources: [] };
      found.set(k, input);
    }
    input.from.push({ node: e.from.node, port: e.from.port });
    for (const s of sourcesOf(e.from.node)) if (!input.sources.includes(s)) input.sources.push(s);
  }
  return [...found.values()];
}
