/**
 * A node's key-value state inside one task: a map that remembers which keys changed since the
 * last commit, so a commit writes each changed key once (the latest value, or a tombstone) to
 * the changelog in the same transaction as the outputs and the input offsets — Kafka Streams'
 * record cache collapsing updates to a key between commits. Restored from the changelog when
 * the task starts (on another server, after a crash) in time proportional to the state.
 */
export class StateStore<V> {
  private readonly map = new Map<string, V>();
  private readonly dirty = new Set<string>();

  get(key: string): V | undefined {
    return this.map.get(key);
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  set(key: string, value: V): void {
    this.map.set(key, value);
    this.dirty.add(key);
  }

  delete(key: string): void {
    if (this.map.delete(key)) this.dirty.add(key);
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
    if (value === undefined) this.map.delete(key);
    else this.map.set(key, value);
  }
}

/** A node whose state lives in stores: what a task commits and restores for it. */
export interface Stateful {
  /** Its stores by name (unique within the node). */
  readonly stores: ReadonlyMap<string, StateStore<unknown>>;
  /** Called once the changelog is read back, to rebuild indexes kept beside the stores. */
  restored?(): void;
}
