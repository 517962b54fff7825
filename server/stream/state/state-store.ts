/**
 * A node's key-value state inside one task: a map that remembers which keys changed since the
 * last commit, so a commit writes each changed key once (the latest value, or a tombstone) to
 * the changelog in the same transaction as the outputs and the input offsets — Kafka Streams'
 * record cache collapsing updates to a key between commits. Restored from the changelog when
 * the task starts (on another server, after a crash) in time proportional to the state: keys and
 * values stay the changelog's bytes, packed off the heap (`PackedIndex`, `PackedValues`) until
 * read; beyond the changed keys and the last read (`DECODED_KEYS_PER_PROCESS` over all stores), values
 * stay packed.
 */
import { PackedIndex } from "./packed-index.ts";
import { PackedValues } from "./packed-values.ts";
import { decodeState, encodeState } from "./state-codec.ts";

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

/**
 * Decoded values all the stores of this process (or pipeline thread: each has its own heap and
 * its own count) keep of their unchanged keys together: at ~200–280 B of heap each (a value,
 * its key, the map's entry), 30–40 MB of the server's 384 MB heap. Past it, a store that decodes a
 * key drops its own first-decoded ones (packed again), so a table read often is not decoded again
 * on every read while a bound holds over the whole heap, whatever the number of stores. A
 * store's own bound (`decodedLimit`) is this unless given.
 */
export const DECODED_KEYS_PER_PROCESS = 150_000;

/** The unchanged decoded keys of this process's stores, as each last counted its own. */
const decodedKeys = { total: 0 };

/** A store gone (its task closed) no longer holds its decoded keys: they leave the count. */
const released = new FinalizationRegistry<{ counted: number }>((cell) => {
  decodedKeys.total -= cell.counted;
});

/** The unchanged decoded keys of this process's stores together (for tests and metrics). */
export const decodedKeysInProcess = (): number => decodedKeys.total;

export class StateStore<V> {
  /**
   * Decoded values: every key changed since the last commit (the record cache), and up to
   * `decodedLimit` unchanged ones, the first decoded (or stored) are the first dropped; once the
   * store held more keys than that, only keys read since their first commit.
   */
  private readonly live = new Map<string, V>();
  /**
   * Committed values as the changelog encodes them, off the heap: a restored key's until it is
   * read, and in a store holding more keys than it keeps decoded, every committed one's (a key
   * in `live` too is decoded: dropping it from `live` then costs nothing).
   */
  private readonly packed = new PackedIndex();
  private readonly bytes = new PackedValues();
  private count = 0;
  private readonly dirty = new Set<string>();
  private budget: StateBudget | null = null;
  private node = "";
  /** this store's unchanged decoded keys in the process's count (a cell: the count outlives the store until it is collected) */
  private readonly decoded = { counted: 0 };
  /** the store held more keys than `decodedLimit` at a commit: keys first committed since are kept packed only */
  private packing = false;

  /**
   * `revive`: a value read back from the changelog → the value kept (the node's own compact
   * shape); `decodedLimit`: unchanged keys kept decoded (the rest packed as changelog bytes);
   * `compact`: a value → what the changelog holds of it (default the value itself; `revive` reads
   * it back).
   */
  constructor(
    private readonly revive?: (value: unknown) => V,
    private readonly decodedLimit = DECODED_KEYS_PER_PROCESS,
    private readonly compact?: (value: V) => unknown,
  ) {
    released.register(this, this.decoded);
  }

  /** Counts this store's keys against a task's `budget`, blaming `node` when it is passed. */
  bind(budget: StateBudget, node: string): void {
    this.budget = budget;
    this.node = node;
    budget.keys += this.count;
  }

  /** A new key is about to be stored: refused (before it is) if the task is at its limit. */
  private add(): void {
    const b = this.budget;
    if (b) {
      if (b.keys >= b.limits.keys)
        throw new StateLimitError(
          this.node,
          "settings.maxStateKeysPerTask",
          `the state of node '${this.node}' would pass the pipeline's limit of ${b.limits.keys} keys per task ` +
            `(settings.maxStateKeysPerTask): too many distinct keys (or windows) for one task`,
        );
      b.keys++;
    }
    this.count++;
  }

  /** A value as the changelog holds it. */
  private encode(v: V): Buffer {
    return encodeState(this.compact ? this.compact(v) : v);
  }

  private unpack(handle: number): V {
    const v = decodeState(this.bytes.view(handle));
    return this.revive ? this.revive(v) : (v as V);
  }

  get(key: string): V | undefined {
    const v = this.live.get(key);
    if (v !== undefined || this.packed.size === 0) return v;
    const h = this.packed.get(key);
    if (h === undefined) return undefined;
    const decoded = this.unpack(h);
    this.live.set(key, decoded);
    this.trim();
    return decoded;
  }

  has(key: string): boolean {
    return this.live.has(key) || (this.packed.size > 0 && this.packed.has(key));
  }

  set(key: string, value: V): void {
    // packed bytes, if any, stay the committed value until the commit writes this one
    if (!this.live.has(key) && !(this.packed.size > 0 && this.packed.has(key))) this.add();
    this.live.set(key, value);
    this.dirty.add(key);
  }

  delete(key: string): void {
    if (this.drop(key)) this.dirty.add(key);
  }

  /** Removes a key however it is kept; whether it was there. */
  private drop(key: string): boolean {
    const wasLive = this.live.delete(key);
    const h = this.packed.size > 0 ? this.packed.get(key) : undefined;
    if (h !== undefined) {
      this.packed.delete(key);
      this.bytes.delete(h);
    }
    if (!wasLive && h === undefined) return false;
    this.count--;
    if (this.budget) this.budget.keys--;
    return true;
  }

  get size(): number {
    return this.count;
  }

  /** Every key with its value: packed values are decoded for the visit, not kept decoded. */
  entries(): IterableIterator<[string, V]> {
    return this.packed.size === 0 ? this.live.entries() : this.allEntries();
  }

  keys(): IterableIterator<string> {
    return this.packed.size === 0 ? this.live.keys() : this.allKeys();
  }

  values(): IterableIterator<V> {
    return this.packed.size === 0 ? this.live.values() : this.allValues();
  }

  private *allEntries(): IterableIterator<[string, V]> {
    yield* this.live.entries();
    for (const [k, h] of this.packed) if (!this.live.has(k)) yield [k, this.unpack(h)];
  }

  private *allKeys(): IterableIterator<string> {
    yield* this.live.keys();
    for (const k of this.packed.keys()) if (!this.live.has(k)) yield k;
  }

  private *allValues(): IterableIterator<V> {
    for (const [, v] of this.allEntries()) yield v;
  }

  /** Whether a key changed since the last `takeEncodedChanges`. */
  get changed(): boolean {
    return this.dirty.size > 0;
  }

  /** The keys changed since the last `takeEncodedChanges` (what the next commit writes). */
  get changedCount(): number {
    return this.dirty.size;
  }

  /**
   * The keys changed since the last call, each with its value encoded for the changelog (null:
   * deleted), as a commit writes them. A store holding more keys than it keeps decoded also keeps
   * these bytes packed, so dropping a decoded value later costs no encoding.
   */
  takeEncodedChanges(): [string, Buffer | null][] {
    const out: [string, Buffer | null][] = [];
    const pack = this.count > this.decodedLimit;
    for (const k of this.dirty) {
      const v = this.live.get(k);
      if (v === undefined) {
        out.push([k, null]);
        continue;
      }
      const encoded = this.encode(v);
      out.push([k, encoded]);
      // past its bound, a key committed for the first time is kept packed only, decoded again once
      // read: keys written once and never read (a table of distinct keys) cost no heap
      if ((pack || this.packed.size > 0) && this.committed(k, pack ? encoded : null)) this.live.delete(k);
    }
    this.dirty.clear();
    if (pack && !this.packing) {
      // the store just passed its bound: what it kept decoded until now goes too (packed once), so
      // that only keys read since stay decoded
      this.packing = true;
      this.trim(0);
    } else this.trim();
    return out;
  }

  /**
   * A changed key's value was committed: its packed bytes are now `encoded` (or none: it is kept
   * decoded only). Whether the key was packed for the first time.
   */
  private committed(key: string, encoded: Buffer | null): boolean {
    const h = this.packed.get(key);
    if (encoded) {
      if (h !== undefined) {
        this.bytes.replace(h, encoded);
        return false;
      }
      this.packed.set(key, this.bytes.add(encoded));
      return true;
    }
    if (h !== undefined) {
      this.packed.delete(key);
      this.bytes.delete(h);
    }
    return false;
  }

  /** Brings this store's unchanged decoded keys up to date in the process's count; returns them. */
  private recount(): number {
    const mine = Math.max(0, this.live.size - this.dirty.size);
    decodedKeys.total += mine - this.decoded.counted;
    this.decoded.counted = mine;
    return mine;
  }

  /**
   * Keeps at most `limit` unchanged keys decoded (`decodedLimit` unless told), and drops some of its own while the
   * process's stores hold more than DECODED_KEYS_PER_PROCESS together: the first in `live` go
   * (packed first, encoded, if they were not). Changed keys stay, however many (the commit takes them).
   */
  private trim(limit = this.decodedLimit): void {
    const mine = this.recount();
    let over = Math.max(mine - limit, Math.min(mine, decodedKeys.total - DECODED_KEYS_PER_PROCESS));
    if (over <= 0) return;
    // an eighth more: the walk from the map's start (past what was dropped before) is rare
    over += Math.min(mine, limit) >> 3;
    for (const [k, v] of this.live) {
      if (this.dirty.has(k)) continue;
      if (!this.packed.has(k)) this.packed.set(k, this.bytes.add(this.encode(v)));
      this.live.delete(k);
      if (--over <= 0) break;
    }
    this.recount();
  }

  /**
   * Puts a value read back from the changelog as its encoded bytes `src[start, end)` (null: a
   * tombstone), kept packed until the key is first read: restoring decodes nothing.
   */
  restoreEncoded(key: string, src: Uint8Array | null, start = 0, end = src?.length ?? 0): void {
    const k = Buffer.from(key, "utf8");
    this.restorePacked(k, 0, k.length, src, start, end);
  }

  /**
   * `restoreEncoded` with the key as UTF-8 bytes too, `keySrc[keyStart, keyEnd)`: a changelog
   * record as fetched, its key never made a string.
   */
  restorePacked(keySrc: Uint8Array, keyStart: number, keyEnd: number, src: Uint8Array | null, start: number, end: number): void {
    let wasLive = false;
    if (this.live.size > 0) {
      // decoded values too (a restore over a running store, not the way a task opens): by name
      const key = Buffer.from(keySrc.buffer, keySrc.byteOffset + keyStart, keyEnd - keyStart).toString("utf8");
      if (src === null) {
        this.drop(key);
        return;
      }
      wasLive = this.live.delete(key);
    }
    if (src === null) {
      const h = this.packed.deleteBytes(keySrc, keyStart, keyEnd);
      if (h >= 0) {
        this.bytes.delete(h);
        this.count--;
        if (this.budget) this.budget.keys--;
      }
      return;
    }
    const h = this.bytes.add(src, start, end);
    const before = this.packed.setBytes(keySrc, keyStart, keyEnd, h);
    if (before >= 0) {
      // a key the changelog holds again (not compacted yet): the later value counts
      this.bytes.delete(before);
      return;
    }
    if (wasLive) return; // counted already
    try {
      this.add();
    } catch (e) {
      // refused: the key is not kept
      this.packed.deleteBytes(keySrc, keyStart, keyEnd);
      this.bytes.delete(h);
      throw e;
    }
  }

  /** Changelog bytes the store holds packed (its values not decoded, or decoded and unchanged). */
  get packedBytes(): number {
    return this.bytes.bytes;
  }
}

/** A node whose state lives in stores: what a task commits and restores for it. */
export interface Stateful {
  /** Its stores by name (unique within the node). */
  readonly stores: ReadonlyMap<string, StateStore<unknown>>;
  /** Called once the changelog is read back, to rebuild indexes kept beside the stores. */
  restored?(): void;
}
