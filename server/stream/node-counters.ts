/**
 * What a topology counts as records go through it: records emitted per output port, records
 * entering per input (read by a source or table, or a failure reaching the dead-letter sink),
 * and per node the records it failed on and the late records it set aside. What an input port
 * received from inside the graph is not counted again: it is what the output ports wired to it
 * emitted (`receivedAt`). The counters are plain typed arrays at slots fixed when the topology is
 * built, so counting a record is an increment (no map, no allocation); a task takes them with each transaction and adds
 * them to the pipeline's metrics once it committed (runtime/pipeline-metrics.ts), so work that
 * was aborted and done again is counted once.
 */
import { portsOf, type TNodeKind, type TPipelineDefinition } from "../schemas/pipeline.ts";

export interface PortSlot {
  node: number;
  port: string;
}

/** Where each node's and port's counters sit, fixed per definition. */
export class CounterLayout {
  readonly nodes: readonly string[];
  readonly kinds: readonly TNodeKind[];
  readonly inputs: PortSlot[] = [];
  readonly outputs: PortSlot[] = [];
  private readonly nodeSlots = new Map<string, number>();
  private readonly inSlots = new Map<string, number>();
  private readonly outSlots = new Map<string, number>();
  /** per input slot: the output slots wired to it */
  readonly feeds: number[][] = [];

  constructor(def: Pick<TPipelineDefinition, "nodes" | "edges">) {
    this.nodes = def.nodes.map((n) => n.id);
    this.kinds = def.nodes.map((n) => n.config.kind);
    def.nodes.forEach((n, i) => {
      this.nodeSlots.set(n.id, i);
      const { inputs, outputs } = portsOf(n.config);
      // sources and tables read their topic on "in"; the dead-letter sink receives failures there
      for (const port of inputs.length > 0 ? inputs : ["in"]) this.slot(this.inSlots, this.inputs, i, port);
      for (const port of outputs) this.slot(this.outSlots, this.outputs, i, port);
    });
    for (const e of def.edges) {
      const from = this.nodeSlots.get(e.from.node);
      const to = this.nodeSlots.get(e.to.node);
      if (from === undefined || to === undefined) continue;
      const out = this.slot(this.outSlots, this.outputs, from, e.from.port);
      const into = this.slot(this.inSlots, this.inputs, to, e.to.port);
      (this.feeds[into] ??= []).push(out);
    }
  }

  private slot(index: Map<string, number>, list: PortSlot[], node: number, port: string): number {
    const key = `${this.nodes[node]}:${port}`;
    let s = index.get(key);
    if (s === undefined) {
      s = list.length;
      list.push({ node, port });
      index.set(key, s);
    }
    return s;
  }

  /** The node's slot, or -1 for a node the definition does not have. */
  node(id: string): number {
    return this.nodeSlots.get(id) ?? -1;
  }

  inSlot(node: string, port: string): number {
    return this.inSlots.get(`${node}:${port}`) ?? -1;
  }

  outSlot(node: string, port: string): number {
    return this.outSlots.get(`${node}:${port}`) ?? -1;
  }
}

export class NodeCounters {
  /** per input port slot: records entering there from outside the graph (see `receivedAt`) */
  readonly received: Float64Array;
  /** per output port slot */
  readonly emitted: Float64Array;
  /** per node: records it failed on (dead-lettered, or dropped when the pipeline has no dead-letter sink) */
  readonly errors: Float64Array;
  /** per node: records past the grace period (set aside on the late port, or dropped) */
  readonly late: Float64Array;

  constructor(readonly layout: CounterLayout) {
    this.received = new Float64Array(layout.inputs.length);
    this.emitted = new Float64Array(layout.outputs.length);
    this.errors = new Float64Array(layout.nodes.length);
    this.late = new Float64Array(layout.nodes.length);
  }

  /** Records input slot `slot` received: entering there, and emitted by the output ports wired to it. */
  receivedAt(slot: number): number {
    let n = this.received[slot];
    for (const o of this.layout.feeds[slot] ?? []) n += this.emitted[o];
    return n;
  }

  /** Adds `other`'s counts to these (same layout). */
  add(other: NodeCounters): void {
    for (const k of ["received", "emitted", "errors", "late"] as const) {
      const to = this[k];
      const from = other[k];
      for (let i = 0; i < to.length; i++) to[i] += from[i];
    }
  }

  /** The counts so far, as a copy; these start again from 0. */
  split(): NodeCounters {
    const c = this.copy();
    for (const k of ["received", "emitted", "errors", "late"] as const) this[k].fill(0);
    return c;
  }

  /** A copy (for the rate samples). */
  copy(): NodeCounters {
    const c = new NodeCounters(this.layout);
    c.received.set(this.received);
    c.emitted.set(this.emitted);
    c.errors.set(this.errors);
    c.late.set(this.late);
    return c;
  }
}
