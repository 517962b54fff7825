/**
 * String keys → small integers, off the JS heap: each key kept as its UTF-8 bytes (in a
 * `PackedValues`), found through an open-addressing hash table of typed arrays. A store's packed
 * keys cost no string, no map entry and nothing for the GC to trace, and a changelog record's key
 * goes in straight from the fetched bytes (`setBytes`), never becoming a string.
 */
import { PackedValues } from "./packed-values.ts";

const EMPTY = 0;
const DELETED = -1;

/** FNV-1a over bytes. */
function hashBytes(b: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h | 0;
}

/** The string's UTF-8 bytes (a new Buffer), or null if it is all ASCII (its char codes are its bytes). */
function nonAscii(key: string): Buffer | null {
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) >= 0x80) return Buffer.from(key, "utf8");
  return null;
}

function hashAscii(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h | 0;
}

export class PackedIndex {
  private readonly keyBytes = new PackedValues();
  /** per entry: its key's handle in `keyBytes` (-1: a free entry), its value, its key's hash */
  private entryKey = new Int32Array(1024).fill(-1);
  private entryValue = new Int32Array(1024);
  private entryHash = new Int32Array(1024);
  private entryCount = 0;
  private readonly freeEntries: number[] = [];
  /** open addressing, linear probing: EMPTY, DELETED, or entry + 1 */
  private table = new Int32Array(2048);
  private live = 0;
  private deleted = 0;
  /** where the last probe that missed would put its key */
  private slot = 0;

  get size(): number {
    return this.live;
  }

  get(key: string): number | undefined {
    const e = this.find(key);
    return e < 0 ? undefined : this.entryValue[e];
  }

  has(key: string): boolean {
    return this.find(key) >= 0;
  }

  set(key: string, value: number): void {
    const bytes = nonAscii(key);
    if (bytes) {
      this.setBytes(bytes, 0, bytes.length, value);
      return;
    }
    const h = hashAscii(key);
    const e = this.probeAscii(key, h);
    if (e >= 0) {
      this.entryValue[e] = value;
      return;
    }
    this.insert(this.slot, h, Buffer.from(key, "latin1"), 0, key.length, value);
  }

  /** Sets the key whose UTF-8 bytes are `src[start, end)`; returns the value it replaced, or -1 (a new key). */
  setBytes(src: Uint8Array, start: number, end: number, value: number): number {
    const h = hashBytes(src, start, end);
    const e = this.probeBytes(src, start, end, h);
    if (e >= 0) {
      const before = this.entryValue[e];
      this.entryValue[e] = value;
      return before;
    }
    this.insert(this.slot, h, src, start, end, value);
    return -1;
  }

  /** Removes the key; its value, or undefined if it was not there. */
  delete(key: string): number | undefined {
    const e = this.find(key);
    return e < 0 ? undefined : this.remove(e);
  }

  private remove(e: number): number {
    const value = this.entryValue[e];
    this.table[this.slotOf(e)] = DELETED;
    this.deleted++;
    this.live--;
    this.keyBytes.delete(this.entryKey[e]);
    this.entryKey[e] = -1;
    this.freeEntries.push(e);
    return value;
  }

  /** Removes the key whose UTF-8 bytes are `src[start, end)`; its value, or -1. */
  deleteBytes(src: Uint8Array, start: number, end: number): number {
    const e = this.probeBytes(src, start, end, hashBytes(src, start, end));
    return e < 0 ? -1 : this.remove(e);
  }

  *keys(): IterableIterator<string> {
    for (let e = 0; e < this.entryCount; e++) if (this.entryKey[e] >= 0) yield this.keyOf(e);
  }

  *values(): IterableIterator<number> {
    for (let e = 0; e < this.entryCount; e++) if (this.entryKey[e] >= 0) yield this.entryValue[e];
  }

  *entries(): IterableIterator<[string, number]> {
    for (let e = 0; e < this.entryCount; e++) if (this.entryKey[e] >= 0) yield [this.keyOf(e), this.entryValue[e]];
  }

  [Symbol.iterator](): IterableIterator<[string, number]> {
    return this.entries();
  }

  private keyOf(e: number): string {
    return this.keyBytes.view(this.entryKey[e]).toString("utf8");
  }

  /** The entry of `key`, or -1. */
  private find(key: string): number {
    if (this.live === 0) return -1;
    const bytes = nonAscii(key);
    if (bytes) return this.probeBytes(bytes, 0, bytes.length, hashBytes(bytes, 0, bytes.length));
    return this.probeAscii(key, hashAscii(key));
  }

  private probeAscii(key: string, h: number): number {
    return this.probe(h, key.length, key, null, 0);
  }

  private probeBytes(src: Uint8Array, start: number, end: number, h: number): number {
    return this.probe(h, end - start, null, src, start);
  }

  /**
   * The entry of the key hashed `h`, `length` bytes long — the ASCII string `key`, else the bytes
   * of `src` from `start` — or -1 (then `slot` is where to put it).
   */
  private probe(h: number, length: number, key: string | null, src: Uint8Array | null, start: number): number {
    const mask = this.table.length - 1;
    const kb = this.keyBytes;
    let free = -1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const t = this.table[i];
      if (t === EMPTY) {
        this.slot = free >= 0 ? free : i;
        return -1;
      }
      if (t === DELETED) {
        if (free < 0) free = i;
        continue;
      }
      const e = t - 1;
      if (this.entryHash[e] !== h || kb.lengthOf(this.entryKey[e]) !== length) continue;
      const c = kb.chunkOf(this.entryKey[e]);
      const at = kb.offsetOf(this.entryKey[e]);
      let j = 0;
      if (key !== null) while (j < length && c[at + j] === key.charCodeAt(j)) j++;
      else while (j < length && c[at + j] === src![start + j]) j++;
      if (j === length) return e;
    }
  }

  /** The table slot pointing at entry `e`. */
  private slotOf(e: number): number {
    const mask = this.table.length - 1;
    for (let i = this.entryHash[e] & mask; ; i = (i + 1) & mask) if (this.table[i] === e + 1) return i;
  }

  private insert(slot: number, h: number, src: Uint8Array, start: number, end: number, value: number): void {
    const e = this.freeEntries.length > 0 ? this.freeEntries.pop()! : this.newEntry();
    this.entryKey[e] = this.keyBytes.add(src, start, end);
    this.entryValue[e] = value;
    this.entryHash[e] = h;
    if (this.table[slot] === DELETED) this.deleted--;
    this.table[slot] = e + 1;
    this.live++;
    // at most half full (deleted slots count: they lengthen probes too)
    if ((this.live + this.deleted) * 2 > this.table.length)
      this.rehash(this.live * 4 > this.table.length ? this.table.length * 2 : this.table.length);
  }

  private newEntry(): number {
    if (this.entryCount === this.entryKey.length) {
      const n = this.entryCount * 2;
      const keys = new Int32Array(n).fill(-1);
      keys.set(this.entryKey);
      this.entryKey = keys;
      this.entryValue = grow(this.entryValue, n);
      this.entryHash = grow(this.entryHash, n);
    }
    return this.entryCount++;
  }

  private rehash(size: number): void {
    const table = new Int32Array(size);
    const mask = size - 1;
    for (let e = 0; e < this.entryCount; e++) {
      if (this.entryKey[e] < 0) continue;
      let i = this.entryHash[e] & mask;
      while (table[i] !== EMPTY) i = (i + 1) & mask;
      table[i] = e + 1;
    }
    this.table = table;
    this.deleted = 0;
  }
}

function grow(a: Int32Array, n: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}
