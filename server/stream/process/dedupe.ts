/**
 * Dedupe: a record passes unless a record with the same id (its key, or a CEL expression) passed
 * within the last `windowMs` of event time. An id is forgotten once the watermark is past its
 * last pass plus the window, so the state holds only the ids of one window. A record older than
 * that (event time + window behind the watermark) is late: its id may have been forgotten, so
 * whether it repeats cannot be told; it is counted and goes to the `late` port, never passed as
 * new.
 */
import type { TNodeConfig } from "../../schemas/pipeline.ts";
import { Expression, RESULT_TYPES } from "../expression.ts";
import { toJsonData, type StreamRecord } from "../record.ts";
import { StateStore, type Stateful } from "../state/state-store.ts";
import type { TaskTime } from "./aggregate.ts";
import type { Emit, Processor } from "./processor.ts";

type DedupeConfig = Extract<TNodeConfig, { kind: "dedupe" }>;

export class DedupeProcessor implements Processor, Stateful {
  private readonly by: Expression | null;
  /** id → event time it last passed */
  private readonly seen = new StateStore<number>();
  readonly stores: ReadonlyMap<string, StateStore<unknown>> = new Map([["seen", this.seen as StateStore<unknown>]]);
  private dropped = 0;
  private lateRecords = 0;

  constructor(
    private readonly config: DedupeConfig,
    private readonly time: TaskTime,
  ) {
    this.by = config.by ? Expression.compile(config.by, "by", RESULT_TYPES.any) : null;
  }

  /** Records dropped as duplicates. */
  get duplicates(): number {
    return this.dropped;
  }

  /** Records older than the window behind the watermark. */
  get late(): number {
    return this.lateRecords;
  }

  get stateSize(): number {
    return this.seen.size;
  }

  process(_input: string, r: StreamRecord, emit: Emit): void {
    if (r.timestamp + this.config.windowMs < this.time.watermark) {
      this.lateRecords++;
      emit("late", r);
      return;
    }
    const id = JSON.stringify(toJsonData(this.by ? this.by.evaluate(r) : r.key));
    const last = this.seen.get(id);
    if (last !== undefined && Math.abs(r.timestamp - last) <= this.config.windowMs) {
      this.dropped++;
      return;
    }
    this.seen.set(id, r.timestamp);
    emit("out", r);
  }

  onWatermark(watermark: number): void {
    for (const [id, at] of [...this.seen.entries()]) if (at + this.config.windowMs < watermark) this.seen.delete(id);
  }
}
