import type { StreamRecord } from "../record.ts";

/** Where a processor sends what it emits: an output port of its node. */
export interface Emit {
  (port: string, r: StreamRecord): void;
}

/** One node's logic: a record arrives on an input port; the node emits on its output ports. */
export interface Processor {
  process(input: string, r: StreamRecord, emit: Emit): void;
  /** Stateful nodes: the task's watermark advanced (windows may close and emit). */
  onWatermark?(watermark: number, emit: Emit, fail: (r: StreamRecord, error: Error) => void): void;
  /** Nodes with a record cache: the updates held back since the last commit go out (before it). */
  flush?(emit: Emit): void;
  /** Nodes with a record cache: it holds as many updates as it may and is to be flushed now. */
  readonly cacheFull?: boolean;
}

/** The most records one flatMap may make of one input record. */
export const MAX_FLAT_MAP_OUTPUTS = 1000;
