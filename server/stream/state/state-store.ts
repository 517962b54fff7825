/**
 * A node's key-value state inside one task: a map that remembers which keys changed since the
 * last commit, so a commit writes each changed key once (the latest value, or a tombstone) to
 * the changelog in the same transaction as the outputs and the input offsets — Kafka Streams'
 * record cache collapsing updates to a key between commits. Restored from the changelog when
 * the task starts (on another server, after a crash) in time proportional to the state.
 */
/** How much state one task may hold, over all its stores: keys exactly, bytes as the changelog encodes them (estimated). */
export interface StateLimits {
  keys: number;
  bytes: number;
}

/** A task's state would pass its limit: the pipeline fails, naming the node (retrying would pass it again). */
export class StateLimitError extends Error {
  constructor(
    readonly node: string,
    /** the pipeline setting that sets the limit passed */
    readonly setting: "settings.maxStateKeysPerTask" | "settings.maxStateBytesPerTask",
    message: string,
  ) {
    super(message);
    this.name = "StateLimitError";
  }
}

/**
 * What one task's stores hold together, against its limits. Keys are counted as they are added
 * (a key past the limit is refused before it is stored, so memory stays bounded, on restore too);
 * bytes are estimated as keys × the mean size of the values encoded for the changelog so far
 * (each commit and each restored record adds to the mean), and checked by the task at commit
 * and while restoring.
 */
export class StateBudget {
  keys = 0;
  private encodedBytes = 0;
  private encodedValues = 0;

  constructor(readonly limits: StateLimits) {}

  /** A value of `bytes` was encoded for (or read from) the changelog. */
  encoded(bytes: number): void {
    this.encodedBytes += bytes;
    this.encodedValues++;
  }

  /** The state's estimated size in changelog bytes. */
  get bytes(): number {
    return this.encodedValues === 0 ? 0 : Math.round((this.encodedBytes / this.encodedValues) * this.keys);
  }

  /** Throws if the estimated bytes passed the limit; `node`: the stateful node the task blames (the largest store's). */
  checkBytes(node: string): void {
    if (this.bytes > this.limits.bytes)
      throw new StateLimitError(
        node,
        "settings.maxStateBytesPerTask",
        `the state of node '${node}' passed the pipeline's limit of ${this.limits.bytes} bytes per task ` +
          `(about ${this.bytes} bytes in ${this.keys} keys; settings.maxStateBytesPerTask)`,
      );
  }
}

export class StateStore<V> {
  private readonly map = new Map<string, V>();
  private readonly dirty = new Set<string>();
  private budget: StateBudget | null = null;
  private node = "";

  /** `revive`: a value read back from the changelog → the value kept (the node's own compact shape). */
  constructor(private readonly revive?: (value: unknown) => V) {}

  /** Counts this store's keys against a task's `budget`, blaming `node` when it is passed. */
  bind(budget: StateBudget, node: string): void {
    this.budget = budget;
    this.node = node;
    budget.keys += this.map.size;
  }

  /** A new key is about to be stored: refused (before it is) if the task is at its limit. */
  private add(): void {
    const b = this.budget;
    if (!b) return;
    if (b.keys >= b.limits.keys)
      throw new StateLimitError(
        this.node,
        "settings.maxStateKeysPerTask",
        `the state of node '${this.node}' would pass the pipeline's limit of ${b.limits.keys} keys per task ` +
          `(settings.maxStateKeysPerTask): too many distinct keys (or windows) for one task`,
      );
    b.keys++;
  }

  get(key: string): V | undefined {
    return this.map.get(key);
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  set(key: string, value: V): void {
    if (!this.map.has(key)) this.add();
    this.map.set(key, value);
    this.dirty.add(key);
  }

  delete(key: string): void {
    if (this.map.delete(key)) {
      this.dirty.add(key);
      if (this.budget) this.budget.keys--;
    }
  }

  get size(): number {
    return this.map.size;
  }

  entries(): IterableIterator<[string, V]> {
    return this.map.entries();
  }

  keys(): IterableIterator<string> {
    return this.map.keys();
  }

  values(): IterableIterator<V> {
    return this.map.values();
  }

  /** Whether a key changed since the last `takeChanges`. */
  get changed(): boolean {
    return this.dirty.size > 0;
  }

  /** The keys changed since the last call, each with its value now (undefined: deleted). */
  takeChanges(): [string, V | undefined][] {
    const out: [string, V | undefined][] = [];
    for (const k of this.dirty) out.push([k, this.map.get(k)]);
    this.dirty.clear();
    return out;
  }

  /** Puts a value read back from the changelog (not a change to write again). */
  restore(key: string, value: V | undefined): void {
    if (value === undefined) {
      if (this.map.delete(key) && this.budget) this.budget.keys--;
    } else {
      if (!this.map.has(key)) this.add();
      this.map.set(key, this.revive ? this.revive(value) : value);
    }
  }
}

/** A node whose state lives in stores: what a task commits and restores for it. */
export interface Stateful {
  /** Its stores by name (unique within the node). */
  readonly stores: ReadonlyMap<string, StateStore<unknown>>;
  /** Called once the changelog is read back, to rebuild indexes kept beside the stores. */
  restored?(): void;
}
