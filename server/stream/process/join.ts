/**
 * Joins, on the record key (both inputs must be co-partitioned: the same key in the same
 * partition number, which the runtime checks or repartitions for).
 *
 * - **Stream–table** (the right input comes from a table node): a left record joins the table's
 *   current value for its key; `inner` drops it when there is none, `left` joins null. Table
 *   updates change the table and emit nothing (Kafka Streams' KStream–KTable join).
 * - **Stream–stream** within `windowMs`: a record joins every record of the other side with the
 *   same key whose event time is at most `windowMs` away, whichever arrives second emitting the
 *   pair. `left` / `outer` emit a record that never found a partner with null for the other
 *   side — once its window has closed (watermark past its time + window + grace), so no
 *   premature null result precedes a real match (as Kafka Streams does since 3.1). A record
 *   that arrives after its own window closed (event time + window + grace behind the watermark)
 *   is late: its partners may already have left the buffers or been emitted null-joined, so
 *   joining it would give a different answer by arrival order. It joins nothing, is counted and
 *   goes to the `late` port (Kafka Streams drops it as an "expired window" record).
 *
 * The joined value is the `value` expression over `left` and `right` (the two values), by
 * default `{"left": left, "right": right}`.
 */
import type { TNodeConfig } from "../../schemas/pipeline.ts";
import { Expression, ExpressionError, RESULT_TYPES } from "../expression.ts";
import { toJsonData, type StreamRecord } from "../record.ts";
import { StateStore, type Stateful } from "../state/state-store.ts";
import type { TaskTime } from "./aggregate.ts";
import type { Emit, Processor } from "./processor.ts";

type JoinConfig = Extract<TNodeConfig, { kind: "join" }>;

/** The most records one key may hold in one side's join window. */
export const MAX_JOIN_BUFFER_PER_KEY = 10_000;

export class JoinConfigError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

interface Buffered {
  record: StreamRecord;
  matched: boolean;
}

export class JoinProcessor implements Processor, Stateful {
  private readonly value: Expression | null;
  /**
   * stream–table: key → the table's current value (all of its record a join uses), committed as
   * `[value]`; a changelog written before holds the whole record (an object, never an array)
   */
  private readonly table = new StateStore<unknown>(
    (stored) => (Array.isArray(stored) ? stored[0] : (stored as StreamRecord).value),
    undefined,
    (value) => [value],
  );
  /** stream–stream: per side, key → records within the window */
  private readonly windows = { left: new StateStore<Buffered[]>(), right: new StateStore<Buffered[]>() };
  readonly stores: ReadonlyMap<string, StateStore<unknown>> = new Map<string, StateStore<unknown>>([
    ["table", this.table],
    ["left", this.windows.left as StateStore<unknown>],
    ["right", this.windows.right as StateStore<unknown>],
  ]);

  private lateRecords = 0;

  constructor(
    private readonly config: JoinConfig,
    /** whether the right input is a table (stream–table join) */
    private readonly rightIsTable: boolean,
    private readonly time: TaskTime,
  ) {
    if (rightIsTable && config.type === "outer") throw new JoinConfigError("a stream–table join is inner or left, not outer", "type");
    if (rightIsTable && config.windowMs !== undefined)
      throw new JoinConfigError("a stream–table join has no window (the table holds the latest value per key)", "windowMs");
    if (!rightIsTable && config.windowMs === undefined)
      throw new JoinConfigError("a stream–stream join needs windowMs (how far apart two records' event times may be)", "windowMs");
    this.value = config.value ? Expression.compile(config.value, "value", RESULT_TYPES.any, { left: "dyn", right: "dyn" }) : null;
  }

  /** Stream–stream records that arrived after their window (+ grace) had closed. */
  get late(): number {
    return this.lateRecords;
  }

  get stateSize(): number {
    let n = this.table.size;
    for (const side of [this.windows.left, this.windows.right]) for (const list of side.values()) n += list.length;
    return n;
  }

  process(input: string, r: StreamRecord, emit: Emit): void {
    const key = JSON.stringify(toJsonData(r.key));
    if (this.rightIsTable) {
      if (input === "right") {
        if (r.value === null) this.table.delete(key);
        else this.table.set(key, r.value);
        return;
      }
      const match = this.table.get(key);
      if (match !== undefined) emit("out", this.joined(r, r.value, match));
      else if (this.config.type === "left") emit("out", this.joined(r, r.value, null));
      return;
    }
    const windowMs = this.config.windowMs!;
    if (r.timestamp + windowMs + this.config.graceMs < this.time.watermark) {
      this.lateRecords++;
      emit("late", r);
      return;
    }
    const side = input === "left" ? "left" : "right";
    const other = side === "left" ? this.windows.right : this.windows.left;
    const mine: Buffered = { record: r, matched: false };
    const partners = other.get(key) ?? [];
    for (const b of partners) {
      if (Math.abs(b.record.timestamp - r.timestamp) > windowMs) continue;
      const [l, rr] = side === "left" ? [r, b.record] : [b.record, r];
      emit("out", this.joined(r, l.value, rr.value, Math.max(l.timestamp, rr.timestamp)));
      b.matched = true;
      mine.matched = true;
    }
    if (mine.matched) other.set(key, partners); // the partners' matched flags changed
    const buffer = this.windows[side];
    const list = buffer.get(key) ?? [];
    if (list.length >= MAX_JOIN_BUFFER_PER_KEY)
      throw new ExpressionError(`more than ${MAX_JOIN_BUFFER_PER_KEY} records of one key within the join window`, "windowMs");
    list.push(mine);
    buffer.set(key, list);
  }

  private joined(trigger: StreamRecord, left: unknown, right: unknown, timestamp = trigger.timestamp): StreamRecord {
    const value = this.value ? this.value.evaluate(trigger, { left, right }) : { left, right };
    return { ...trigger, value, timestamp };
  }

  /** Records whose window closed leave the buffers; unmatched ones emit null-joined in left/outer joins. */
  onWatermark(watermark: number, emit: Emit, fail: (r: StreamRecord, error: Error) => void): void {
    if (this.rightIsTable) return;
    const horizon = this.config.windowMs! + this.config.graceMs;
    for (const side of ["left", "right"] as const) {
      const emitsUnmatched = this.config.type === "outer" || (this.config.type === "left" && side === "left");
      for (const [key, list] of [...this.windows[side].entries()]) {
        const keep = list.filter((b) => b.record.timestamp + horizon >= watermark);
        if (emitsUnmatched) {
          for (const b of list) {
            if (b.matched || b.record.timestamp + horizon >= watermark) continue;
            const r = b.record;
            try {
              emit("out", side === "left" ? this.joined(r, r.value, null) : this.joined(r, null, r.value));
            } catch (e) {
              if (!(e instanceof ExpressionError)) throw e;
              fail(r, e);
            }
          }
        }
        if (keep.length === 0) this.windows[side].delete(key);
        else if (keep.length !== list.length) this.windows[side].set(key, keep);
      }
    }
  }
}
